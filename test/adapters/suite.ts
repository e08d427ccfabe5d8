// The end-to-end behaviour every adapter must show over a real socket: the same tests run against
// node:http (createHandler), Express (gatewayMiddleware) and Fastify (fastifyGateway + listen).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayRouter } from '../../src/index.js';
import type { HandlerOptions } from '../../src/adapters/node.js';
import { client, firstLine, generatedBody, MB, rawRequest, sleep, startSuiteServers, suiteBackends, suiteManifests, waitFor, type SuiteServers } from './helpers.js';

export interface Mounted {
  url: string;
  router: GatewayRouter;
  close(): Promise<void>;
}

/** Starts the adapter on 127.0.0.1:0 with these options. */
export type Mount = (options: HandlerOptions) => Promise<Mounted>;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type ErrorInfo = { status: number; reason: string; message: string };

export function adapterSuite(label: string, mount: Mount): void {
  describe(`${label}: end to end over a real socket`, () => {
    let s: SuiteServers;
    let gw: Mounted;
    let c: ReturnType<typeof client>;
    const errors: ErrorInfo[] = [];
    const host = { host: 'app.example.com:8080' };

    beforeAll(async () => {
      s = await startSuiteServers();
      gw = await mount({ manifests: suiteManifests(), backends: suiteBackends(s), maxMirrorsInFlight: 2, onError: (e) => errors.push(e) });
      c = client(gw.url);
    });
    afterAll(async () => {
      await c?.close();
      await gw?.close();
      await s?.close();
    });
    beforeEach(() => {
      errors.length = 0;
    });

    describe('proxying to a real upstream', () => {
      it('forwards method, path, query and body, and answers with the upstream response', async () => {
        const r = await c.send('/proxy/items?x=1&y=2', { method: 'POST', headers: { ...host, 'content-type': 'text/plain' }, body: 'hello upstream' });
        expect(r.status).toBe(200);
        const seen = JSON.parse(r.body);
        expect(seen).toMatchObject({ method: 'POST', url: '/proxy/items?x=1&y=2', body: 'hello upstream' });
        expect(r.headers['x-gw']).toBe('upstream');
      });

      it('strips hop-by-hop headers both ways and sets X-Forwarded-For/-Proto/-Host', async () => {
        const r = await rawRequest(gw.url, '/proxy/hop', {
          host: 'app.example.com:8080',
          connection: 'keep-alive, x-custom-hop',
          'x-custom-hop': 'must-not-pass',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          'proxy-authorization': 'Basic Zm9vOmJhcg==',
          'x-forwarded-for': '10.0.0.1',
          'x-kept': 'yes',
        });
        expect(r.status).toBe(200);
        const seen = JSON.parse(r.body).headers as Record<string, string>;
        for (const h of ['x-custom-hop', 'keep-alive', 'te', 'proxy-authorization']) expect(seen[h], h).toBeUndefined();
        expect(seen.connection ?? '').not.toContain('x-custom-hop');
        expect(seen['x-kept']).toBe('yes');
        expect(seen['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
        expect(seen['x-forwarded-proto']).toBe('http');
        expect(seen['x-forwarded-host']).toBe('app.example.com:8080');
        // The upstream's hop-by-hop response headers do not reach the client either.
        expect(r.headers['x-up-hop']).toBeUndefined();
        expect(r.headers['proxy-authenticate']).toBeUndefined();
        expect(r.headers['x-up-kept']).toBe('yes');
      });

      it('forwards the Host header unmodified, and the URLRewrite hostname when one is set', async () => {
        const plain = JSON.parse((await c.send('/proxy/host', { headers: host })).body);
        expect(plain.headers.host).toBe('app.example.com:8080');
        const rewritten = JSON.parse((await c.send('/rewrite-host/x', { headers: host })).body);
        expect(rewritten.headers.host).toBe('rewritten.example.com');
        expect(rewritten.headers['x-forwarded-host']).toBe('app.example.com:8080');
      });

      it('applies request and response header modifiers on the wire', async () => {
        const r = await c.send('/modify/x', { headers: host });
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body).headers['x-req']).toBe('added-by-gateway');
        expect(r.headers['x-gw']).toBe('set-by-gateway');
        expect(r.headers['x-added']).toBe('a');
        expect(r.headers['x-remove-me']).toBeUndefined();
      });

      it('answers redirects itself, with the response header modifier', async () => {
        const before = s.up.requests.length;
        const r = await c.send('/redirect/page?q=1', { headers: host });
        expect(r.status).toBe(301);
        expect(r.headers.location).toBe('http://new.example.com/redirect/page?q=1');
        expect(r.headers['x-redirected']).toBe('yes');
        expect(s.up.requests.length).toBe(before);
      });

      it('answers CORS preflights itself and adds CORS headers to actual responses', async () => {
        const before = s.up.requests.length;
        const pre = await c.send('/cors/x', { method: 'OPTIONS', headers: { ...host, origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-custom' } });
        expect(pre.status).toBe(204);
        expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(pre.headers['access-control-allow-methods']).toBe('GET, POST');
        expect(pre.headers['access-control-allow-headers']).toBe('x-custom');
        expect(pre.headers['access-control-max-age']).toBe('600');
        expect(s.up.requests.length).toBe(before);
        const actual = await c.send('/cors/x', { headers: { ...host, origin: 'https://app.example.com' } });
        expect(actual.status).toBe(200);
        expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(s.up.requests.length).toBe(before + 1);
      });

      it('serves an in-process handler through the adapter', async () => {
        const r = await c.send('/inproc/a?b=c', { headers: host });
        expect(r.status).toBe(200);
        expect(r.headers['x-inproc']).toBe('yes');
        expect(r.body).toBe('in-process GET /inproc/a?b=c host=app.example.com:8080');
      });
    });

    describe('backends and status', () => {
      it('resolves registry keys name, name:port and namespace/name:port', async () => {
        for (const name of ['proxy', 'mirrors', 'failures']) {
          const cond = gw.router.statusOf('HTTPRoute', name)?.status.parents[0]?.conditions.find((x) => x.type === 'ResolvedRefs');
          expect(cond, name).toMatchObject({ status: 'True' });
        }
        const bodies = new Set<string>();
        for (let i = 0; i < 40 && bodies.size < 2; i++) bodies.add(JSON.parse((await c.send('/split/k', { headers: host })).body).url);
        expect([...bodies].sort()).toEqual(['/blue/split/k', '/green/split/k']);
        expect(gw.router.route({ method: 'GET', path: '/proxy' })).toMatchObject({ registered: 'up' });
      });

      it('shows a referenced but unregistered backend in status (BackendNotFound) and answers its share 503', async () => {
        const cond = gw.router.statusOf('HTTPRoute', 'ghost')?.status.parents[0]?.conditions.find((x) => x.type === 'ResolvedRefs');
        expect(cond).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
        const r = await c.send('/ghost/x', { headers: host });
        expect(r.status).toBe(503);
        expect(firstLine(r.body)).toBe('503 Service Unavailable: backend-unavailable');
      });

      it("answers unmatched requests with the spec's 404 and a short body naming the reason", async () => {
        const r = await c.send('/nothing-here', { headers: host });
        expect(r.status).toBe(404);
        expect(firstLine(r.body)).toBe('404 Not Found: no-route');
        expect(r.body.length).toBeLessThan(500);
      });
    });

    describe('mirrors', () => {
      it('sends a copy of the request, body included, to the mirror', async () => {
        const r = await c.send('/mirror-copy/x?m=1', { method: 'POST', headers: host, body: 'mirrored body' });
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body).body).toBe('mirrored body');
        await waitFor(() => s.mirror.requests.some((q) => q.url === '/mirror-copy/x?m=1' && q.body === 'mirrored body'), 5_000, 'the mirror copy');
        const copy = s.mirror.requests.find((q) => q.url === '/mirror-copy/x?m=1')!;
        expect(copy.method).toBe('POST');
      });

      it('a request served in process is mirrored with its body (digest 7.5)', async () => {
        const r = await c.send('/inproc-mirror/x', { method: 'PUT', headers: host, body: 'in-process body' });
        expect(r.status).toBe(200);
        expect(r.body).toContain('in-process PUT /inproc-mirror/x');
        await waitFor(() => s.mirror.requests.some((q) => q.url === '/inproc-mirror/x' && q.body === 'in-process body'), 5_000, 'the mirror copy with the body');
      });

      it('never fails the main response when the mirror refuses connections', async () => {
        for (let i = 0; i < 3; i++) {
          const r = await c.send('/mirror-dead/x', { headers: host });
          expect(r.status).toBe(200);
        }
        expect(errors).toEqual([]);
      });

      it('never delays the main response: a mirror that neither reads nor answers does not hold up an upload', async () => {
        const start = Date.now();
        const r = await c.send('/mirror-stuck/echo', { method: 'POST', headers: host, body: generatedBody(128 * 1024) });
        expect(r.status).toBe(200);
        expect(r.body.length).toBe(128 * 1024);
        // A mirror that held the main response up would hold it forever; the bound only has to be
        // finite, and is wide so that a loaded machine cannot fail it.
        expect(Date.now() - start).toBeLessThan(20_000);
        await waitFor(() => s.stuckMirror.requests.length > 0, 5_000, 'the stuck mirror to be reached');
      });

      it('an 8 MB upload (over maxMirrorBodyBytes) is served at once and its mirror skipped (digest 7.5)', async () => {
        const r = await c.send('/mirror-copy/echo', { method: 'POST', headers: host, body: generatedBody(8 * MB) });
        expect(r.status).toBe(200);
        expect(r.body.length).toBe(8 * MB);
        const probe = await c.send('/mirror-copy/after', { headers: host });
        expect(probe.status).toBe(200);
        await waitFor(() => s.mirror.requests.some((q) => q.url === '/mirror-copy/after'), 5_000, 'the next mirror');
        expect(s.mirror.requests.some((q) => q.url === '/mirror-copy/echo')).toBe(false);
      });

      it('keeps mirrors in flight bounded (maxMirrorsInFlight) and frees slots when mirrors finish', async () => {
        // Free the slots other tests may hold.
        s.stuckMirror.server.closeAllConnections();
        s.hangMirror.server.closeAllConnections();
        await sleep(100);
        const before = s.hangMirror.requests.length;
        for (let i = 0; i < 5; i++) {
          const start = Date.now();
          const r = await c.send(`/mirror-hang/${i}`, { headers: host });
          expect(r.status).toBe(200);
          expect(Date.now() - start).toBeLessThan(10_000); // the hanging mirror never answers: any finite bound shows it did not wait
        }
        await waitFor(() => s.hangMirror.requests.length === before + 2, 3_000, 'two mirrors in flight');
        await sleep(200);
        expect(s.hangMirror.requests.length).toBe(before + 2);
        // The hanging mirrors fail; their slots free up and the next mirror goes out.
        s.hangMirror.server.closeAllConnections();
        await sleep(100);
        expect((await c.send('/mirror-hang/again', { headers: host })).status).toBe(200);
        await waitFor(() => s.hangMirror.requests.some((q) => q.url === '/mirror-hang/again'), 3_000, 'a mirror after slots were freed');
        s.hangMirror.server.closeAllConnections();
      });
    });

    describe('timeouts and upstream failures', () => {
      it('answers 504 when the rule timeouts.request elapses, and aborts the upstream request', async () => {
        // /slow answers 200 after 3 s: a 504 proves the rule's timer fired first, with no clock here.
        const r = await c.send('/t-request/slow?a=1', { headers: host });
        expect(r.status).toBe(504);
        expect(firstLine(r.body)).toBe('504 Gateway Timeout: request-timeout');
        await waitFor(() => s.up.closedEarly.includes('/t-request/slow?a=1'), 3_000, 'the upstream request to close');
        expect(errors).toMatchObject([{ status: 504, reason: 'request-timeout' }]);
      });

      it('answers 504 when the rule timeouts.backendRequest elapses, and aborts the upstream request', async () => {
        // /slow answers 200 after 3 s: a 504 proves the rule's timer fired first, with no clock here.
        const r = await c.send('/t-backend/slow?b=1', { headers: host });
        expect(r.status).toBe(504);
        expect(firstLine(r.body)).toBe('504 Gateway Timeout: upstream-timeout');
        await waitFor(() => s.up.closedEarly.includes('/t-backend/slow?b=1'), 3_000, 'the upstream request to close');
        expect(errors).toMatchObject([{ status: 504, reason: 'upstream-timeout' }]);
      });

      it('answers 503 when the upstream refuses the connection', async () => {
        const r = await c.send('/dead/x', { headers: host });
        expect(r.status).toBe(503);
        expect(firstLine(r.body)).toBe('503 Service Unavailable: upstream-refused');
        expect(r.body.length).toBeLessThan(500);
        expect(errors).toMatchObject([{ status: 503, reason: 'upstream-refused' }]);
      });

      it('answers 502 when the upstream destroys the socket before answering', async () => {
        const r = await c.send('/proxy/destroy', { headers: host });
        expect(r.status).toBe(502);
        expect(firstLine(r.body)).toBe('502 Bad Gateway: upstream-failure');
        expect(errors).toMatchObject([{ status: 502, reason: 'upstream-failure' }]);
      });

      it('cuts the client connection when the upstream fails mid-body (no silently truncated 200)', async () => {
        await expect(c.send('/proxy/destroy-mid', { headers: host })).rejects.toThrow();
        // The gateway still serves the next request.
        expect((await c.send('/proxy/after', { headers: host })).status).toBe(200);
      });
    });

    describe('client abort', () => {
      it('aborts the upstream request when the client leaves before the response', async () => {
        const ac = new AbortController();
        const p = c.send('/proxy/hang?abort=1', { headers: host, signal: ac.signal }).catch((e: unknown) => e);
        await waitFor(() => s.up.requests.some((q) => q.url === '/proxy/hang?abort=1'), 3_000, 'the upstream to get the request');
        ac.abort();
        await p;
        await waitFor(() => s.up.closedEarly.includes('/proxy/hang?abort=1'), 3_000, 'the upstream request to close');
        await sleep(50);
        expect(errors).toEqual([]);
      });

      it('aborts the upstream request when the client leaves mid-body', async () => {
        const ac = new AbortController();
        const r = await request(`${gw.url}/proxy/stall?abort=2`, { headers: host, signal: ac.signal, dispatcher: c.dispatcher });
        expect(r.statusCode).toBe(200);
        const chunks = r.body[Symbol.asyncIterator]();
        expect(String((await chunks.next()).value)).toContain('first chunk');
        ac.abort();
        await r.body.text().catch(() => undefined);
        await waitFor(() => s.up.closedEarly.includes('/proxy/stall?abort=2'), 3_000, 'the upstream request to close');
        await sleep(50);
        expect(errors).toEqual([]);
      });
    });

    describe('streaming and reload', () => {
      it('streams a 100 MB body up and back with flat memory', async () => {
        const size = 100 * MB;
        // Warm up the allocator with a smaller stream first, then measure. gc() runs before every
        // sample so the numbers show what is retained, not garbage waiting for collection.
        expect((await c.send('/proxy/echo', { method: 'POST', headers: host, body: generatedBody(8 * MB) })).body.length).toBe(8 * MB);
        gc();
        const base = process.memoryUsage();
        let peakRss = base.rss;
        let peakHeap = base.heapUsed;
        const sampler = setInterval(() => {
          gc();
          const m = process.memoryUsage();
          peakRss = Math.max(peakRss, m.rss);
          peakHeap = Math.max(peakHeap, m.heapUsed);
        }, 100);
        try {
            const r = await request(`${gw.url}/proxy/echo`, { method: 'POST', headers: host, body: generatedBody(size), dispatcher: c.dispatcher });
          expect(r.statusCode).toBe(200);
          let received = 0;
          for await (const chunk of r.body) received += (chunk as Buffer).length;
          expect(received).toBe(size);
          expect(s.up.echoed).toBe(size);
        } finally {
          clearInterval(sampler);
        }
        expect(peakRss - base.rss, `RSS grew by ${((peakRss - base.rss) / MB).toFixed(1)} MB`).toBeLessThan(50 * MB);
        expect(peakHeap - base.heapUsed, `heap grew by ${((peakHeap - base.heapUsed) / MB).toFixed(1)} MB`).toBeLessThan(50 * MB);
      });

      it('reloads with changed weights under load without a single failed request', async () => {
        let stop = false;
        let ok = 0;
        const failures: string[] = [];
        const seen = new Set<string>();
        const worker = async () => {
          while (!stop) {
            try {
              const r = await c.send('/split/load', { headers: host });
              if (r.status !== 200) failures.push(`${r.status} ${firstLine(r.body)}`);
              else {
                ok++;
                seen.add(JSON.parse(r.body).url);
              }
            } catch (e) {
              failures.push(String(e));
            }
          }
        };
        const workers = Array.from({ length: 16 }, worker);
        const plan: [number, number][] = [[1, 0], [0, 1], [90, 10], [10, 90], [1, 0], [0, 1]];
        // Each phase lasts until 20 more requests have succeeded (not a fixed time: on a loaded
        // machine a time window may see almost none), or until one fails.
        const phase = async () => {
          const target = ok + 20;
          while (ok < target && failures.length === 0) await sleep(10);
        };
        try {
          for (const w of plan) {
            await phase();
            const result = gw.router.reload(suiteManifests(w));
            expect(result.ok).toBe(true);
          }
          await phase();
        } finally {
          stop = true;
          await Promise.all(workers);
        }
        expect(failures).toEqual([]);
        expect(ok).toBeGreaterThanOrEqual(140);
        expect([...seen].sort()).toEqual(['/blue/split/load', '/green/split/load']);
        // The last reload (0/100) is in force: every request goes to green.
        for (let i = 0; i < 10; i++) expect(JSON.parse((await c.send('/split/load', { headers: host })).body).url).toBe('/green/split/load');
        gw.router.reload(suiteManifests());
      });
    });
  });
}
