// HTTP/2 sessions to backends under a BackendTLSPolicy across reloads: a session belongs to the
// TLS settings it was made under (policy and Gateway client certificate). A reload that keeps
// the settings keeps the session; one that replaces them closes the old session once its streams
// in flight finish; the handler's close() closes the rest; and a stream that never ends is cut
// after the drain bound. The backend is a real node:http2 TLS server that counts its sessions.
// Digest "BackendTLSPolicy"; docs/listeners.md, "BackendTLSPolicy (TLS to backends)".
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node.js';
import { H2Sessions } from '../../src/adapters/upstream/h2-sessions.js';
import { listen } from '../../src/server/node-entry.js';
import { closeServer, listen as listenOn, waitFor } from '../adapters/helpers.js';
import { caConfigMap, makeCA, type TestCA } from '../support/certs.js';
import { startH2Backend, type H2Backend } from '../support/h2-backend.js';
import { G, gateway, httpGet, type Obj } from './helpers.js';

/** A TLS HTTP/2 backend (ALPN h2 only) for `backend.internal`. */
function startTLSBackend(ca: TestCA): Promise<H2Backend> {
  return startH2Backend(createSecureServer({ ...ca.server(['backend.internal']) }), 'https', 'h2');
}

let ca: TestCA;
let backend: H2Backend;

beforeAll(async () => {
  ca = makeCA('h2 backend CA');
  backend = await startTLSBackend(ca);
});
afterAll(async () => {
  await backend?.close();
});

function manifests(validation: Obj): Obj[] {
  return [
    gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
    // appProtocol h2c and an https URL: HTTP/2 over TLS with ALPN h2 (docs/adapters.md, "h2c and gRPC backends").
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'h2', namespace: 'default' }, spec: { ports: [{ port: 443, appProtocol: 'kubernetes.io/h2c' }] } },
    { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'h2', port: 443 }] }] } },
    caConfigMap('backend-ca', ca.cert),
    { apiVersion: G, kind: 'BackendTLSPolicy', metadata: { name: 'p', namespace: 'default' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: 'h2' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], ...validation } } },
  ];
}
const plain = { hostname: 'backend.internal' };
const withSans = { hostname: 'backend.internal', subjectAltNames: [{ type: 'Hostname', hostname: 'backend.internal' }] };

describe('HTTP/2 backend sessions across reloads', () => {
  it('an unchanged policy keeps its session; a replaced one closes it once its streams finish; close() closes the rest', async () => {
    const g = await listen({ manifests: manifests(plain), backends: { 'h2:443': backend.url }, host: '127.0.0.1', ports: { 80: 0 } });
    const before = backend.all.length;
    try {
      const port = g.ports[80]!;
      expect(await httpGet(port, 'x.test', '/a')).toEqual({ status: 200, body: 'h2 /a' });
      expect(backend.all.length).toBe(before + 1);
      const first = backend.all[before]!;

      // A reload with the same settings makes new policy objects, but the session stays in use.
      expect((await g.reload(manifests(plain))).ok).toBe(true);
      expect(await httpGet(port, 'x.test', '/b')).toEqual({ status: 200, body: 'h2 /b' });
      expect(backend.all.length).toBe(before + 1);
      expect(backend.open.has(first)).toBe(true);

      // A stream in flight on the first session, then a reload that replaces the policy.
      const held = httpGet(port, 'x.test', '/held');
      await waitFor(() => backend.held() === 1, 10_000, 'the held request to reach the backend');
      expect((await g.reload(manifests(withSans))).ok).toBe(true);
      expect(await httpGet(port, 'x.test', '/c')).toEqual({ status: 200, body: 'h2 /c' });
      // The new settings got a new session; the old one is still open for its stream in flight.
      expect(backend.all.length).toBe(before + 2);
      const second = backend.all[before + 1]!;
      expect(backend.open.has(first)).toBe(true);
      backend.release();
      expect(await held).toEqual({ status: 200, body: 'released' });
      await waitFor(() => !backend.open.has(first), 10_000, 'the replaced session to close');
      expect(backend.open.has(second)).toBe(true);

      // A reload made on the router directly is followed at the next upstream request.
      expect(g.router.reload(manifests(plain)).ok).toBe(true);
      expect(await httpGet(port, 'x.test', '/d')).toEqual({ status: 200, body: 'h2 /d' });
      await waitFor(() => !backend.open.has(second), 10_000, 'the session of the replaced settings to close');
      expect(backend.all.length).toBe(before + 3);
      const third = backend.all[before + 2]!;
      expect(backend.open.has(third)).toBe(true);
    } finally {
      await g.close();
    }
    await waitFor(() => backend.all.slice(before).every((s) => !backend.open.has(s)), 10_000, 'close() to end every session');
  });
});

describe('reloads that retire sessions at once, with no request after them', () => {
  it("listen()'s reload() closes the idle session of a replaced policy", async () => {
    const g = await listen({ manifests: manifests(plain), backends: { 'h2:443': backend.url }, host: '127.0.0.1', ports: { 80: 0 } });
    const before = backend.all.length;
    try {
      expect((await httpGet(g.ports[80]!, 'x.test', '/a')).status).toBe(200);
      const first = backend.all[before]!;
      expect((await g.reload(manifests(withSans))).ok).toBe(true);
      await waitFor(() => !backend.open.has(first), 10_000, 'the reload to close the replaced session');
      expect(backend.all.length).toBe(before + 1);
    } finally {
      await g.close();
    }
  });

  it('a reload by the watch option closes the idle session of a replaced policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-h2-watch-'));
    const file = join(dir, 'routes.yaml');
    const yaml = (validation: Obj) => manifests(validation).map((d) => stringify(d)).join('---\n');
    writeFileSync(file, yaml(plain));
    const reloads: boolean[] = [];
    const handler = createHandler({ manifests: yaml(plain), watch: file, backends: { 'h2:443': backend.url }, onReload: (r) => reloads.push(r.ok) });
    const server = createServer(handler);
    const before = backend.all.length;
    try {
      const url = new URL(await listenOn(server));
      expect((await httpGet(Number(url.port), 'x.test', '/a')).status).toBe(200);
      const first = backend.all[before]!;
      writeFileSync(file, yaml(withSans));
      await waitFor(() => reloads.length > 0, 10_000, 'the watch to reload');
      expect(reloads).toEqual([true]);
      await waitFor(() => !backend.open.has(first), 10_000, 'the watch reload to close the replaced session');
    } finally {
      handler.close();
      await closeServer(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a closed session is cut after the drain bound', () => {
  it('a stream that never ends does not hold a retired session open', async () => {
    const sessions = new H2Sessions(200);
    const before = backend.all.length;
    // The test CA is trusted through a policy, as the gateway's own sessions are.
    const tls = { policy: { policy: 'default/p', ca: ca.cert, hostname: 'backend.internal', subjectAltNames: [] }, clientCertificate: null };
    const stream = sessions.sessionFor(backend.url, tls).request({ ':path': '/forever' });
    stream.on('error', () => {});
    await waitFor(() => backend.all.length === before + 1, 10_000, 'the session to open');
    const s = backend.all[before]!;
    sessions.close();
    // Graceful close alone would wait forever for '/forever'; the bound cuts it.
    await waitFor(() => !backend.open.has(s), 10_000, 'the bound to cut the session');
    expect(stream.destroyed).toBe(true);
  });

  it('a session closed with no stream in flight ends at once (the client sees GOAWAY)', async () => {
    const sessions = new H2Sessions(60_000);
    const before = backend.all.length;
    const tls = { policy: { policy: 'default/p', ca: ca.cert, hostname: 'backend.internal', subjectAltNames: [] }, clientCertificate: null };
    const session = sessions.sessionFor(backend.url, tls);
    await new Promise<void>((resolve, reject) => {
      const r = session.request({ ':path': '/x' });
      r.on('error', reject);
      r.resume();
      r.on('end', () => resolve());
    });
    expect(backend.all.length).toBe(before + 1);
    sessions.retire(new Set(), null);
    await waitFor(() => session.closed && !backend.open.has(backend.all[before]!), 10_000, 'the idle session to close');
  });
});
