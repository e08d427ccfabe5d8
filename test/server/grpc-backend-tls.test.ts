// gRPC (HTTP/2) to backends under a BackendTLSPolicy: a GRPCRoute's backend registered with an
// https URL is reached over TLS with ALPN h2, sending the policy's hostname as SNI and verifying
// the certificate against the policy's CA and hostname (or subjectAltNames), as the HTTP/1.1 path
// does (test/server/backend-tls.test.ts). A failed verification answers the call UNAVAILABLE.
// Spec: apis/v1/backendtlspolicy_types.go; digest "BackendTLSPolicy"; upstream conformance test
// BackendTLSPolicyGRPCRoute (its Services give no appProtocol: gRPC is HTTP/2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type ListeningGateway } from '../../src/server/node-entry.js';
import { caConfigMap, makeCA, type TestCA } from '../support/certs.js';
import { callUnary, echoClient, startEchoServer, SERVICE, type EchoServer } from '../support/grpc-echo.js';
import { G, gateway, type Obj } from './helpers.js';

const UNAVAILABLE = 14;
let ca: TestCA;
let backend: EchoServer;
let gw: ListeningGateway;

function policy(name: string, service: string, validation: Obj): Obj {
  return { apiVersion: G, kind: 'BackendTLSPolicy', metadata: { name, namespace: 'default' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: service }], validation } };
}

/** A GRPCRoute for `host` sending each method to its Service on port 443. */
function grpcRoute(name: string, host: string, methods: Record<string, string>): Obj {
  return {
    apiVersion: G,
    kind: 'GRPCRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: [host], rules: Object.entries(methods).map(([method, svc]) => ({ matches: [{ method: { service: SERVICE, method } }], backendRefs: [{ name: svc, port: 443 }] })) },
  };
}

const ref = (name: string) => ({ caCertificateRefs: [{ group: '', kind: 'ConfigMap', name }] });

beforeAll(async () => {
  ca = makeCA('grpc backend CA');
  const other = makeCA('another CA');
  backend = await startEchoServer('grpc-tls-backend', 'default', ca.server(['abc.example.com', 'alt.example.com']));
  const services = ['good', 'mismatch', 'sans', 'camismatch', 'none'];
  gw = await listen({
    manifests: [
      gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
      grpcRoute('tls', 'abc.example.com', { Echo: 'good', EchoTwo: 'mismatch', EchoThree: 'sans' }),
      grpcRoute('other', 'other.example.com', { Echo: 'camismatch', EchoTwo: 'none' }),
      caConfigMap('backend-ca', ca.cert),
      caConfigMap('other-ca', other.cert),
      policy('good', 'good', { ...ref('backend-ca'), hostname: 'abc.example.com' }),
      policy('mismatch', 'mismatch', { ...ref('backend-ca'), hostname: 'mismatch.example.com' }),
      policy('sans', 'sans', { ...ref('backend-ca'), hostname: 'abc.example.com', subjectAltNames: [{ type: 'Hostname', hostname: 'nope.example.com' }] }),
      policy('camismatch', 'camismatch', { ...ref('other-ca'), hostname: 'abc.example.com' }),
    ],
    backends: Object.fromEntries(services.map((s) => [`${s}:443`, backend.url])),
    host: '127.0.0.1',
    ports: { 80: 0 },
  });
});
afterAll(async () => {
  await gw?.close();
  await backend?.close();
});

async function call(host: string, method: string): Promise<{ code: number; backend?: string; details?: string }> {
  const client = echoClient(`127.0.0.1:${gw.ports[80]}`, host);
  try {
    const r = await callUnary(client, method);
    return { code: r.code, ...(r.reply ? { backend: r.reply.backend } : {}), ...(r.details !== undefined ? { details: r.details } : {}) };
  } finally {
    client.close();
  }
}

describe('gRPC to a backend under a BackendTLSPolicy (h2 over TLS)', () => {
  it('a unary call succeeds, re-encrypted with the policy hostname as SNI', async () => {
    const before = backend.sni.length;
    const r = await call('abc.example.com', 'Echo');
    expect(r).toMatchObject({ code: 0, backend: 'grpc-tls-backend' });
    expect(backend.sni.slice(before)).toEqual(['abc.example.com']);
    // The session is kept: a second call reuses it (no new TLS handshake).
    expect((await call('abc.example.com', 'Echo')).code).toBe(0);
    expect(backend.sni.length).toBe(before + 1);
  });

  it('a certificate that does not name the policy hostname is refused: UNAVAILABLE, the backend serves nothing', async () => {
    const calls = backend.calls;
    expect((await call('abc.example.com', 'EchoTwo')).code).toBe(UNAVAILABLE);
    expect(backend.calls).toBe(calls);
    // The handshake was tried with the policy's hostname, and the gateway rejected the answer:
    // the session the first test opened to the same origin under another policy is not reused.
    expect(backend.sni).toContain('mismatch.example.com');
  });

  it('with subjectAltNames the certificate must carry one of them: UNAVAILABLE', async () => {
    const calls = backend.calls;
    expect((await call('abc.example.com', 'EchoThree')).code).toBe(UNAVAILABLE);
    expect(backend.calls).toBe(calls);
  });

  it('a policy CA that did not sign the certificate is refused: UNAVAILABLE', async () => {
    const calls = backend.calls;
    expect((await call('other.example.com', 'Echo')).code).toBe(UNAVAILABLE);
    expect(backend.calls).toBe(calls);
  });

  it('without a policy the private CA is not trusted: UNAVAILABLE', async () => {
    const calls = backend.calls;
    expect((await call('other.example.com', 'EchoTwo')).code).toBe(UNAVAILABLE);
    expect(backend.calls).toBe(calls);
  });
});
