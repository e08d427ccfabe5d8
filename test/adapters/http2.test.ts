// HTTP/2 serving and gRPC end to end over real sockets: createHandler on node:http2 (h2c, and TLS
// with allowHTTP1 and a certificate made in the test), Fastify with `http2: true` (h2c, and over TLS with `https`); gRPC calls
// with @grpc/grpc-js as client and server through GRPCRoutes (unary, server streaming, bidi,
// header routing, weighted split, UNIMPLEMENTED, UNAVAILABLE, DEADLINE_EXCEEDED).
import { connect, createSecureServer, createServer as createH2Server, type Http2SecureServer, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type HandlerOptions } from '../../src/adapters/node.js';
import { fastifyGateway } from '../../src/adapters/fastify.js';
import { ALPN_H2_AND_HTTP1, createSecureHttp2Server } from '../../src/adapters/serving/http2.js';
import { seeded } from '../support/random.js';
import { makeCA, tlsSecret } from '../support/certs.js';
import { callUnary, EchoClient, echoClient, grpc, SERVICE, startEchoServer, type EchoReply, type EchoServer } from '../support/grpc-echo.js';
import { G, refusedUrl, startUpstream, type Obj, type Upstream } from './helpers.js';
import { selfSignedCert } from './protocol-helpers.js';

interface Mounted {
  /** `host:port` for gRPC clients. */
  address: string;
  close(): Promise<void>;
}

async function listenH2(server: Http2Server | Http2SecureServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeH2(server: Http2Server | Http2SecureServer, sessions: Set<{ destroy(): void }>): Promise<void> {
  for (const s of sessions) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function track(server: Http2Server | Http2SecureServer): Set<{ destroy(): void }> {
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return sessions;
}

const h2cMounts: [string, (o: HandlerOptions) => Promise<Mounted>][] = [
  [
    'node:http2 (h2c)',
    async (o) => {
      const server = createH2Server(createHandler(o));
      const sessions = track(server);
      return { address: await listenH2(server), close: () => closeH2(server, sessions) };
    },
  ],
  [
    'Fastify (http2: true)',
    async (o) => {
      const app: FastifyInstance = Fastify({ logger: false, http2: true, forceCloseConnections: true }) as unknown as FastifyInstance;
      await app.register(fastifyGateway, o);
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { address: `127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    },
  ],
];

const rpc = (service: string, method?: string) => ({ method: { service, ...(method ? { method } : {}) } });

function grpcManifests(): Obj[] {
  const route = (name: string, spec: Obj): Obj => ({ apiVersion: G, kind: 'GRPCRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], ...spec } });
  const svc = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 8080, appProtocol: 'kubernetes.io/h2c' }] } });
  return [
    { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'router', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    svc('echo-v1'),
    svc('echo-v2'),
    svc('echo-dead'),
    route('echo', {
      hostnames: ['grpc.example.com'],
      rules: [
        { matches: [{ ...rpc(SERVICE, 'Echo'), headers: [{ name: 'version', value: 'two' }] }], backendRefs: [{ name: 'echo-v2', port: 8080 }] },
        {
          matches: [rpc(SERVICE, 'Echo')],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-through', value: 'gateway' }] } }, { type: 'RequestMirror', requestMirror: { backendRef: { name: 'echo-v2', port: 8080 } } }],
          backendRefs: [{ name: 'echo-v1', port: 8080 }],
        },
        { matches: [rpc(SERVICE, 'EchoTwo')], backendRefs: [{ name: 'echo-v1', port: 8080, weight: 3 }, { name: 'echo-v2', port: 8080, weight: 1 }] },
        { matches: [rpc(SERVICE, 'Count'), rpc(SERVICE, 'Chat')], backendRefs: [{ name: 'echo-v1', port: 8080 }] },
        { matches: [rpc(SERVICE, 'EchoThree')], backendRefs: [{ name: 'echo-dead', port: 8080 }] },
      ],
    }),
    // GRPCRoute has no timeouts; an HTTPRoute on another host may carry gRPC with one.
    { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'slow', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['slow.example.com'], rules: [{ backendRefs: [{ name: 'echo-v1', port: 8080 }], timeouts: { backendRequest: '300ms' } }] } },
  ];
}

describe.each(h2cMounts)('%s: gRPC through GRPCRoutes', (_label, mount) => {
  let v1: EchoServer;
  let v2: EchoServer;
  let gw: Mounted;
  let c: ReturnType<typeof echoClient>;

  beforeAll(async () => {
    [v1, v2] = await Promise.all([startEchoServer('echo-v1', 'default'), startEchoServer('echo-v2', 'default')]);
    gw = await mount({ manifests: grpcManifests(), random: seeded(3), backends: { 'echo-v1': v1.url, 'echo-v2': v2.url, 'echo-dead': await refusedUrl() } });
    c = echoClient(gw.address, 'grpc.example.com');
  });
  afterAll(async () => {
    c?.close();
    await gw?.close();
    await Promise.all([v1?.close(), v2?.close()]);
  });

  it('unary: routed by method, filters applied, mirrored (digest 9.1, 7.2, 7.5)', async () => {
    const before = v2.calls;
    const r = await callUnary(c, 'Echo', { 'x-client': 'yes' }, 'hello');
    expect(r.code).toBe(0);
    expect(r.reply).toMatchObject({ backend: 'echo-v1', method: `/${SERVICE}/Echo`, message: 'hello' });
    expect(r.reply!.headers).toMatchObject({ 'x-client': 'yes', 'x-through': 'gateway' });
    // The mirror copy reaches echo-v2 (its answer is discarded).
    for (let i = 0; i < 100 && v2.calls === before; i++) await new Promise((res) => setTimeout(res, 20));
    expect(v2.calls).toBe(before + 1);
  });

  it('routes by header: version: two goes to echo-v2', async () => {
    const r = await callUnary(c, 'Echo', { version: 'two' });
    expect(r.reply?.backend).toBe('echo-v2');
  });

  it('splits EchoTwo 3:1 between echo-v1 and echo-v2 (weights, digest 6)', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 80; i++) {
      const r = await callUnary(c, 'EchoTwo');
      counts[r.reply!.backend] = (counts[r.reply!.backend] ?? 0) + 1;
    }
    expect(counts['echo-v1']).toBeGreaterThan(45);
    expect(counts['echo-v2']).toBeGreaterThan(8);
  });

  it('server streaming: every message and the OK status arrive', async () => {
    const replies: EchoReply[] = [];
    const code = await new Promise<number>((resolve) => {
      const call = (c as unknown as { Count(req: unknown): grpc.ClientReadableStream<EchoReply> }).Count({ n: 5 });
      call.on('data', (m: EchoReply) => replies.push(m));
      call.on('status', (s: grpc.StatusObject) => resolve(s.code));
      call.on('error', () => {});
    });
    expect(code).toBe(0);
    expect(replies.map((r) => r.message)).toEqual(['0', '1', '2', '3', '4']);
  });

  it('bidirectional streaming: each message is answered, in order', async () => {
    const call = (c as unknown as { Chat(): grpc.ClientDuplexStream<unknown, EchoReply> }).Chat();
    const got: string[] = [];
    const done = new Promise<number>((resolve) => {
      call.on('status', (s: grpc.StatusObject) => resolve(s.code));
      call.on('error', () => {});
    });
    call.on('data', (m: EchoReply) => {
      got.push(m.message!);
      if (got.length === 3) call.end();
    });
    for (const m of ['a', 'b', 'c']) call.write({ message: m });
    expect(await done).toBe(0);
    expect(got).toEqual(['echo: a', 'echo: b', 'echo: c']);
  });

  it('answers a method no rule matches, and a host no route has, with UNIMPLEMENTED (digest 9.1, 3.5)', async () => {
    const other = echoClient(gw.address, 'other.example.com');
    try {
      expect((await callUnary(other, 'Echo')).code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      other.close();
    }
    const unknown = new grpc.Client(gw.address, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.com' });
    const code = await new Promise<number>((resolve) =>
      unknown.makeUnaryRequest('/pkg.Nope/Missing', (x: Buffer) => x, (x: Buffer) => x, Buffer.from('{}'), (err) => resolve(err?.code ?? 0)),
    );
    unknown.close();
    expect(code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('answers a backend timeout with DEADLINE_EXCEEDED', async () => {
    const slow = echoClient(gw.address, 'slow.example.com');
    try {
      expect((await callUnary(slow, 'Slow')).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    } finally {
      slow.close();
    }
  });

  it('answers an unreachable backend with UNAVAILABLE', async () => {
    const r = await callUnary(c, 'EchoThree');
    expect(r.code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe('node:http2 with TLS (allowHTTP1) and a certificate made in the test', () => {
  let up: Upstream;
  let server: Http2SecureServer;
  let sessions: Set<{ destroy(): void }>;
  let address: string;
  const { key, cert } = selfSignedCert();

  beforeAll(async () => {
    up = await startUpstream();
    const manifests: Obj[] = [
      { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'router', listeners: [{ name: 'https', port: 443, hostname: 'app.example.com', protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } }] } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } },
      { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/web' } }], backendRefs: [{ name: 'up', port: 80 }] }] } },
    ];
    server = createSecureServer({ key, cert, allowHTTP1: true }, createHandler({ manifests, backends: { up: up.url } }));
    sessions = track(server);
    address = await listenH2(server);
  });
  afterAll(async () => {
    await closeH2(server, sessions);
    await up.close();
  });

  it('serves HTTP/2 over TLS: :authority is the host, no pseudo-header reaches the HTTP/1.1 upstream', async () => {
    const session = connect(`https://${address}`, { ca: cert, servername: 'app.example.com' });
    try {
      const { headers, body } = await new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/web/h2?x=1', ':authority': 'app.example.com', 'content-type': 'text/plain' });
        const chunks: Buffer[] = [];
        let h: IncomingHttpHeaders = {};
        s.on('response', (rh) => (h = rh));
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => resolve({ headers: h, body: Buffer.concat(chunks).toString() }));
        s.on('error', reject);
        s.end('h2 body');
      });
      expect(headers[':status']).toBe(200);
      const seen = JSON.parse(body);
      expect(seen).toMatchObject({ method: 'POST', url: '/web/h2?x=1', body: 'h2 body' });
      expect(seen.headers.host).toBe('app.example.com');
      expect(Object.keys(seen.headers).filter((k) => k.startsWith(':'))).toEqual([]);
      // No HTTP/1.1 connection-specific header comes back over HTTP/2 (node would refuse to send one).
      expect(headers.connection).toBeUndefined();
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 over TLS on the same server (allowHTTP1), and answers 404 for an unknown host', async () => {
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(`https://${address}/web/h1`, { ca: cert, servername: 'app.example.com', headers: { host }, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end();
      });
    const ok = await get('app.example.com');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).url).toBe('/web/h1');
    expect((await get('other.example.com')).status).toBe(404);
  });
});

// listen() serves HTTPS ports through createSecureHttp2Server (ALPN h2 and http/1.1): each
// connection routes on its listener port, whether it speaks HTTP/2 (the session is the key) or
// HTTP/1.1 (the socket is), and HTTP/1.1 upgrades reach handler.upgrade.
describe('createSecureHttp2Server: ALPN h2 and http/1.1, listener port per connection, upgrades', () => {
  const { key, cert } = selfSignedCert();
  const servers: { server: Http2SecureServer; sessions: Set<{ destroy(): void }>; address: string }[] = [];
  const listenerOn = (port: number): Obj => ({ name: `https-${port}`, port, hostname: 'app.example.com', protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } });
  const routeTo = (name: string, section: string): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'gw', sectionName: section }], rules: [{ backendRefs: [{ name, port: 80 }] }] } });
  const manifests: Obj[] = [
    { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'router', listeners: [listenerOn(443), listenerOn(8443)] } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } },
    routeTo('on-443', 'https-443'),
    routeTo('on-8443', 'https-8443'),
  ];
  const answer = (name: string) =>
    Object.assign((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => res.end(`${name} over HTTP/${req.httpVersion}`), {
      upgrade: (_req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex) => socket.end(`HTTP/1.1 400 Bad Request\r\nx-backend: ${name}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`),
    });
  const handler = createHandler({ manifests, backends: { 'on-443': answer('on-443'), 'on-8443': answer('on-8443') } });

  beforeAll(async () => {
    for (const port of [443, 8443]) {
      const server = createSecureHttp2Server(handler, { key, cert }, port);
      const sessions = track(server);
      servers.push({ server, sessions, address: await listenH2(server) });
    }
  });
  afterAll(async () => {
    for (const s of servers) await closeH2(s.server, s.sessions);
    handler.close();
  });

  const h2Get = (address: string) => {
    const session = connect(`https://${address}`, { ca: cert, servername: 'app.example.com' });
    return new Promise<string>((resolve, reject) => {
      const s = session.request({ ':path': '/', ':authority': 'app.example.com' });
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => resolve(Buffer.concat(chunks).toString()));
      s.on('error', reject);
    }).finally(() => session.close());
  };
  const h1Get = (address: string) =>
    new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`https://${address}/`, { ca: cert, servername: 'app.example.com', headers: { host: 'app.example.com' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      });
      req.on('error', reject);
      req.end();
    });

  it('offers h2 first, then http/1.1', async () => {
    expect(ALPN_H2_AND_HTTP1).toEqual(['h2', 'http/1.1']);
    const alpn = await new Promise<string | false>((resolve, reject) => {
      const [host, port] = servers[0]!.address.split(':');
      const s = tlsConnect({ host, port: Number(port), ca: cert, servername: 'app.example.com', ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve(s.alpnProtocol ?? false);
        s.end();
      });
      s.on('error', reject);
    });
    expect(alpn).toBe('h2');
  });

  it('routes an HTTP/2 request on the listener port of its connection (the session carries it)', async () => {
    expect(await h2Get(servers[0]!.address)).toBe('on-443 over HTTP/2.0');
    expect(await h2Get(servers[1]!.address)).toBe('on-8443 over HTTP/2.0');
  });

  it('routes an HTTP/1.1 request on the listener port of its connection', async () => {
    expect(await h1Get(servers[0]!.address)).toBe('on-443 over HTTP/1.1');
    expect(await h1Get(servers[1]!.address)).toBe('on-8443 over HTTP/1.1');
  });

  it('hands an HTTP/1.1 upgrade to handler.upgrade, routed on the listener port', async () => {
    const backend = await new Promise<string | undefined>((resolve) => {
      // servername is a TLS option ws passes on to https.request.
      const ws = new WebSocket(`wss://${servers[1]!.address}/`, { ca: cert, servername: 'app.example.com', headers: { host: 'app.example.com' } } as import('ws').ClientOptions);
      ws.on('unexpected-response', (_req, res) => resolve(res.headers['x-backend'] as string | undefined));
      ws.on('error', () => resolve(undefined));
    });
    expect(backend).toBe('on-8443');
  });
});

// The Fastify plugin on Fastify's own HTTP/2 over TLS server (`http2: true, https: {...}`), with a
// certificate from a CA made in the test: a plain h2 request and a gRPC call through GRPCRoutes.
describe('Fastify with http2: true and https (a certificate made in the test)', () => {
  const ca = makeCA('fastify h2 CA');
  const pair = ca.server(['grpc.example.com', 'app.example.com']);
  let app: FastifyInstance;
  let address: string;
  let up: Upstream;
  let v1: EchoServer;
  let v2: EchoServer;

  beforeAll(async () => {
    [up, v1, v2] = await Promise.all([startUpstream(), startEchoServer('echo-v1', 'default'), startEchoServer('echo-v2', 'default')]);
    const web: Obj = { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'web', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['app.example.com'], rules: [{ backendRefs: [{ name: 'up', port: 80 }] }] } };
    app = Fastify({ logger: false, http2: true, https: { key: pair.key, cert: pair.cert }, forceCloseConnections: true }) as unknown as FastifyInstance;
    // The same routes on an HTTPS listener: a request over TLS is routed on HTTPS listeners only.
    const manifests = grpcManifests().map((m) => (m.kind === 'Gateway' ? { ...m, spec: { gatewayClassName: 'router', listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } }] } } : m));
    await app.register(fastifyGateway, { manifests: [...manifests, tlsSecret('cert', pair), web], random: seeded(3), backends: { up: up.url, 'echo-v1': v1.url, 'echo-v2': v2.url, 'echo-dead': await refusedUrl() } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    address = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([up?.close(), v1?.close(), v2?.close()]);
  });

  it('serves an h2 request over TLS (ALPN h2): :authority is the host, the HTTP/1.1 upstream sees no pseudo-header', async () => {
    const session = connect(`https://${address}`, { ca: ca.cert, servername: 'app.example.com' });
    try {
      const { headers, body, alpn } = await new Promise<{ headers: IncomingHttpHeaders; body: string; alpn: string | undefined }>((resolve, reject) => {
        const s = session.request({ ':path': '/over/fastify?x=1', ':authority': 'app.example.com' });
        const chunks: Buffer[] = [];
        let h: IncomingHttpHeaders = {};
        s.on('response', (rh) => (h = rh));
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => resolve({ headers: h, body: Buffer.concat(chunks).toString(), alpn: session.alpnProtocol }));
        s.on('error', reject);
      });
      expect(alpn).toBe('h2');
      expect(headers[':status']).toBe(200);
      const seen = JSON.parse(body);
      expect(seen).toMatchObject({ method: 'GET', url: '/over/fastify?x=1' });
      expect(seen.headers.host).toBe('app.example.com');
      expect(seen.headers['x-forwarded-proto']).toBe('https');
      expect(Object.keys(seen.headers).filter((k) => k.startsWith(':'))).toEqual([]);
    } finally {
      session.close();
    }
  });

  it('carries a gRPC call over TLS through a GRPCRoute (digest 9.1), and answers an unmatched method UNIMPLEMENTED', async () => {
    const c = new EchoClient(address, grpc.credentials.createSsl(Buffer.from(ca.cert)), { 'grpc.default_authority': 'grpc.example.com', 'grpc.ssl_target_name_override': 'grpc.example.com' }) as unknown as grpc.Client & Record<string, Function>;
    try {
      const r = await callUnary(c, 'Echo', {}, 'over tls');
      expect(r.code).toBe(0);
      expect(r.reply).toMatchObject({ backend: 'echo-v1', method: `/${SERVICE}/Echo` });
      expect(r.reply!.headers['x-through']).toBe('gateway');
      expect((await callUnary(c, 'Slow')).code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      c.close();
    }
  });
});
