// What reloads and closed handlers leave behind in a serving process: nothing of the old tables,
// a bounded set of backend connections, and, once closed, no handle that would keep the process
// alive ("Hostile input is routine. Bound every resource."). listen() is reloaded 100 times between
// two manifest sets that differ in every part a reload replaces: a ListenerSet port opened and
// closed, a BackendTLSPolicy whose settings change (its Agent is retired each time), routes added
// and removed; an h2c backend (its one session is kept, the origin stays live) and a plain backend
// serve throughout. Requests arrive with Hosts of a new length after each reload, so that the
// lookup's per-length memo sees every table. Backends are real servers on 127.0.0.1:0; the TLS
// backend's certificate is made by a private CA in the test. docs/adapters.md, "Hot reload".
import { createServer as createH2cServer, type ServerHttp2Session } from 'node:http2';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node.js';
import { listen } from '../../src/server/node-entry.js';
import type { GatewayRouter } from '../../src/index.js';
import { closeServer, listen as listenOn, waitFor } from '../adapters/helpers.js';
import { caConfigMap, makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { activeResources, alive, collect } from '../support/gc.js';
import { G, gateway, httpGet, type Obj } from './helpers.js';

let ca: TestCA;
let front: { cert: string; key: string };
/** h2c backend: sessions open now. */
const h2Open = new Set<ServerHttp2Session>();
let h2Server: ReturnType<typeof createH2cServer>;
let h2Url: string;
/** HTTP/1.1 TLS backend (reached through a BackendTLSPolicy): connections open now, and ever. */
const tlsOpen = new Set<TLSSocket>();
let tlsEver = 0;
let tlsServer: ReturnType<typeof createHttpsServer>;
let tlsUrl: string;
let plain: Server;
let plainUrl: string;

beforeAll(async () => {
  ca = makeCA('retention CA');
  front = ca.server(['main.example.com']);
  h2Server = createH2cServer();
  h2Server.on('session', (s: ServerHttp2Session) => {
    h2Open.add(s);
    s.on('close', () => h2Open.delete(s));
    s.on('error', () => {});
  });
  h2Server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200 });
    stream.end(`h2 ${headers[':path']}`);
  });
  await new Promise<void>((r) => h2Server.listen(0, '127.0.0.1', r));
  h2Url = `http://127.0.0.1:${(h2Server.address() as { port: number }).port}`;
  tlsServer = createHttpsServer({ ...ca.server(['backend.internal']) }, (req, res) => res.end(`tls ${req.url}`));
  tlsServer.on('secureConnection', (s: TLSSocket) => {
    tlsEver++;
    tlsOpen.add(s);
    s.on('close', () => tlsOpen.delete(s));
  });
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  tlsUrl = `https://127.0.0.1:${(tlsServer.address() as { port: number }).port}`;
  plain = createServer((req, res) => res.end(`plain ${req.url}`));
  plainUrl = await listenOn(plain);
});

afterAll(async () => {
  for (const s of h2Open) s.destroy();
  await new Promise((r) => h2Server?.close(r));
  tlsServer?.closeAllConnections();
  await new Promise((r) => tlsServer?.close(r));
  if (plain) await closeServer(plain);
});

const service = (name: string, port: number, appProtocol?: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port, ...(appProtocol ? { appProtocol } : {}) }] } });
const httpRoute = (name: string, prefix: string, backend: string, port: number, parent: Obj = { name: 'gw' }): Obj => ({
  apiVersion: G,
  kind: 'HTTPRoute',
  metadata: { name, namespace: 'default' },
  spec: { parentRefs: [parent], rules: [{ matches: [{ path: { type: 'PathPrefix', value: prefix } }], backendRefs: [{ name: backend, port }] }] },
});

/** Set 1 adds a ListenerSet (port 8080) and its route, and changes the BackendTLSPolicy and the plain route's name. */
function manifests(v: 0 | 1): Obj[] {
  return [
    gateway([{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'main.example.com', tls: { certificateRefs: [{ name: 'front' }] } }], { allowedListeners: { namespaces: { from: 'Same' } } }),
    tlsSecret('front', front),
    service('h2', 80, 'kubernetes.io/h2c'),
    service('secure', 443),
    service('plain', 80),
    caConfigMap('backend-ca', ca.cert),
    {
      apiVersion: G,
      kind: 'BackendTLSPolicy',
      metadata: { name: 'p', namespace: 'default' },
      spec: { targetRefs: [{ group: '', kind: 'Service', name: 'secure' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'backend.internal', ...(v === 1 ? { subjectAltNames: [{ type: 'Hostname', hostname: 'backend.internal' }] } : {}) } },
    },
    httpRoute('h2', '/h2', 'h2', 80),
    httpRoute('secure', '/tls', 'secure', 443),
    httpRoute(`plain-${v}`, '/plain', 'plain', 80),
    ...(v === 1
      ? [
          { apiVersion: G, kind: 'ListenerSet', metadata: { name: 'team', namespace: 'default' }, spec: { parentRef: { name: 'gw' }, listeners: [{ name: 'team', port: 8080, protocol: 'HTTP' }] } },
          httpRoute('team', '/', 'plain', 80, { kind: 'ListenerSet', group: 'gateway.networking.k8s.io', name: 'team' }),
        ]
      : []),
  ];
}

/** The parts of the running snapshot a reload replaces, each as a WeakRef. */
function snapshotRefs(router: GatewayRouter): WeakRef<object>[] {
  const ir = router.ir;
  return [new WeakRef(ir), ...ir.listeners.map((l) => new WeakRef(l)), new WeakRef(router.status), new WeakRef(router.serving)];
}

/** True when every kind of active resource is back to its count in `before` (or fewer). */
function settled(before: Record<string, number>): boolean {
  const now = activeResources();
  return Object.entries(now).every(([kind, n]) => n <= (before[kind] ?? 0));
}

const backends = () => ({ 'h2:80': h2Url, 'secure:443': tlsUrl, 'plain:80': plainUrl });

describe('listen(): 100 reloads, then close()', () => {
  it('old tables are collected, backend connections stay bounded, and close() leaves no handle', async () => {
    const before = activeResources();
    const tlsBefore = tlsEver;
    const g = await listen({ manifests: manifests(0), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 443: 0, 8080: 0 }, drainTimeout: 2_000 });
    const old: WeakRef<object>[][] = [];
    try {
      for (let k = 1; k <= 100; k++) {
        const v = (k % 2) as 0 | 1;
        old.push(snapshotRefs(g.router));
        expect((await g.reload(manifests(v))).ok).toBe(true);
        expect(g.ports[8080] !== undefined).toBe(v === 1);
        const host = `${'h'.repeat(k % 16)}x.test`;
        const port = g.ports[80]!;
        expect(await httpGet(port, host, `/h2/${k}`)).toEqual({ status: 200, body: `h2 /h2/${k}` });
        expect(await httpGet(port, host, `/tls/${k}`)).toEqual({ status: 200, body: `tls /tls/${k}` });
        expect(await httpGet(port, host, `/plain/${k}`)).toEqual({ status: 200, body: `plain /plain/${k}` });
        if (v === 1) expect(await httpGet(g.ports[8080]!, host, `/team/${k}`)).toEqual({ status: 200, body: `plain /team/${k}` });
        // One session to the h2c origin carries every request: the origin stays live across reloads.
        expect(h2Open.size).toBeLessThanOrEqual(1);
      }
      // Each policy change retired the Agent of the settings it replaced (a new TLS connection per
      // reload); the retired ones close once idle, leaving the current one.
      expect(tlsEver - tlsBefore).toBeGreaterThanOrEqual(100);
      await waitFor(() => tlsOpen.size <= 1, 10_000, 'the TLS connections of retired Agents to close');
      await collect();
      // A margin of two snapshots, in case V8 keeps something one collection longer.
      expect(old.filter((refs) => alive(refs) > 0).length).toBeLessThanOrEqual(2);
    } finally {
      await g.close();
    }
    await waitFor(() => h2Open.size === 0 && tlsOpen.size === 0, 10_000, 'close() to end every backend connection');
    await waitFor(() => settled(before), 10_000, `the active resources to return to ${JSON.stringify(before)} (now ${JSON.stringify(activeResources())})`);
  });
});

describe('createHandler: close()', () => {
  it('a closed handler (watching a file, with upstream pools, an HTTP/2 session and mirrors) leaves no handle, and its gateway is collected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-retention-'));
    const file = join(dir, 'routes.json');
    const m: Obj[] = [
      gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
      service('h2', 80, 'kubernetes.io/h2c'),
      service('plain', 80),
      httpRoute('h2', '/h2', 'h2', 80),
      { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'mirrored', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'h2', port: 80 } } }], backendRefs: [{ name: 'plain', port: 80 }] }] } },
    ];
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: m }));
    const before = activeResources();
    const refs: WeakRef<object>[] = [];
    try {
      await (async () => {
        const handler = createHandler({ manifests: m, watch: file, backends: { 'h2:80': h2Url, 'plain:80': plainUrl } });
        const server = createServer(handler);
        const port = Number(new URL(await listenOn(server)).port);
        for (let k = 0; k < 4; k++) {
          expect(await httpGet(port, `${'h'.repeat(k)}x.test`, `/h2/${k}`)).toEqual({ status: 200, body: `h2 /h2/${k}` });
          expect(await httpGet(port, `${'m'.repeat(k)}x.test`, `/m/${k}`)).toEqual({ status: 200, body: `plain /m/${k}` });
        }
        expect(await httpGet(port, 'x.test', '/h2/none')).toMatchObject({ status: 200 });
        await waitFor(() => handler.mirrorStats.inFlight === 0, 10_000, 'the mirror copies to finish');
        refs.push(new WeakRef(handler), new WeakRef(handler.router), ...snapshotRefs(handler.router));
        handler.close();
        await closeServer(server);
      })();
      await waitFor(() => h2Open.size === 0, 10_000, 'close() to end the HTTP/2 session');
      await waitFor(() => settled(before), 10_000, `the active resources to return to ${JSON.stringify(before)} (now ${JSON.stringify(activeResources())})`);
      await collect();
      expect(alive(refs)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
