// listen(): the Gateway opens its own ports over real sockets, with certificates made in the
// test by a private CA. Spec digest 1.3 (certificate selection), 3.6 (SNI chooses the listener,
// 421 for misdirected requests), 10.4.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { listen, type ListeningGateway } from '../../src/server/node-entry.js';
import { makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { expectPortClosed, gateway, heldBackend, httpGet, httpsGet, httpsListener, named, route, type Obj } from './helpers.js';

let ca: TestCA;
let certs: Record<string, { cert: string; key: string }>;

beforeAll(() => {
  ca = makeCA();
  certs = {
    exact: ca.server(['a.example.com']),
    wild: ca.server(['*.example.com']),
    any: ca.server(['default.test']),
  };
});

function manifests(extraListeners: Obj[] = []): Obj[] {
  return [
    gateway([
      { name: 'http', port: 80, protocol: 'HTTP' },
      httpsListener('exact', 443, 'a.example.com', ['exact']),
      httpsListener('wild', 443, '*.example.com', ['wild']),
      httpsListener('any', 443, undefined, ['any']),
      ...extraListeners,
    ]),
    tlsSecret('exact', certs.exact!),
    tlsSecret('wild', certs.wild!),
    tlsSecret('any', certs.any!),
    route('r-http', 'http', 'plain'),
    route('r-exact', 'exact', 'exact'),
    route('r-wild', 'wild', 'wild'),
    route('r-any', 'any', 'any'),
  ];
}

const backends = { plain: named('plain'), exact: named('exact'), wild: named('wild'), any: named('any') };

describe('listen(): one server per listener port', () => {
  let gw: ListeningGateway;
  beforeAll(async () => {
    gw = await listen({ manifests: manifests(), backends, host: '127.0.0.1', ports: { 80: 0, 443: 0 } });
  });
  afterAll(() => gw.close());

  it('binds every distinct listener port to the port asked for (0 = ephemeral)', () => {
    expect(Object.keys(gw.ports).sort()).toEqual(['443', '80']);
    expect(gw.ports[80]).toBeGreaterThan(0);
    expect(gw.ports[443]).toBeGreaterThan(0);
    expect(gw.ports[80]).not.toBe(gw.ports[443]);
  });

  it('serves HTTP listeners over HTTP/1.1 on their port', async () => {
    const r = await httpGet(gw.ports[80]!, 'anything.test', '/x');
    expect(r).toEqual({ status: 200, body: 'plain /x' });
  });

  it('chooses the certificate and listener by SNI: exact, then wildcard, then the hostname-less listener (digest 1.3, 3.6)', async () => {
    const exact = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert });
    expect(exact.san).toBe('DNS:a.example.com');
    expect(exact.body).toBe('exact /');
    const wild = await httpsGet(gw.ports[443]!, { servername: 'b.example.com', ca: ca.cert });
    expect(wild.san).toBe('DNS:*.example.com');
    expect(wild.body).toBe('wild /');
    const deep = await httpsGet(gw.ports[443]!, { servername: 'x.y.example.com', ca: ca.cert });
    expect(deep.body).toBe('wild /');
    const any = await httpsGet(gw.ports[443]!, { servername: 'other.test', ca: ca.cert });
    expect(any.san).toBe('DNS:default.test');
    expect(any.body).toBe('any /');
  });

  it('a client that sends no SNI gets the hostname-less listener', async () => {
    const r = await httpsGet(gw.ports[443]!, { host: 'other.test', ca: ca.cert });
    expect(r.san).toBe('DNS:default.test');
    expect(r.body).toBe('any /');
  });

  it('answers 421 when the Host belongs to another listener than the SNI chose (digest 3.6)', async () => {
    const r = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', host: 'b.example.com', ca: ca.cert });
    expect(r.status).toBe(421);
    const ok = await httpsGet(gw.ports[443]!, { servername: 'b.example.com', host: 'b.example.com:443', ca: ca.cert });
    expect(ok.status).toBe(200);
  });

  it('says in status that it enforces the HTTPS listeners: TLSEnforced True ServedByListen', () => {
    const s = gw.router.statusOf('Gateway', 'gw');
    const l = s?.kind === 'Gateway' ? s.status.listeners.find((x) => x.name === 'exact') : undefined;
    expect(l?.conditions.find((c) => c.type === 'gateway-api-router.dev/TLSEnforced')).toMatchObject({ status: 'True', reason: 'ServedByListen' });
  });

  it('a plain-text request on the HTTPS port does not crash the server', async () => {
    await new Promise<void>((resolve) => {
      const s = connect(gw.ports[443]!, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.resume();
    });
    const r = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert });
    expect(r.status).toBe(200);
  });
});

describe('listen(): a server name no listener serves', () => {
  it('fails the handshake when no listener matches the SNI and none is hostname-less', async () => {
    const gw = await listen({
      manifests: [gateway([httpsListener('exact', 443, 'a.example.com', ['exact'])]), tlsSecret('exact', certs.exact!), route('r', 'exact', 'exact')],
      backends,
      host: '127.0.0.1',
      ports: { 443: 0 },
    });
    try {
      await expect(httpsGet(gw.ports[443]!, { servername: 'z.other.test', ca: ca.cert })).rejects.toThrow();
      expect((await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert })).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('listen(): reload and close', () => {
  it('opens a port for an added listener and closes the port of a removed one', async () => {
    const gw = await listen({ manifests: manifests(), backends, host: '127.0.0.1', ports: { 80: 0, 443: 0, 8080: 0 } });
    try {
      expect(gw.ports[8080]).toBeUndefined();
      const r = await gw.reload(manifests([{ name: 'http-8080', port: 8080, protocol: 'HTTP' }]));
      expect(r.ok).toBe(true);
      const p8080 = gw.ports[8080]!;
      expect(p8080).toBeGreaterThan(0);
      // No route is attached to the new listener: 404 there, while port 80 still routes.
      expect((await httpGet(p8080, 'x.test')).status).toBe(404);
      expect((await httpGet(gw.ports[80]!, 'x.test')).status).toBe(200);
      await gw.reload(manifests());
      expect(gw.ports[8080]).toBeUndefined();
      await expectPortClosed(p8080);
    } finally {
      await gw.close();
    }
  });

  it('close() lets a request in flight finish, then refuses new connections', async () => {
    const held = heldBackend();
    const gw = await listen({ manifests: manifests(), backends: { ...backends, plain: held.handler }, host: '127.0.0.1', ports: { 80: 0, 443: 0 } });
    const port = gw.ports[80]!;
    const pending = httpGet(port, 'x.test');
    await held.started;
    const closed = gw.close();
    await expectPortClosed(port);
    held.release();
    expect(await pending).toEqual({ status: 200, body: 'late' });
    await closed;
  });

  it('rejects with GW_ERR_LISTEN_FAILED when a port is taken, and closes what it opened', async () => {
    const first = await listen({ manifests: manifests(), backends, host: '127.0.0.1', ports: { 80: 0, 443: 0 } });
    try {
      await expect(listen({ manifests: manifests(), backends, host: '127.0.0.1', ports: { 80: 0, 443: first.ports[443]! } })).rejects.toMatchObject({ code: 'GW_ERR_LISTEN_FAILED' });
    } finally {
      await first.close();
    }
  });

  it('a reload whose new port cannot be bound rejects with GW_ERR_LISTEN_FAILED, keeps serving, and a later refresh() binds it', async () => {
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as AddressInfo).port;
    const gw = await listen({ manifests: manifests(), backends, host: '127.0.0.1', ports: { 80: 0, 443: 0, 8080: taken } });
    try {
      await expect(gw.reload(manifests([{ name: 'http-8080', port: 8080, protocol: 'HTTP' }]))).rejects.toMatchObject({ code: 'GW_ERR_LISTEN_FAILED', message: expect.stringContaining('listener port 8080') });
      expect(gw.ports[8080]).toBeUndefined();
      // The other ports serve the new manifests.
      expect((await httpGet(gw.ports[80]!, 'x.test')).status).toBe(200);
      await new Promise<void>((r) => blocker.close(() => r()));
      await gw.refresh();
      expect(gw.ports[8080]).toBe(taken);
      expect((await httpGet(taken, 'x.test')).status).toBe(404);
    } finally {
      await gw.close();
      if (blocker.listening) blocker.close();
    }
  });

  it('rejects a bad ports option with GW_ERR_OPTIONS_INVALID', async () => {
    await expect(listen({ manifests: manifests(), backends, ports: { 80: -1 } })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID' });
  });
});

/** One HTTPS listener for a.example.com serving this key pair. */
const m = (pair: { cert: string; key: string }) => [gateway([httpsListener('exact', 443, 'a.example.com', ['exact'])]), tlsSecret('exact', pair), route('r', 'exact', 'exact')];

describe('listen(): certificate reload under load', () => {
  it('swaps a certificate while requests run: no request fails, new handshakes get the new certificate', async () => {
    const v1 = ca.server(['a.example.com']);
    const v2 = ca.server(['a.example.com']);
    const gw = await listen({ manifests: m(v1), backends, host: '127.0.0.1', ports: { 443: 0 } });
    try {
      const port = gw.ports[443]!;
      const before = await httpsGet(port, { servername: 'a.example.com', ca: ca.cert });
      // 60 requests, 6 at a time, each on a new connection; the reload starts once 20 are done.
      const total = 60;
      let next = 0;
      let done = 0;
      let reloading: Promise<unknown> | null = null;
      const results: number[] = [];
      const fingerprints = new Set<string>();
      const worker = async () => {
        while (next < total) {
          next++;
          const r = await httpsGet(port, { servername: 'a.example.com', ca: ca.cert });
          results.push(r.status);
          fingerprints.add(r.fingerprint);
          if (++done === 20) reloading = gw.reload(m(v2));
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      expect(await reloading).toMatchObject({ ok: true });
      expect(results).toHaveLength(total);
      expect(results.every((s) => s === 200)).toBe(true);
      const after = await httpsGet(port, { servername: 'a.example.com', ca: ca.cert });
      expect(after.fingerprint).not.toBe(before.fingerprint);
      expect(fingerprints).toEqual(new Set([before.fingerprint, after.fingerprint]));
      expect(gw.ports[443]).toBe(port);
    } finally {
      await gw.close();
    }
  });

  it('a router.reload made elsewhere changes the certificate on the next handshake', async () => {
    const v1 = ca.server(['a.example.com']);
    const v2 = ca.server(['a.example.com']);
    const gw = await listen({ manifests: m(v1), backends, host: '127.0.0.1', ports: { 443: 0 } });
    try {
      const before = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert });
      expect(gw.router.reload(m(v2)).ok).toBe(true);
      const after = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert });
      expect(after.status).toBe(200);
      expect(after.fingerprint).not.toBe(before.fingerprint);
    } finally {
      await gw.close();
    }
  });
});
