// BackendTLSPolicy (standard): the gateway proxies to an https upstream with a private CA, sends
// the policy's hostname as SNI and verifies the certificate against the ConfigMap's CA bundle and
// the hostname (or subjectAltNames). A name mismatch is refused (502). Spec: apis/v1/backendtlspolicy_types.go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { listen, type ListeningGateway } from '../../src/server/node-entry.js';
import { caConfigMap, makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { waitFor } from '../adapters/helpers.js';
import { G, gateway, httpGet, type Obj } from './helpers.js';

let ca: TestCA;
let upstream: Server;
let upstreamUrl: string;
const sniSeen: (string | false | null)[] = [];
/** TCP connections the upstream accepted (a refused policy must not open one). */
let upstreamConnections = 0;
const handler = (req: IncomingMessage, res: ServerResponse) => {
  sniSeen.push((req.socket as TLSSocket).servername);
  res.end(`secure ${req.url}`);
};

beforeAll(async () => {
  ca = makeCA('backend CA');
  upstream = createHttpsServer(ca.server(['backend.internal', 'alt.internal']), handler);
  upstream.on('connection', () => upstreamConnections++);
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

function policy(name: string, service: string, validation: Obj): Obj {
  return { apiVersion: G, kind: 'BackendTLSPolicy', metadata: { name, namespace: 'default' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: service }], validation } };
}

function manifests(policies: Obj[]): Obj[] {
  const route = (name: string, path: string, svc: string): Obj => ({
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: svc, port: 443 }] }] },
  });
  return [
    gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]),
    route('good', '/good', 'good'),
    route('mismatch', '/mismatch', 'mismatch'),
    route('sans', '/sans', 'sans'),
    route('none', '/none', 'none'),
    caConfigMap('backend-ca', ca.cert),
    ...policies,
  ];
}

const policies = (): Obj[] => [
  policy('good', 'good', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'backend.internal' }),
  policy('mismatch', 'mismatch', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'other.internal' }),
  policy('sans', 'sans', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'backend.internal', subjectAltNames: [{ type: 'Hostname', hostname: 'alt.internal' }] }),
];

let gw: ListeningGateway;
beforeAll(async () => {
  const b = { 'good:443': upstreamUrl, 'mismatch:443': upstreamUrl, 'sans:443': upstreamUrl, 'none:443': upstreamUrl };
  gw = await listen({ manifests: manifests(policies()), backends: b, host: '127.0.0.1', ports: { 80: 0 } });
});
afterAll(() => gw.close());

describe('BackendTLSPolicy', () => {
  it('verifies the upstream against the CA of the ConfigMap and sends the policy hostname as SNI', async () => {
    sniSeen.length = 0;
    expect(await httpGet(gw.ports[80]!, 'x.test', '/good/1')).toEqual({ status: 200, body: 'secure /good/1' });
    expect(sniSeen).toEqual(['backend.internal']);
  });

  it('refuses an upstream whose certificate does not name the policy hostname (SAN mismatch): 502', async () => {
    sniSeen.length = 0;
    const r = await httpGet(gw.ports[80]!, 'x.test', '/mismatch');
    expect(r.status).toBe(502);
    expect(sniSeen).toEqual([]);
  });

  it('with subjectAltNames, the certificate must carry one of them', async () => {
    expect((await httpGet(gw.ports[80]!, 'x.test', '/sans')).status).toBe(200);
  });

  it('refuses an upstream whose certificate the policy CA did not sign: 502', async () => {
    const other = makeCA('another CA');
    const g = await listen({ manifests: [...manifests([policy('good', 'good', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'other-ca' }], hostname: 'backend.internal' })]), caConfigMap('other-ca', other.cert)], backends: { 'good:443': upstreamUrl }, host: '127.0.0.1', ports: { 80: 0 } });
    try {
      expect((await httpGet(g.ports[80]!, 'x.test', '/good/1')).status).toBe(502);
    } finally {
      await g.close();
    }
  });

  it('without a policy, the private CA is not trusted: 502', async () => {
    expect((await httpGet(gw.ports[80]!, 'x.test', '/none')).status).toBe(502);
  });

  it('writes the policy status: Accepted and ResolvedRefs on the Gateway ancestor', () => {
    const s = gw.router.statusOf('BackendTLSPolicy', 'good');
    expect(s?.kind === 'BackendTLSPolicy' && s.status.ancestors.map((a) => [a.ancestorRef.name, a.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)])).toEqual([['gw', ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']]]);
  });

  it('a missing CA ConfigMap: Accepted False NoValidCACertificate, ResolvedRefs False InvalidCACertificateRef; wrong kind: InvalidKind', async () => {
    const r = await gw.reload(
      manifests([
        policy('good', 'good', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'nope' }], hostname: 'backend.internal' }),
        policy('kind', 'mismatch', { caCertificateRefs: [{ group: '', kind: 'Secret', name: 'backend-ca' }], hostname: 'backend.internal' }),
        policy('target', 'no-such-service', { wellKnownCACertificates: 'System', hostname: 'backend.internal' }),
      ]),
    );
    expect(r.ok).toBe(true);
    const conds = (name: string) => {
      const s = gw.router.statusOf('BackendTLSPolicy', name);
      return s?.kind === 'BackendTLSPolicy' ? s.status.ancestors[0]!.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`) : [];
    };
    expect(conds('good')).toEqual(['Accepted=False/NoValidCACertificate', 'ResolvedRefs=False/InvalidCACertificateRef']);
    expect(conds('kind')).toEqual(['Accepted=False/NoValidCACertificate', 'ResolvedRefs=False/InvalidKind']);
    expect(conds('target')).toEqual(['Accepted=False/TargetNotFound', 'ResolvedRefs=True/ResolvedRefs']);
    // A policy that cannot verify its backend fails its requests (502) without connecting:
    // upstream's BackendTLSPolicyInvalidCACertificateRef expects a 5xx, never an unverified exchange.
    const contacted = upstreamConnections;
    expect((await httpGet(gw.ports[80]!, 'x.test', '/good/1')).status).toBe(502);
    expect(upstreamConnections).toBe(contacted);
    await gw.reload(manifests(policies()));
  });
});

describe('request mirrors leave as requests do (digest 7.5 RequestMirror, under the BackendTLSPolicy of the mirror backend)', () => {
  it('a mirror to an https backend is verified with its policy (CA, SNI); one whose policy hostname does not match is dropped', async () => {
    const seen: string[] = [];
    const mirrored = (name: string, path: string, to: string): Obj => ({
      apiVersion: G,
      kind: 'HTTPRoute',
      metadata: { name, namespace: 'default' },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: to, port: 443 } } }], backendRefs: [{ name: 'local', port: 80 }] }] },
    });
    const g = await listen({
      manifests: [...manifests(policies()), mirrored('m-good', '/copy-good', 'good'), mirrored('m-bad', '/copy-bad', 'mismatch')],
      backends: { 'local:80': (_req, res) => res.end('local'), 'good:443': upstreamUrl, 'mismatch:443': upstreamUrl },
      host: '127.0.0.1',
      ports: { 80: 0 },
    });
    const before = sniSeen.length;
    const record = (req: IncomingMessage) => seen.push(String(req.url));
    upstream.on('request', record);
    try {
      expect(await httpGet(g.ports[80]!, 'x.test', '/copy-bad/1')).toEqual({ status: 200, body: 'local' });
      expect(await httpGet(g.ports[80]!, 'x.test', '/copy-good/1')).toEqual({ status: 200, body: 'local' });
      await waitFor(() => seen.includes('/copy-good/1'), 10_000, 'the mirror to reach the https backend');
      // The refused copy (sent first, dropped before connecting) never reaches the backend.
      expect(seen).toEqual(['/copy-good/1']);
      expect(sniSeen.slice(before)).toEqual(['backend.internal']);
    } finally {
      upstream.off('request', record);
      await g.close();
    }
  });
});

describe('the Gateway client certificate for backends (GEP-3155, spec.tls.backend.clientCertificateRef)', () => {
  it('is presented to an upstream that requires one; without it the upstream refuses (502)', async () => {
    const clientCA = makeCA('gateway client CA');
    const mtls = createHttpsServer({ ...ca.server(['backend.internal']), requestCert: true, rejectUnauthorized: true, ca: clientCA.cert }, (req, res) => {
      res.end(`hello ${(req.socket as TLSSocket).getPeerCertificate().subject.CN}`);
    });
    await new Promise<void>((r) => mtls.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(mtls.address() as AddressInfo).port}`;
    const m = (withCert: boolean): Obj[] => {
      const [gwObj, ...rest] = manifests([policy('good', 'good', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'backend.internal' })]);
      const spec = (gwObj as { spec: Obj }).spec;
      return [{ ...gwObj, spec: { ...spec, ...(withCert ? { tls: { backend: { clientCertificateRef: { name: 'gw-client' } } } } : {}) } }, ...rest, tlsSecret('gw-client', clientCA.client('the-gateway'))];
    };
    const g = await listen({ manifests: m(true), backends: { 'good:443': url }, host: '127.0.0.1', ports: { 80: 0 } });
    try {
      expect(await httpGet(g.ports[80]!, 'x.test', '/good')).toEqual({ status: 200, body: 'hello the-gateway' });
      const s = g.router.statusOf('Gateway', 'gw');
      expect(s?.kind === 'Gateway' && s.status.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'True' });
      await g.reload(m(false));
      expect((await httpGet(g.ports[80]!, 'x.test', '/good')).status).toBe(502);
    } finally {
      await g.close();
      await new Promise<void>((r) => mtls.close(() => r()));
    }
  });

  it('a reference to a missing Secret: Gateway ResolvedRefs False InvalidClientCertificateRef', async () => {
    const [gwObj, ...rest] = manifests([]);
    const spec = (gwObj as { spec: Obj }).spec;
    const g = await listen({ manifests: [{ ...gwObj, spec: { ...spec, tls: { backend: { clientCertificateRef: { name: 'nope' } } } } }, ...rest], backends: {}, host: '127.0.0.1', ports: { 80: 0 } });
    try {
      const s = g.router.statusOf('Gateway', 'gw');
      expect(s?.kind === 'Gateway' && s.status.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidClientCertificateRef' });
    } finally {
      await g.close();
    }
  });
});

describe('subjectAltNames (Extended BackendTLSPolicySANValidation; upstream backendtlspolicy-san)', () => {
  it.each([
    ['a Hostname SAN the certificate names', [{ type: 'Hostname', hostname: 'abc.example.com' }], 200],
    ['a Hostname SAN it does not name', [{ type: 'Hostname', hostname: 'dce.example.com' }], 502],
    ['a URI SAN the certificate names', [{ type: 'URI', uri: 'spiffe://abc.example.com/test-identity' }], 200],
    ['a URI SAN it does not name', [{ type: 'URI', uri: 'spiffe://def.example.com/test-identity' }], 502],
    ['several SANs, one named', [{ type: 'URI', uri: 'spiffe://abc.example.com/test-identity' }, { type: 'Hostname', hostname: 'abc.example.com' }], 200],
    ['several SANs, none named', [{ type: 'URI', uri: 'spiffe://def.example.com/test-identity' }, { type: 'Hostname', hostname: 'def.example.com' }], 502],
  ])('%s: %s', async (_label, subjectAltNames, status) => {
    // The backend's certificate, as upstream's TLS echo backend has: a DNS and a URI SAN.
    const server = createHttpsServer(ca.server(['abc.example.com', 'spiffe://abc.example.com/test-identity']), (_req, res) => res.end('san ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const g = await listen({ manifests: manifests([policy('good', 'good', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'abc.example.com', subjectAltNames })]), backends: { 'good:443': url }, host: '127.0.0.1', ports: { 80: 0 } });
    try {
      expect((await httpGet(g.ports[80]!, 'x.test', '/good')).status).toBe(status);
    } finally {
      await g.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('BackendTLSPolicy connections across reloads', () => {
  it("a reload closes the replaced policy's connections once their requests finish; handler close closes the rest", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const open = new Set<import('node:net').Socket>();
    const server = createHttpsServer(ca.server(['backend.internal']), (req, res) => {
      if (req.url === '/good/slow') void gate.then(() => res.end('slow done'));
      else res.end('ok');
    });
    server.on('secureConnection', (s: TLSSocket) => {
      open.add(s);
      s.once('close', () => open.delete(s));
    });
    // The upstream never closes idle connections itself, and undici's own idle timeout (4 s by
    // default) is longer than the waits below: only the gateway closing its Agents closes them.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const g = await listen({ manifests: manifests(policies()), backends: { 'good:443': url }, host: '127.0.0.1', ports: { 80: 0 } });
    try {
      const port = g.ports[80]!;
      // A request in flight on the first policy's connection, and one idle kept-alive connection.
      const slow = httpGet(port, 'x.test', '/good/slow');
      expect((await httpGet(port, 'x.test', '/good/1')).status).toBe(200);
      await waitFor(() => open.size === 2);
      const before = new Set(open);
      // The reload makes a new policy object (a new CA bundle): its requests use a new connection.
      expect((await g.reload(manifests([policy('good', 'good', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname: 'backend.internal', subjectAltNames: [{ type: 'Hostname', hostname: 'backend.internal' }] })]))).ok).toBe(true);
      expect((await httpGet(port, 'x.test', '/good/2')).status).toBe(200);
      // The old idle connection is closed at once (well before any keep-alive timeout); the busy one stays.
      await waitFor(() => [...before].filter((s) => open.has(s)).length === 1, 2_500);
      release();
      expect(await slow).toEqual({ status: 200, body: 'slow done' });
      await waitFor(() => [...before].every((s) => !open.has(s)));
    } finally {
      await g.close();
      await waitFor(() => open.size === 0, 2_500);
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
