/**
 * The ported gRPC conformance cases (`grpc: true`) end to end: each case's Gateway is served by
 * createHandler on an h2c server (node:http2), its backends are real gRPC echo servers
 * (@grpc/grpc-js) that say who they are, and each request is a real gRPC call with the case's
 * metadata and :authority. Upstream's checks: the gRPC status, and for OK the backend reached.
 */
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node.js';
import { callUnary, echoClient, SERVICE, startEchoServer, type EchoServer } from '../support/grpc-echo.js';
import { BASE, loadCases, seeded, type ConformanceCase, type RequestExpectation } from './runner.js';

// Calls re-encrypted under a BackendTLSPolicy (`expect.backendTLS`) need TLS backends with
// certificates made in the test: test/server/grpc-backend-tls.test.ts runs them end to end.
const endToEnd = (r: RequestExpectation) => r.expect.backendTLS === undefined;
const cases = loadCases().filter((c) => c.grpc && c.skip === undefined && (c.requests ?? []).some(endToEnd));
const NS = 'gateway-conformance-infra';
const BACKENDS = ['grpc-infra-backend-v1', 'grpc-infra-backend-v2', 'grpc-infra-backend-v3'];

/** The metadata a gRPC client sends for the case's request headers (content-type is the client's own). */
function metadataOf(r: RequestExpectation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.request.headers ?? {})) if (k !== 'content-type' && v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

function methodOf(r: RequestExpectation): string {
  const prefix = `/${SERVICE}/`;
  expect(r.request.path.startsWith(prefix), `${r.request.path} calls ${SERVICE}`).toBe(true);
  return r.request.path.slice(prefix.length);
}

describe.each(cases.map((c) => [c.name, c] as const))('%s end to end with gRPC echo servers', (_name, c: ConformanceCase) => {
  const echoes = new Map<string, EchoServer>();
  let server: Http2Server;
  let address: string;
  const sessions = new Set<{ destroy(): void }>();

  beforeAll(async () => {
    for (const name of BACKENDS) echoes.set(name, await startEchoServer(name, NS));
    const [namespace, name] = c.gateway.split('/') as [string, string];
    const handler = createHandler({
      manifests: [BASE, c.manifests],
      gateway: { namespace, name },
      now: () => new Date('2026-01-01T00:00:00Z'),
      random: seeded(42),
      backends: Object.fromEntries(BACKENDS.map((b) => [`${NS}/${b}:8080`, echoes.get(b)!.url])),
    });
    server = createServer(handler);
    server.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await Promise.all([...echoes.values()].map((e) => e.close()));
  });

  for (const [i, r] of (c.requests ?? []).entries()) {
    if (!endToEnd(r)) continue;
    it(`request ${i}: ${r.request.host ?? ''}${r.request.path} ${JSON.stringify(metadataOf(r))} -> grpc-status ${r.expect.grpcStatus ?? 0}${r.expect.backend ? ` ${r.expect.backend}` : ''}`, async () => {
      const client = echoClient(address, r.request.host ?? 'gateway.example.com');
      try {
        const dist = r.expect.distribution;
        if (dist) {
          const counts: Record<string, number> = {};
          // Real calls are slower than decisions: at most 400 of them (the picks stay seeded).
          const count = Math.min(dist.count, 400);
          for (let n = 0; n < count; n++) {
            const got = await callUnary(client, methodOf(r), metadataOf(r));
            expect(got.code, got.details).toBe(0);
            counts[got.reply!.backend] = (counts[got.reply!.backend] ?? 0) + 1;
          }
          for (const [backend, share] of Object.entries(dist.shares ?? {})) {
            const n = counts[backend] ?? 0;
            if (share === 0) expect(n, `${backend} must receive nothing`).toBe(0);
            else expect(Math.abs(n / count - share), `${backend}: ${n} of ${count}`).toBeLessThanOrEqual(dist.tolerance ?? 0);
          }
          return;
        }
        const got = await callUnary(client, methodOf(r), metadataOf(r));
        expect(got.code, got.details).toBe(r.expect.grpcStatus ?? 0);
        if (got.code !== 0) return;
        const reply = got.reply!;
        expect(reply.method).toBe(r.request.path);
        if (r.expect.backend !== undefined) expect(reply.backend).toBe(r.expect.backend);
        if (r.expect.namespace !== undefined) expect(reply.namespace).toBe(r.expect.namespace);
        // HTTP/2 carries a repeated header as separate fields; the echo joins them with ", ".
        const list = (v: string | undefined) => v?.split(',').map((x) => x.trim());
        for (const [name, value] of Object.entries(r.expect.backendRequest?.headers ?? {})) expect(list(reply.headers[name.toLowerCase()]), `backend header ${name}`).toEqual(list(value));
        for (const name of r.expect.backendRequest?.absentHeaders ?? []) expect(reply.headers[name.toLowerCase()], `backend header ${name}`).toBeUndefined();
      } finally {
        client.close();
      }
    });
  }
});
