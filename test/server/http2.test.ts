// listen() speaks HTTP/2 over real sockets with node:http2 clients: ALPN h2 (and the http/1.1
// fallback) on HTTPS ports with certificates made in the test and chosen by SNI, 421 over h2
// (spec digest 3.6, GatewayHTTPSListenerDetectMisdirectedRequests), h2c with prior knowledge
// beside HTTP/1.1 on HTTP ports (RFC 9113 section 3.3; GRPCRoute needs it on HTTP listeners,
// digest 1.5), and the drain of close() with an open HTTP/2 session.
import { connect as h2connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type ListeningGateway } from '../../src/server/node-entry.js';
import { makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { gateway, heldBackend, httpGet, httpsGet, httpsListener, named, route, type Obj } from './helpers.js';

let ca: TestCA;
let certs: Record<string, { cert: string; key: string }>;
let upstream: Server;
let upstreamUrl: string;

beforeAll(async () => {
  ca = makeCA();
  certs = { exact: ca.server(['a.example.com']), wild: ca.server(['*.example.com']) };
  // An HTTP/1.1 upstream that answers what it received: the gateway proxies h2 requests to it.
  upstream = createServer((req, res) => res.end(JSON.stringify({ path: req.url, version: req.httpVersion, xff: req.headers['x-forwarded-for'] ?? null })));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

function manifests(): Obj[] {
  return [
    gateway([
      { name: 'http', port: 80, protocol: 'HTTP' },
      { name: 'http-8080', port: 8080, protocol: 'HTTP' },
      httpsListener('exact', 443, 'a.example.com', ['exact']),
      httpsListener('wild', 443, '*.example.com', ['wild']),
    ]),
    tlsSecret('exact', certs.exact!),
    tlsSecret('wild', certs.wild!),
    route('r-http', 'http', 'plain'),
    route('r-8080', 'http-8080', 'upstream'),
    route('r-exact', 'exact', 'exact'),
    route('r-wild', 'wild', 'wild'),
  ];
}

const backends = () => ({ plain: named('plain'), exact: named('exact'), wild: named('wild'), upstream: upstreamUrl });

interface H2Answer {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

function h2get(session: ClientHttp2Session, path: string, authority?: string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...(authority ? { ':authority': authority } : {}) });
    let headers: IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ status: Number(headers[':status']), body, headers }));
    stream.on('error', reject);
    stream.end();
  });
}

/** An HTTP/2 session over TLS to 127.0.0.1 with this SNI, trusting the test CA. */
function tlsSession(port: number, servername: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`https://${servername}:${port}`, { host: '127.0.0.1', servername, ca: ca.cert, checkServerIdentity: () => undefined } as never);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function h2cSession(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`http://127.0.0.1:${port}`);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('listen(): HTTP/2 on HTTPS and HTTP ports', () => {
  let gw: ListeningGateway;
  beforeAll(async () => {
    gw = await listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 } });
  });
  afterAll(() => gw.close());

  it('negotiates h2 by ALPN on an HTTPS port, the certificate and listener chosen by SNI (digest 1.3, 3.6)', async () => {
    for (const [sni, san, body] of [
      ['a.example.com', 'DNS:a.example.com', 'exact /p'],
      ['b.example.com', 'DNS:*.example.com', 'wild /p'],
    ] as const) {
      const s = await tlsSession(gw.ports[443]!, sni);
      try {
        expect(s.alpnProtocol).toBe('h2');
        expect((s.socket as TLSSocket).getPeerCertificate().subjectaltname).toBe(san);
        const r = await h2get(s, '/p');
        expect(r.status).toBe(200);
        expect(r.body).toBe(body);
        expect(r.headers['x-backend']).toBe(body.split(' ')[0]);
      } finally {
        s.close();
      }
    }
  });

  it('falls back to http/1.1 for clients that do not offer h2 (ALPN, or none)', async () => {
    const offered = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert, alpn: ['http/1.1'] });
    expect(offered).toMatchObject({ status: 200, body: 'exact /', alpn: 'http/1.1' });
    const none = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert });
    expect(none).toMatchObject({ status: 200, body: 'exact /', alpn: false });
  });

  it('answers 421 on an h2 stream whose :authority another listener serves than the SNI chose (digest 3.6)', async () => {
    // HTTP/2 clients reuse a connection for every name its certificate covers (connection
    // coalescing): the SNI chose a.example.com, so b.example.com on this connection is misdirected.
    const s = await tlsSession(gw.ports[443]!, 'a.example.com');
    try {
      expect((await h2get(s, '/', 'b.example.com')).status).toBe(421);
      // The same session still serves its own name.
      expect(await h2get(s, '/', 'a.example.com')).toMatchObject({ status: 200, body: 'exact /' });
    } finally {
      s.close();
    }
  });

  it('serves h2c with prior knowledge and HTTP/1.1 on the same HTTP port', async () => {
    const s = await h2cSession(gw.ports[80]!);
    try {
      const r = await h2get(s, '/x', 'anything.test');
      expect(r).toMatchObject({ status: 200, body: 'plain /x' });
      expect(await h2get(s, '/y', 'anything.test')).toMatchObject({ status: 200, body: 'plain /y' });
    } finally {
      s.close();
    }
    expect(await httpGet(gw.ports[80]!, 'anything.test', '/z')).toEqual({ status: 200, body: 'plain /z' });
  });

  it('routes h2c requests on the listener port they arrived on, and proxies them with the client address', async () => {
    const s = await h2cSession(gw.ports[8080]!);
    try {
      const r = await h2get(s, '/up', 'anything.test');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ path: '/up', version: '1.1', xff: '127.0.0.1' });
    } finally {
      s.close();
    }
  });
});

/** Sends an HTTP/1.1 upgrade request on `socket` and resolves with all it receives until `want` appears. */
function upgradeOver(socket: Duplex, want: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      got += c;
      if (got.includes(want)) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.write('GET /chat HTTP/1.1\r\nHost: a.example.com\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nping');
  });
}

describe('listen(): HTTP/1.1 upgrades beside HTTP/2', () => {
  it('hands upgrade requests to the backend on HTTP ports (after the h2c sniff) and on HTTPS ports (ALPN http/1.1)', async () => {
    // An in-process backend with an upgrade hook (docs/adapters.md, "WebSocket"): answers 101, then echoes.
    const echo = Object.assign(named('echo'), {
      upgrade: (_req: unknown, socket: Duplex, head: Buffer) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
        if (head.length > 0) socket.write(head);
        socket.pipe(socket);
      },
    });
    const gw = await listen({ manifests: manifests(), backends: { ...backends(), plain: echo, exact: echo }, host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 } });
    try {
      const plain = await upgradeOver(netConnect(gw.ports[80]!, '127.0.0.1'), 'ping');
      expect(plain).toMatch(/^HTTP\/1\.1 101 /);
      const secure = await upgradeOver(tlsConnect({ host: '127.0.0.1', port: gw.ports[443]!, servername: 'a.example.com', ca: ca.cert, ALPNProtocols: ['http/1.1'] }), 'ping');
      expect(secure).toMatch(/^HTTP\/1\.1 101 /);
    } finally {
      await gw.close();
    }
  });
});

describe('listen(): http2: false and bounds', () => {
  it('with http2: false, offers only http/1.1 and refuses the h2c preface', async () => {
    const gw = await listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http2: false });
    try {
      const r = await httpsGet(gw.ports[443]!, { servername: 'a.example.com', ca: ca.cert, alpn: ['h2', 'http/1.1'] });
      expect(r).toMatchObject({ status: 200, alpn: 'http/1.1' });
      const s = h2connect(`http://127.0.0.1:${gw.ports[80]!}`);
      s.on('error', () => {});
      const failed = await new Promise<boolean>((resolve) => {
        const st = s.request({ ':path': '/' });
        st.on('response', () => resolve(false));
        st.on('error', () => resolve(true));
        st.on('close', () => resolve(true));
        st.end();
      });
      s.destroy();
      expect(failed).toBe(true);
    } finally {
      await gw.close();
    }
  });

  it('rejects a bad http2 option with GW_ERR_OPTIONS_INVALID', async () => {
    await expect(listen({ manifests: manifests(), backends: backends(), http2: 'yes' as never })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID' });
  });

  it('closes an HTTP connection whose first bytes stop short of telling HTTP/1.1 from h2c within helloTimeout', async () => {
    const gw = await listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, helloTimeout: 200 });
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const c = netConnect(gw.ports[80]!, '127.0.0.1', () => c.write('PRI * HTTP/2'));
        c.on('error', () => {});
        c.on('close', () => resolve(true));
        c.resume();
      });
      expect(closed).toBe(true);
      // The port still serves.
      expect((await httpGet(gw.ports[80]!, 'x.test')).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe('listen(): close() with open HTTP/2 sessions', () => {
  it('lets a stream in flight finish, sends GOAWAY, closes idle sessions at once, and stops accepting', async () => {
    const held = heldBackend();
    const gw = await listen({
      manifests: manifests(),
      backends: { ...backends(), exact: held.handler },
      host: '127.0.0.1',
      ports: { 80: 0, 8080: 0, 443: 0 },
      // Long enough that a test passing proves the drain did not wait for the timeout.
      drainTimeout: 60_000,
    });
    const port = gw.ports[443]!;
    const busy = await tlsSession(port, 'a.example.com');
    const idle = await h2cSession(gw.ports[80]!);
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    const goaway = new Promise<void>((r) => busy.once('goaway', () => r()));
    busy.on('error', () => {});
    idle.on('error', () => {});
    const pending = h2get(busy, '/slow');
    await held.started;
    let done = false;
    const closed = gw.close().then(() => (done = true));
    await goaway;
    await idleClosed;
    // New connections are refused while the stream is still in flight.
    await expect(tlsSession(port, 'a.example.com')).rejects.toThrow();
    expect(done).toBe(false);
    held.release();
    expect(await pending).toMatchObject({ status: 200, body: 'late' });
    await closed;
    expect(done).toBe(true);
    busy.destroy();
  });
});

describe('listen(): idle and slow connections (http2IdleTimeout, http1KeepAliveTimeout, http1HeadersTimeout, http1RequestTimeout)', () => {
  /** Resolves once the session is closed, with whether the server sent GOAWAY first. */
  const closedBy = (s: ClientHttp2Session) =>
    new Promise<{ goaway: boolean }>((resolve) => {
      let goaway = false;
      s.on('error', () => {});
      s.once('goaway', () => (goaway = true));
      s.once('close', () => resolve({ goaway }));
    });

  it('closes a session that sends nothing, on h2c and on TLS ports, with GOAWAY; the ports keep serving', async () => {
    const gw = await listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http2IdleTimeout: 300 });
    try {
      const h2c = await h2cSession(gw.ports[80]!);
      const tls = await tlsSession(gw.ports[443]!, 'a.example.com');
      const closes = [closedBy(h2c), closedBy(tls)];
      // A client that keeps only PINGing holds nothing either.
      const pinger = setInterval(() => {
        if (!h2c.closed && !h2c.destroyed) h2c.ping(() => {});
      }, 50);
      try {
        // Generous: the timeout is 300 ms; the test waits for the close, however long it takes (vitest's own timeout bounds it).
        expect(await Promise.all(closes)).toEqual([{ goaway: true }, { goaway: true }]);
      } finally {
        clearInterval(pinger);
      }
      const again = await h2cSession(gw.ports[80]!);
      expect(await h2get(again, '/x')).toMatchObject({ status: 200, body: 'plain /x' });
      again.close();
    } finally {
      await gw.close();
    }
  });

  it('a stream in flight on an idle-closed session still finishes', async () => {
    const held = heldBackend();
    const gw = await listen({ manifests: manifests(), backends: { ...backends(), exact: held.handler }, host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http2IdleTimeout: 300 });
    try {
      const s = await tlsSession(gw.ports[443]!, 'a.example.com');
      const closed = closedBy(s);
      const goaway = new Promise<void>((r) => s.once('goaway', () => r()));
      const pending = h2get(s, '/slow');
      await held.started;
      // The stream is silent past the idle timeout: the session gets GOAWAY, the stream is kept.
      await goaway;
      held.release();
      expect(await pending).toMatchObject({ status: 200, body: 'late' });
      expect(await closed).toEqual({ goaway: true });
    } finally {
      await gw.close();
    }
  });

  it('cuts the streams left on a session sent GOAWAY for inactivity after drainTimeout: a handler that never answers holds nothing', async () => {
    const never = heldBackend();
    const gw = await listen({ manifests: manifests(), backends: { ...backends(), exact: never.handler }, host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http2IdleTimeout: 300, drainTimeout: 600 });
    try {
      const s = await tlsSession(gw.ports[443]!, 'a.example.com');
      const closed = closedBy(s);
      const goaway = new Promise<void>((r) => s.once('goaway', () => r()));
      const stream = s.request({ ':path': '/never' });
      stream.on('error', () => {});
      stream.end();
      await never.started;
      await goaway;
      // Without the bound the session waits for the stream for ever: the cap (many times the
      // 600 ms drain) only turns that hang into a failure.
      const cap = new Promise<string>((r) => setTimeout(() => r('still open'), 20_000).unref());
      expect(await Promise.race([closed, cap])).toEqual({ goaway: true });
      expect(stream.closed).toBe(true);
    } finally {
      never.release();
      await gw.close();
    }
  });

  /**
   * A POST of `size` bytes whose body is sent one byte every 100 ms over HTTP/1.1 (node:https
   * offering only http/1.1 on the TLS port); resolves once the server answers or cuts it, with
   * how many body bytes had been sent.
   */
  const trickle = (port: number, secure: boolean, size: number) =>
    new Promise<{ outcome: string; sent: number }>((resolve) => {
      const o = { host: '127.0.0.1', port, path: '/trickle', method: 'POST', agent: false, headers: { host: secure ? 'a.example.com' : 'x.test', 'content-length': size } };
      const answered = (res: IncomingMessage) => {
        res.resume();
        finish(`HTTP ${res.statusCode}`);
      };
      const req = secure ? httpsRequest({ ...o, servername: 'a.example.com', ca: ca.cert, ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined } as HttpsRequestOptions, answered) : httpRequest(o, answered);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= size) return;
        req.write('x');
        sent++;
      }, 100);
      const finish = (outcome: string) => {
        clearInterval(timer);
        resolve({ outcome, sent });
      };
      req.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
      req.flushHeaders();
    });

  it('cuts an HTTP/1.1 request whose body trickles past http1RequestTimeout, on HTTP and HTTPS ports; a request received whole is not cut while it is answered', async () => {
    let reached!: () => void;
    const heldReached = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Reads the whole body, then answers (the request to /held only once released).
    const sink = (req: IncomingMessage, res: ServerResponse) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => {
        if (req.url !== '/held') {
          res.end(`got ${n}`);
          return;
        }
        reached();
        void gate.then(() => res.end(`got ${n}`));
      });
    };
    const gw = await listen({ manifests: manifests(), backends: { ...backends(), exact: sink, plain: sink }, host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http1RequestTimeout: 1_000 });
    try {
      const whole = httpsGet(gw.ports[443]!, { servername: 'a.example.com', path: '/held', ca: ca.cert, alpn: ['http/1.1'] });
      await heldReached;
      // Each trickle would take 10 s: the 1 s bound cuts both long before (the HTTP port may answer 408 first).
      const [tls, plain] = await Promise.all([trickle(gw.ports[443]!, true, 100), trickle(gw.ports[80]!, false, 100)]);
      expect(tls.outcome).not.toBe('HTTP 200');
      expect(tls.sent).toBeLessThan(100);
      expect(plain.outcome).not.toBe('HTTP 200');
      expect(plain.sent).toBeLessThan(100);
      // The request to /held came in whole before the trickles started: its bound is past, and it is answered.
      release();
      expect(await whole).toMatchObject({ status: 200, body: 'got 0' });
    } finally {
      release();
      await gw.close();
    }
  });

  /** Opens a connection to a port of `gw`, writes `first`, and resolves with what came back once the server closes it. */
  const held = (gw: ListeningGateway, secure: boolean, first: string) =>
    new Promise<string>((resolve) => {
      let got = '';
      const c: Duplex = secure ? tlsConnect({ port: gw.ports[443]!, host: '127.0.0.1', servername: 'a.example.com', ca: ca.cert, ALPNProtocols: ['http/1.1'] }, () => c.write(first)) : netConnect(gw.ports[80]!, '127.0.0.1', () => c.write(first));
      c.on('data', (b: Buffer) => (got += b.toString('latin1')));
      c.on('error', () => {});
      c.on('close', () => resolve(got));
    });

  it('closes an idle HTTP/1.1 keep-alive connection after http1KeepAliveTimeout, on HTTP and HTTPS ports', async () => {
    // The head bound stays at its default (a minute): only the keep-alive bound can close these in time.
    const gw = await listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http1KeepAliveTimeout: 300 });
    try {
      const [tls, plain] = await Promise.all([held(gw, true, 'GET /k HTTP/1.1\r\nHost: a.example.com\r\n\r\n'), held(gw, false, 'GET /k HTTP/1.1\r\nHost: x.test\r\n\r\n')]);
      // Answered first, then closed while idle.
      expect(tls).toMatch(/^HTTP\/1\.1 200[^]*exact \/k$/);
      expect(plain).toMatch(/^HTTP\/1\.1 200[^]*plain \/k$/);
    } finally {
      await gw.close();
    }
  });

  it('closes an HTTP/1.1 connection that does not complete its request head within http1HeadersTimeout, on HTTP and HTTPS ports', async () => {
    const gw = await listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http1HeadersTimeout: 400 });
    try {
      const [partialTls, silentTls, partialPlain] = await Promise.all([held(gw, true, 'GET /p HTTP/1.1\r\nHost: a.exa'), held(gw, true, ''), held(gw, false, 'GET /p HTTP/1.1\r\nHost: x.te')]);
      // The HTTP/2 server's HTTP/1.1 fallback closes without an answer; node:http on the HTTP port may answer 408 first.
      expect(partialTls).toBe('');
      expect(silentTls).toBe('');
      expect(partialPlain).not.toMatch(/200/);
    } finally {
      await gw.close();
    }
  });

  it('rejects a bad timeout option with GW_ERR_OPTIONS_INVALID, and listen options are not reported as unknown', async () => {
    for (const bad of [-1, 1.5, '100']) {
      await expect(listen({ manifests: manifests(), backends: backends(), http2IdleTimeout: bad as never })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID' });
    }
    for (const k of ['drainTimeout', 'helloTimeout', 'streamIdleTimeout', 'http1KeepAliveTimeout', 'http1HeadersTimeout', 'http1RequestTimeout']) {
      await expect(listen({ manifests: manifests(), backends: backends(), [k]: -5 })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID' });
    }
    // The head is part of the request: its bound cannot be above the whole request's (node:http refuses it too).
    await expect(listen({ manifests: manifests(), backends: backends(), http1HeadersTimeout: 2_000, http1RequestTimeout: 1_000 })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID', message: expect.stringContaining('http1RequestTimeout') });
    const gw = await listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, helloTimeout: 5_000, streamIdleTimeout: 0, drainTimeout: 1_000, http2IdleTimeout: 0, http1KeepAliveTimeout: 0, http1HeadersTimeout: 400_000, http1RequestTimeout: 0, http2: true });
    try {
      expect(gw.router.issues.filter((i) => /has no option/.test(i.message))).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});

describe('listen(): an HTTP/2 stream must send its whole request within http2RequestTimeout unless its response has started', () => {
  // The in-process backend of port 80 reads each body and answers with its length: at the end
  // (/upload), after a delay once the request is whole (/whole), or with the head at once and the
  // length at the end (/early, as a gRPC stream that answers while the client still sends).
  const bodies = (req: IncomingMessage, res: ServerResponse) => {
    let n = 0;
    if (req.url === '/early') res.write('started ');
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      if (req.url === '/whole') setTimeout(() => res.end(`${n} bytes`), 1_000);
      else res.end(`${n} bytes`);
    });
  };
  const bound = 300;
  /** The stream's end as the client saw it. */
  const outcome = (stream: ReturnType<ClientHttp2Session['request']>) =>
    new Promise<{ status: number | undefined; body: string; rstCode: number | undefined }>((resolve) => {
      let status: number | undefined;
      let body = '';
      stream.on('error', () => {});
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (body += c));
      stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode }));
    });
  /** Sends a byte every 50 ms, `times` times, then ends the request (unless the stream closed first); `sending()` says whether it still does. */
  const trickle = (stream: ReturnType<ClientHttp2Session['request']>, times: number) => {
    let sent = 0;
    const timer = setInterval(() => {
      if (stream.closed || stream.destroyed) return clearInterval(timer);
      if (sent++ < times) stream.write('x');
      else {
        clearInterval(timer);
        stream.end();
      }
    }, 50);
    return { sending: () => sent <= times, stop: () => clearInterval(timer) };
  };
  let gw: ListeningGateway;
  let session: ClientHttp2Session;
  beforeAll(async () => {
    gw = await listen({ manifests: manifests(), backends: { ...backends(), plain: bodies }, host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http2RequestTimeout: bound });
    session = await h2cSession(gw.ports[80]!);
    session.on('error', () => {});
  });
  afterAll(async () => {
    session?.destroy();
    await gw?.close();
  });

  it('resets with CANCEL a stream whose body trickles in past the bound with no response yet (every byte is progress to clientTimeout)', async () => {
    const stream = session.request({ ':method': 'POST', ':path': '/upload' });
    // 200 bytes at 50 ms: 10 s, over 30 times the bound; the reset must come while it still sends.
    const t = trickle(stream, 200);
    const seen = outcome(stream);
    const end = await seen;
    const whileSending = t.sending();
    t.stop();
    expect({ ...end, whileSending }).toEqual({ status: undefined, body: '', rstCode: constants.NGHTTP2_CANCEL, whileSending: true });
  });

  it('keeps a stream whose response has started while its body goes on past the bound', async () => {
    const stream = session.request({ ':method': 'POST', ':path': '/early' });
    // 24 bytes at 50 ms: over 1 s, several times the bound.
    trickle(stream, 24);
    expect(await outcome(stream)).toEqual({ status: 200, body: 'started 24 bytes', rstCode: constants.NGHTTP2_NO_ERROR });
  });

  it('keeps a stream whose request arrived whole, however long the answer takes', async () => {
    const stream = session.request({ ':method': 'POST', ':path': '/whole' });
    stream.end('0123456789');
    expect(await outcome(stream)).toEqual({ status: 200, body: '10 bytes', rstCode: constants.NGHTTP2_NO_ERROR });
  });

  it('rejects a bad value with GW_ERR_OPTIONS_INVALID', async () => {
    await expect(listen({ manifests: manifests(), backends: backends(), host: '127.0.0.1', ports: { 80: 0, 8080: 0, 443: 0 }, http2RequestTimeout: -1 })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID', message: expect.stringContaining('http2RequestTimeout') });
  });
});
