// Backend HTTP/2 sessions that a reload or close() retires are bounded by listen()'s drainTimeout
// (one setting for the client side and the backend side), and plain h2c sessions to a backend
// that a reload stops reaching over HTTP/2 (its Service's appProtocol changed, or no route sends
// there) are closed at the reload, gracefully: streams in flight finish first.
// The backend is a real node:http2 h2c server; every wait is on its set of open sessions (kept by
// each session's 'close' event), with a margin far below the 30 s default drain bound and far
// above the bound the test sets.
// docs/listeners.md, `drainTimeout`; docs/adapters.md, "h2c and gRPC backends".
import { createServer } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/server/node-entry.js';
import { waitFor } from '../adapters/helpers.js';
import { startH2Backend, type H2Backend } from '../support/h2-backend.js';
import { G, gateway, httpGet, type Obj } from './helpers.js';

let backend: H2Backend;
beforeAll(async () => {
  backend = await startH2Backend(createServer(), 'http', 'h2c');
});
afterAll(async () => {
  await backend?.close();
});

/** One HTTP listener, one route to Service `app` port 8080, whose appProtocol is `appProtocol` (none: HTTP/1.1). */
function manifests(appProtocol: string | undefined, routed = true): Obj[] {
  return [
    gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: 'default' }, spec: { ports: [{ port: 8080, ...(appProtocol ? { appProtocol } : {}) }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other', namespace: 'default' }, spec: { ports: [{ port: 8080 }] } },
    { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: routed ? 'app' : 'other', port: 8080 }] }] } },
  ];
}
const H2C = 'kubernetes.io/h2c';
const other = (_req: unknown, res: { end(s: string): void }) => res.end('other');

/** Sends a request that the backend never answers; resolves with how it ended (never rejects). */
function pending(port: number, path: string): Promise<string> {
  return httpGet(port, 'x.test', path).then(
    (r) => `status ${r.status}`,
    (e: Error) => `error ${e.message}`,
  );
}

describe('plain h2c sessions at a reload that stops reaching the backend over HTTP/2', () => {
  it('a reload keeping appProtocol h2c keeps the session; one removing it closes the session once its stream finishes', async () => {
    const g = await listen({ manifests: manifests(H2C), backends: { 'app:8080': backend.url, 'other:8080': other }, host: '127.0.0.1', ports: { 80: 0 } });
    const before = backend.all.length;
    try {
      const port = g.ports[80]!;
      expect(await httpGet(port, 'x.test', '/a')).toEqual({ status: 200, body: 'h2c /a' });
      expect(backend.all.length).toBe(before + 1);
      const first = backend.all[before]!;

      // Same protocol: the session is kept and reused.
      expect((await g.reload(manifests(H2C))).ok).toBe(true);
      expect(await httpGet(port, 'x.test', '/b')).toEqual({ status: 200, body: 'h2c /b' });
      expect(backend.all.length).toBe(before + 1);
      expect(backend.open.has(first)).toBe(true);

      // A stream in flight, then a reload after which the Service is spoken to over HTTP/1.1.
      const held = httpGet(port, 'x.test', '/held');
      await waitFor(() => backend.held() === 1, 10_000, 'the held request to reach the backend');
      expect((await g.reload(manifests(undefined))).ok).toBe(true);
      // Graceful: GOAWAY was sent, but the stream in flight keeps the session open.
      expect(backend.open.has(first)).toBe(true);
      backend.release();
      expect(await held).toEqual({ status: 200, body: 'released' });
      await waitFor(() => !backend.open.has(first), 10_000, 'the session the reload retired');
      expect(backend.all.length).toBe(before + 1);
    } finally {
      await g.close();
    }
  });

  it('a reload after which no route sends to the backend closes its idle session at once', async () => {
    const g = await listen({ manifests: manifests(H2C), backends: { 'app:8080': backend.url, 'other:8080': other }, host: '127.0.0.1', ports: { 80: 0 } });
    const before = backend.all.length;
    try {
      const port = g.ports[80]!;
      expect(await httpGet(port, 'x.test', '/a')).toEqual({ status: 200, body: 'h2c /a' });
      const first = backend.all[before]!;
      expect((await g.reload(manifests(H2C, false))).ok).toBe(true);
      // Without the reload, only the 60 s idle timeout would close it.
      await waitFor(() => !backend.open.has(first), 10_000, 'the idle session of the unrouted backend');
      expect(await httpGet(port, 'x.test', '/a')).toEqual({ status: 200, body: 'other' });
    } finally {
      await g.close();
    }
  });
});

describe("listen()'s drainTimeout bounds the backend sessions it retires", () => {
  // 300 ms bound; 10 s margin. Without the setting reaching the sessions, they would stay 30 s.
  const drainTimeout = 300;

  it('a session retired by a reload with a stream that never ends is cut after drainTimeout', async () => {
    const g = await listen({ manifests: manifests(H2C), backends: { 'app:8080': backend.url, 'other:8080': other }, host: '127.0.0.1', ports: { 80: 0 }, drainTimeout });
    const before = backend.all.length;
    try {
      const port = g.ports[80]!;
      const stuck = pending(port, '/forever');
      await waitFor(() => backend.all.length === before + 1, 10_000, 'the session to open');
      const first = backend.all[before]!;
      expect((await g.reload(manifests(undefined))).ok).toBe(true);
      await waitFor(() => !backend.open.has(first), 10_000, 'the retired session with a stream that never ends');
      // The client is answered (a gateway error) or cut: never left waiting.
      expect(await stuck).toMatch(/^(status 50[234]|error )/);
    } finally {
      await g.close();
    }
  });

  // The ports' own cut (the client connection, after drainTimeout) also ends the stream, so this
  // checks that close() leaves no backend session open, whichever bound ends it first.
  it('close() cuts the backend sessions after drainTimeout too', async () => {
    const g = await listen({ manifests: manifests(H2C), backends: { 'app:8080': backend.url, 'other:8080': other }, host: '127.0.0.1', ports: { 80: 0 }, drainTimeout });
    const before = backend.all.length;
    const stuck = pending(g.ports[80]!, '/forever');
    await waitFor(() => backend.all.length === before + 1, 10_000, 'the session to open');
    const first = backend.all[before]!;
    await g.close();
    await waitFor(() => !backend.open.has(first), 10_000, 'the session close() drains');
    expect(await stuck).toMatch(/^(status 50[234]|error )/);
  });
});
