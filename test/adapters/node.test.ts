// gateway-api-router/node: createHandler on a node:http server, end to end.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type HandlerOptions } from '../../src/adapters/node.js';
import { client, closeServer, configMapVolume, firstLine, gatewayObj, listen, routeObj, sleep, startUpstream, waitFor, watchYaml as yamlFor, type Upstream } from './helpers.js';
import { adapterSuite } from './suite.js';

async function serve(options: HandlerOptions) {
  const handler = createHandler(options);
  const server = createServer(handler);
  const url = await listen(server);
  return { url, handler, router: handler.router, close: async () => { handler.close(); await closeServer(server); } };
}

adapterSuite('node:http createHandler', serve);

const prefix = (value: string) => [{ path: { type: 'PathPrefix', value } }];

describe('node:http createHandler: in-process backends', () => {
  let gw: Awaited<ReturnType<typeof serve>>;
  let c: ReturnType<typeof client>;
  const errors: { status: number; reason: string }[] = [];
  const mirrored: { method: string; url: string; body: string }[] = [];
  let lateWrites = 0;

  const slow = (req: IncomingMessage, res: ServerResponse) => {
    const t = setTimeout(() => {
      lateWrites++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`late ${req.url}`);
    }, 600);
    t.unref();
  };

  beforeAll(async () => {
    gw = await serve({
      manifests: [
        gatewayObj(),
        routeObj('inproc', [
          { matches: prefix('/t-request'), backendRefs: [{ name: 'slow', port: 80 }], timeouts: { request: '200ms' } },
          { matches: prefix('/t-backend'), backendRefs: [{ name: 'slow', port: 80 }], timeouts: { backendRequest: '200ms' } },
          { matches: prefix('/throws'), backendRefs: [{ name: 'throws', port: 80 }] },
          { matches: prefix('/rejects'), backendRefs: [{ name: 'rejects', port: 80 }] },
          {
            matches: prefix('/app'),
            filters: [
              { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } },
              { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-gw', value: 'set' }], remove: ['x-secret'] } },
              { type: 'RequestMirror', requestMirror: { backendRef: { name: 'recorder', port: 80 } } },
            ],
            backendRefs: [{ name: 'app', port: 80 }],
          },
        ]),
      ],
      backends: {
        slow,
        throws: () => {
          throw new Error('boom');
        },
        rejects: async () => {
          throw new Error('async boom');
        },
        app: (req, res) => {
          res.setHeader('x-secret', 'hidden');
          res.writeHead(200, { 'x-gw': 'backend', 'content-type': 'text/plain' });
          res.end(`app saw ${req.url}`);
        },
        recorder: (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (x: Buffer) => chunks.push(x));
          req.on('end', () => {
            mirrored.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() });
            res.end('ignored');
          });
        },
      },
      onError: (e) => errors.push(e),
    });
    c = client(gw.url);
  });
  afterAll(async () => {
    await c?.close();
    await gw?.close();
  });

  it('answers 504 on the request timeout and survives the handler answering late', async () => {
    const r = await c.send('/t-request/a');
    expect(r.status).toBe(504);
    expect(firstLine(r.body)).toBe('504 Gateway Timeout: request-timeout');
    await waitFor(() => lateWrites >= 1, 3_000, 'the late answer');
    await sleep(20);
    expect((await c.send('/app/after')).status).toBe(200);
  });

  it('answers 504 on the backendRequest timeout', async () => {
    const r = await c.send('/t-backend/b');
    expect(r.status).toBe(504);
    expect(firstLine(r.body)).toBe('504 Gateway Timeout: backend-timeout');
    await waitFor(() => lateWrites >= 2, 3_000, 'the late answer');
    await sleep(20);
    expect(errors.map((e) => e.reason)).toEqual(expect.arrayContaining(['request-timeout', 'backend-timeout']));
  });

  it('answers 500 naming the reason when the handler throws or rejects', async () => {
    for (const path of ['/throws', '/rejects']) {
      const r = await c.send(path);
      expect(r.status).toBe(500);
      expect(firstLine(r.body)).toBe('500 Internal Server Error: backend-error');
    }
  });

  it('presents the filtered request, applies response header modifiers to writeHead, and mirrors in-process', async () => {
    const r = await c.send('/app/page?x=1');
    expect(r.status).toBe(200);
    expect(r.body).toBe('app saw /page?x=1');
    expect(r.headers['x-gw']).toBe('set');
    expect(r.headers['x-secret']).toBeUndefined();
    await waitFor(() => mirrored.some((m) => m.url === '/page?x=1'), 3_000, 'the in-process mirror');
  });
});

describe('node:http createHandler: mirror bound, existing router, options', () => {
  let hang: Upstream;
  let up: Upstream;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    [hang, up] = await Promise.all([startUpstream(), startUpstream()]);
    hang.server.removeAllListeners('request');
    hang.server.on('request', (req: IncomingMessage) => {
      hang.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
    });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  afterAll(async () => {
    await Promise.all([hang.close(), up.close()]);
  });

  const mirrorManifests = [
    gatewayObj(),
    routeObj('m', [{ matches: prefix('/'), filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'hang', port: 80 } } }], backendRefs: [{ name: 'up', port: 80 }] }]),
  ];

  it('counts mirrors in flight and drops those over maxMirrorsInFlight', async () => {
    const gw = await serve({ manifests: mirrorManifests, backends: { up: up.url, hang: hang.url }, maxMirrorsInFlight: 1 });
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    for (let i = 0; i < 4; i++) expect((await c.send(`/m${i}`)).status).toBe(200);
    expect(gw.handler.mirrorStats).toEqual({ inFlight: 1, dropped: 3, skipped: 0 });
    hang.server.closeAllConnections();
    await waitFor(() => gw.handler.mirrorStats.inFlight === 0, 3_000, 'the mirror to fail');
    expect((await c.send('/m-next')).status).toBe(200);
    expect(gw.handler.mirrorStats).toEqual({ inFlight: 1, dropped: 3, skipped: 0 });
    hang.server.closeAllConnections();
    await waitFor(() => gw.handler.mirrorStats.inFlight === 0, 3_000, 'the mirror to fail');
  });

  it('skips and counts a mirror whose request body is over maxMirrorBodyBytes; a body within it is carried (digest 7.5)', async () => {
    const gw = await serve({ manifests: mirrorManifests, backends: { up: up.url, hang: hang.url }, maxMirrorBodyBytes: 16 });
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    const before = hang.requests.length;
    expect((await c.send('/big', { method: 'POST', body: 'x'.repeat(17) })).status).toBe(200);
    await waitFor(() => gw.handler.mirrorStats.skipped === 1, 3_000, 'the skipped mirror to be counted');
    expect((await c.send('/small', { method: 'POST', body: 'x'.repeat(16) })).status).toBe(200);
    await waitFor(() => hang.requests.length === before + 1, 3_000, 'the small mirror');
    expect(hang.requests.at(-1)!.url).toBe('/small');
    expect(gw.handler.mirrorStats).toMatchObject({ skipped: 1, dropped: 0 });
    hang.server.closeAllConnections();
  });

  it('accepts an existing router via { router, backends }', async () => {
    const { createGateway } = await import('../../src/index.js');
    const router = createGateway({ manifests: mirrorManifests, backends: {} });
    expect(router.route({ method: 'GET', path: '/x' })).toMatchObject({ type: 'respond', status: 500, reason: 'invalid-backend' });
    const gw = await serve({ router, backends: { up: up.url, hang: hang.url } });
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    expect(gw.handler.router).toBe(router);
    const r = await c.send('/existing');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).url).toBe('/existing');
    hang.server.closeAllConnections();
  });

  it('refuses malformed backend keys and values with GW_ERR_OPTIONS_INVALID', () => {
    expect(() => createHandler({ manifests: mirrorManifests, backends: { 'Not A Key': up.url } })).toThrow(expect.objectContaining({ code: 'GW_ERR_OPTIONS_INVALID' }));
    expect(() => createHandler({ manifests: mirrorManifests, backends: { up: 'ftp://127.0.0.1' } })).toThrow(expect.objectContaining({ code: 'GW_ERR_OPTIONS_INVALID' }));
  });
});

describe('node:http createHandler: watch', () => {
  let dir: string;
  const opened: { close(): Promise<void> }[] = [];
  const which = (name: string) => (_req: IncomingMessage, res: ServerResponse) => {
    res.end(name);
  };
  const backends = { one: which('one'), two: which('two'), three: which('three') };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-watch-'));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Polls GET /w until it answers `want`. */
  const expectServes = async (c: ReturnType<typeof client>, want: string) => {
    let last = '';
    const end = Date.now() + 5_000;
    while (last !== want && Date.now() < end) {
      last = (await c.send('/w')).body;
      if (last !== want) await sleep(25);
    }
    expect(last).toBe(want);
  };

  it('reloads when the watched file changes; a bad file keeps the running table; close() stops watching', async () => {
    const sub = mkdtempSync(join(dir, 'file-'));
    const file = join(sub, 'routes.yaml');
    writeFileSync(file, yamlFor('one'));
    const reloads: boolean[] = [];
    const gw = await serve({ manifests: readFileSync(file, 'utf8'), watch: file, backends, onReload: (r) => reloads.push(r.ok) });
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    await expectServes(c, 'one');
    writeFileSync(file, yamlFor('two'));
    await expectServes(c, 'two');
    writeFileSync(file, 'kind: [broken');
    await waitFor(() => reloads.includes(false), 5_000, 'the failed reload');
    expect((await c.send('/w')).body).toBe('two');
    gw.handler.close();
    writeFileSync(file, yamlFor('three'));
    await sleep(300);
    expect((await c.send('/w')).body).toBe('two');
  });

  for (const target of ['file', 'directory'] as const) {
    it(`reloads on a ConfigMap-style ..data symlink swap (watching the ${target})`, async () => {
      const vol = configMapVolume(dir, yamlFor('one'));
      const path = target === 'file' ? join(vol.root, 'routes.yaml') : vol.root;
      const gw = await serve({ manifests: yamlFor('one'), watch: path, backends });
      const c = client(gw.url);
      opened.push(gw, { close: () => c.close() });
      await expectServes(c, 'one');
      vol.swap(yamlFor('two'));
      await expectServes(c, 'two');
      vol.swap(yamlFor('three'));
      await expectServes(c, 'three');
    });
  }
});
