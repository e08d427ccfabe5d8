// listen()'s connection caps: maxConnections per port (every client together; node's
// server.maxConnections) and maxConnectionsPerClient (per remote address). Real sockets on
// 127.0.0.1: raw TCP clients speaking HTTP/1.1, a node:http2 h2c session, TLS handshakes on an
// HTTPS port, silent connections on a TLS passthrough port. docs/listeners.md, "Connection caps".
import { connect as h2Connect } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { listen, type ListenGatewayOptions, type ListeningGateway } from '../../src/server/listen.js';
import { makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { sleep } from '../adapters/helpers.js';
import { gateway, httpsListener, named, route, type Obj } from './helpers.js';

const httpManifests = (): Obj[] => [gateway([{ name: 'http', port: 80, protocol: 'HTTP' }]), route('r', 'http', 'app')];
// Idle connections stay open for the whole test: no keep-alive or head timeout closes them.
const quiet = { http1KeepAliveTimeout: 0, http1HeadersTimeout: 0, http1RequestTimeout: 0, http2IdleTimeout: 0, helloTimeout: 120_000 } satisfies Partial<ListenGatewayOptions>;

/** A TCP connection from `localAddress`; resolves once connected. */
function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Sends a GET on `s` (kept alive) and resolves with the status line, or with 'closed' when the
 * server closes the connection without answering (a connection over a cap).
 */
function get(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0 && text.includes('app /')) {
        s.off('data', onData);
        resolve(text.slice(0, text.indexOf('\r\n')));
      }
    };
    s.on('data', onData);
    s.once('close', () => resolve(text === '' ? 'closed' : text.slice(0, text.indexOf('\r\n'))));
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nhost: app.example.com\r\n\r\n');
  });
}

/** A new connection from `localAddress` and one GET on it: its status line, or 'closed'. */
async function tryGet(port: number, localAddress?: string): Promise<{ socket: Socket; answer: string }> {
  const socket = await open(port, localAddress);
  return { socket, answer: await get(socket) };
}

/** Retries a new connection until it is served (the server sees a close some time after the client makes it), for up to 20 s. */
async function servedAgain(port: number, localAddress?: string): Promise<Socket> {
  const end = Date.now() + 20_000;
  for (;;) {
    const t = await tryGet(port, localAddress);
    if (t.answer === 'HTTP/1.1 200 OK') return t.socket;
    t.socket.destroy();
    if (Date.now() > end) throw new Error(`no new connection was served within 20 s (last: ${t.answer})`);
    await sleep(20);
  }
}

const gws: ListeningGateway[] = [];
const sockets: { destroy(): void }[] = [];
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(gws.map((g) => g.close()));
});
async function start(options: Partial<ListenGatewayOptions>, manifests = httpManifests()): Promise<ListeningGateway> {
  const gw = await listen({ manifests, backends: { 'app:8080': named('app') }, ports: { 80: 0, 443: 0, 8443: 0 }, host: '127.0.0.1', drainTimeout: 100, ...quiet, ...options });
  gws.push(gw);
  return gw;
}

describe('maxConnections: the connections of a port, every client together', () => {
  it('HTTP port: the connection over the cap is closed unanswered, those under it are served, and one closing makes room', async () => {
    const gw = await start({ maxConnections: 2 });
    const port = gw.ports[80]!;
    const a = await tryGet(port);
    const b = await tryGet(port);
    sockets.push(a.socket, b.socket);
    expect([a.answer, b.answer]).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    const over = await tryGet(port);
    expect(over.answer).toBe('closed');
    // The two held connections still work.
    expect(await get(a.socket)).toBe('HTTP/1.1 200 OK');
    a.socket.destroy();
    const c = await servedAgain(port);
    sockets.push(c);
    expect(await get(b.socket)).toBe('HTTP/1.1 200 OK');
  });

  it('HTTP port: h2c sessions and HTTP/1.1 connections count together', async () => {
    const gw = await start({ maxConnections: 2 });
    const port = gw.ports[80]!;
    const session = h2Connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    sockets.push(session);
    const status = await new Promise<number>((resolve, reject) => {
      const st = session.request({ ':path': '/', ':authority': 'app.example.com' });
      st.on('response', (h) => resolve(Number(h[':status'])));
      st.on('error', reject);
      st.resume();
    });
    expect(status).toBe(200);
    const a = await tryGet(port);
    sockets.push(a.socket);
    expect(a.answer).toBe('HTTP/1.1 200 OK');
    expect((await tryGet(port)).answer).toBe('closed');
  });

  it('HTTPS port: the connection over the cap is closed before its TLS handshake completes', async () => {
    const ca: TestCA = makeCA();
    const manifests = [gateway([httpsListener('https', 443, undefined, ['cert'])]), tlsSecret('cert', ca.server(['app.example.com'])), route('r', 'https', 'app')];
    const gw = await start({ maxConnections: 1 }, manifests);
    const port = gw.ports[443]!;
    const handshake = (): Promise<string> =>
      new Promise((resolve) => {
        const s = tlsConnect({ host: '127.0.0.1', port, servername: 'app.example.com', ca: ca.cert }, () => resolve('secure'));
        sockets.push(s);
        s.on('error', () => resolve('closed'));
        s.on('close', () => resolve('closed'));
      });
    expect(await handshake()).toBe('secure');
    expect(await handshake()).toBe('closed');
  });

  it('TLS passthrough port: a silent connection over the cap is closed while the one under it stays open', async () => {
    const manifests = [gateway([{ name: 'tls', port: 8443, protocol: 'TLS', tls: { mode: 'Passthrough' } }])];
    const gw = await start({ maxConnections: 1 }, manifests);
    const port = gw.ports[8443]!;
    const first = await open(port);
    sockets.push(first);
    let firstClosed = false;
    first.on('close', () => (firstClosed = true));
    const second = await open(port);
    await new Promise<void>((resolve) => second.once('close', () => resolve()));
    expect(firstClosed).toBe(false);
  });
});

describe('maxConnectionsPerClient: the connections of one client address', () => {
  it('a client over its cap is closed unanswered while another address is served; one closing makes room', async () => {
    const gw = await start({ maxConnectionsPerClient: 1 });
    const port = gw.ports[80]!;
    const a = await tryGet(port, '127.0.0.1');
    sockets.push(a.socket);
    expect(a.answer).toBe('HTTP/1.1 200 OK');
    expect((await tryGet(port, '127.0.0.1')).answer).toBe('closed');
    // Another loopback address is another client.
    const other = await tryGet(port, '127.0.0.2');
    sockets.push(other.socket);
    expect(other.answer).toBe('HTTP/1.1 200 OK');
    a.socket.destroy();
    sockets.push(await servedAgain(port, '127.0.0.1'));
  });
});

describe('connection cap options', () => {
  it('refuses a value that is not a non-negative integer, naming the option', async () => {
    await expect(listen({ manifests: httpManifests(), ports: { 80: 0 }, host: '127.0.0.1', maxConnections: -1 })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID', message: expect.stringMatching(/maxConnections/) });
    await expect(listen({ manifests: httpManifests(), ports: { 80: 0 }, host: '127.0.0.1', maxConnectionsPerClient: 1.5 })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID', message: expect.stringMatching(/maxConnectionsPerClient/) });
  });
});
