// TLSRoute passthrough through listen(): the gateway reads the SNI from the ClientHello and
// pipes the still-encrypted stream to a TLS echo backend, which presents its own certificate.
// Spec digest 1.6, 5.4 (exact beats wildcard), 9.2 (no match: the connection is refused).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { listen, type ListeningGateway } from '../../src/server/node-entry.js';
import { caConfigMap, makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { G, gateway, type Obj } from './helpers.js';

let ca: TestCA;
const servers: Server[] = [];

/** A TLS server that answers `<name>:` followed by whatever it receives. */
function echoServer(name: string, names: string[]): Server {
  const s = createServer(ca.server(names), (socket) => {
    socket.write(`${name}:`);
    socket.pipe(socket);
  });
  servers.push(s);
  return s;
}

function tlsRoute(name: string, hostnames: string[], backend: string): Obj {
  return { apiVersion: G, kind: 'TLSRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], hostnames, rules: [{ backendRefs: [{ name: backend, port: 443 }] }] } };
}

/** Opens TLS to the gateway with this SNI, sends `ping`, and returns what came back and the certificate seen. */
function exchange(port: number, servername: string): Promise<{ text: string; san: string }> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host: '127.0.0.1', port, servername, ca: ca.cert }, () => {
      const san = s.getPeerCertificate().subjectaltname ?? '';
      s.write('ping');
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        text += c;
        if (text.endsWith('ping')) {
          s.end();
          resolve({ text, san });
        }
      });
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed before the echo')));
  });
}

/** The ClientHello a node:tls client sends for `servername` (captured from a socket that never answers). */
function clientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        resolve(Buffer.from(chunk));
        cb();
        setImmediate(() => s.destroy());
      },
    });
    const s = connect({ socket: wire as unknown as Socket, servername });
    s.on('error', () => {});
  });
}

let gw: ListeningGateway;
beforeAll(async () => {
  ca = makeCA();
  const exact = echoServer('exact', ['abc.example.com']);
  await new Promise<void>((r) => exact.listen(0, '127.0.0.1', r));
  const wild = echoServer('wild', ['*.example.com']);
  gw = await listen({
    manifests: [
      gateway([{ name: 'tls', port: 443, protocol: 'TLS', hostname: '*.example.com', tls: { mode: 'Passthrough' } }]),
      tlsRoute('exact', ['abc.example.com'], 'exact'),
      tlsRoute('wild', ['*.com'], 'wild'),
    ],
    streams: { 'exact:443': `tcp://127.0.0.1:${(exact.address() as AddressInfo).port}`, 'wild:443': wild },
    host: '127.0.0.1',
    ports: { 443: 0 },
  });
});
afterAll(async () => {
  await gw.close();
  for (const s of servers) s.close();
});

describe('TLSRoute passthrough (digest 9.2)', () => {
  it('reports the routes and the listener as resolved and attached', () => {
    const status = gw.router.statusOf('TLSRoute', 'exact');
    expect(status?.kind === 'TLSRoute' && status.status.parents[0]!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'ResolvedRefs=True']);
  });

  it('pipes the encrypted stream to the backend of the exact hostname: the client sees the backend certificate', async () => {
    const r = await exchange(gw.ports[443]!, 'abc.example.com');
    expect(r.text).toBe('exact:ping');
    expect(r.san).toBe('DNS:abc.example.com');
  });

  it('other names under the listener go to the route whose intersection is *.example.com (digest 5.4), here an in-process tls.Server', async () => {
    const r = await exchange(gw.ports[443]!, 'other.example.com');
    expect(r.text).toBe('wild:ping');
    expect(r.san).toBe('DNS:*.example.com');
  });

  it('refuses a server name no listener serves, and a client that sends no TLS', async () => {
    await expect(exchange(gw.ports[443]!, 'abc.other.org')).rejects.toThrow();
    const closed = await new Promise<string>((resolve) => {
      const s = netConnect(gw.ports[443]!, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: abc.example.com\r\n\r\n'));
      let got = '';
      s.on('data', (c) => (got += String(c)));
      s.on('error', () => {});
      s.on('close', () => resolve(got));
    });
    expect(closed).toBe('');
  });

  it('closes a connection that never completes its ClientHello once helloTimeout passes', async () => {
    const quick = await listen({
      manifests: [gateway([{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }]), tlsRoute('exact', ['abc.example.com'], 'exact')],
      streams: { 'exact:443': 'tcp://127.0.0.1:1' },
      host: '127.0.0.1',
      ports: { 443: 0 },
      helloTimeout: 200,
    });
    try {
      const closed = await new Promise<boolean>((resolve) => {
        const s = netConnect(quick.ports[443]!, '127.0.0.1', () => s.write(Buffer.from([22, 3, 1, 0, 200])));
        s.on('error', () => {});
        s.on('close', () => resolve(true));
      });
      expect(closed).toBe(true);
    } finally {
      await quick.close();
    }
  });
});

describe('TLSRoute streams silent both ways (streamIdleTimeout)', () => {
  it('closes a passthrough stream and its backend connection once it has been silent for streamIdleTimeout', async () => {
    const backendClosed: boolean[] = [];
    const backend = createServer(ca.server(['idle.example.com']), (socket) => {
      const i = backendClosed.push(false) - 1;
      socket.on('error', () => {});
      socket.on('close', () => (backendClosed[i] = true));
      socket.pipe(socket);
    });
    servers.push(backend);
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const g = await listen({
      manifests: [gateway([{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }]), tlsRoute('idle', ['idle.example.com'], 'idle')],
      streams: { 'idle:443': `tcp://127.0.0.1:${(backend.address() as AddressInfo).port}` },
      host: '127.0.0.1',
      ports: { 443: 0 },
      streamIdleTimeout: 1_000,
    });
    try {
      const closed = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => resolve('still open after 10 s'), 10_000);
        const s: TLSSocket = connect({ host: '127.0.0.1', port: g.ports[443]!, servername: 'idle.example.com', ca: ca.cert }, () => s.write('ping'));
        s.on('error', reject);
        let echoed = '';
        s.setEncoding('utf8');
        // The stream works, then falls silent.
        s.on('data', (c: string) => (echoed += c));
        s.on('close', () => {
          clearTimeout(t);
          resolve(echoed === 'ping' ? 'closed after the echo' : `closed, echo ${JSON.stringify(echoed)}`);
        });
      });
      expect(closed).toBe('closed after the echo');
      const deadline = Date.now() + 10_000;
      while (!backendClosed[0] && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(backendClosed).toEqual([true]);
    } finally {
      await g.close();
    }
  });
});

describe('TLS port against a client dribbling its ClientHello', () => {
  it('closes the connection once too many reads or bytes came without a complete ClientHello', async () => {
    const closedAfter = await new Promise<number>((resolve) => {
      const s = netConnect(gw.ports[443]!, '127.0.0.1', () => {
        s.write(Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0, 0x3f, 0xfc]));
        let sent = 0;
        const drip = () => {
          if (s.destroyed) return;
          s.write(Buffer.from([0]));
          sent++;
          if (sent < 70_000) setImmediate(drip);
        };
        drip();
        s.on('close', () => resolve(sent));
      });
      s.setNoDelay(true);
      s.on('error', () => {});
    });
    // At most MAX_HELLO_CHUNKS reads, and never more than the 64 KiB ClientHello bound.
    expect(closedAfter).toBeLessThan(70_000);
  });
});

describe('TLSRoute with a Terminate listener (Extended TLSRouteModeTerminate; mixed modes on one port)', () => {
  it('terminates with the listener certificate and pipes the cleartext to the backend; the passthrough listener on the same port still passes through', async () => {
    const plain = createNetServer((s) => {
      s.write('clear:');
      s.pipe(s);
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const passthrough = echoServer('pass', ['p.example.com']);
    const g = await listen({
      manifests: [
        gateway([
          { name: 'term', port: 443, protocol: 'TLS', hostname: 'term.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'term' }] } },
          { name: 'pass', port: 443, protocol: 'TLS', hostname: '*.example.com', tls: { mode: 'Passthrough' } },
        ]),
        tlsSecret('term', ca.server(['term.example.com'])),
        { ...tlsRoute('t', ['term.example.com'], 'plain'), spec: { parentRefs: [{ name: 'gw', sectionName: 'term' }], hostnames: ['term.example.com'], rules: [{ backendRefs: [{ name: 'plain', port: 443 }] }] } },
        { ...tlsRoute('p', ['p.example.com'], 'pass'), spec: { parentRefs: [{ name: 'gw', sectionName: 'pass' }], hostnames: ['p.example.com'], rules: [{ backendRefs: [{ name: 'pass', port: 443 }] }] } },
      ],
      streams: { 'plain:443': `tcp://127.0.0.1:${(plain.address() as AddressInfo).port}`, 'pass:443': passthrough },
      host: '127.0.0.1',
      ports: { 443: 0 },
    });
    try {
      const s = g.router.statusOf('Gateway', 'gw');
      expect(s?.kind === 'Gateway' && s.status.listeners.map((l) => `${l.name}:${l.conditions.find((c) => c.type === 'Accepted')!.status}`)).toEqual(['term:True', 'pass:True']);
      const t = await exchange(g.ports[443]!, 'term.example.com');
      expect(t).toEqual({ text: 'clear:ping', san: 'DNS:term.example.com' });
      const p = await exchange(g.ports[443]!, 'p.example.com');
      expect(p).toEqual({ text: 'pass:ping', san: 'DNS:p.example.com' });
    } finally {
      await g.close();
      plain.close();
    }
  });

  it('closes a connection that stops after its ClientHello once helloTimeout passes, without connecting to the backend', async () => {
    let connections = 0;
    const plain = createNetServer((s) => {
      connections++;
      s.pipe(s);
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const g = await listen({
      manifests: [
        gateway([{ name: 'term', port: 443, protocol: 'TLS', hostname: 'term.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'term' }] } }]),
        tlsSecret('term', ca.server(['term.example.com'])),
        tlsRoute('t', ['term.example.com'], 'plain'),
      ],
      streams: { 'plain:443': `tcp://127.0.0.1:${(plain.address() as AddressInfo).port}` },
      host: '127.0.0.1',
      ports: { 443: 0 },
      helloTimeout: 2_000,
    });
    try {
      const hello = await clientHello('term.example.com');
      // A valid ClientHello, then silence: the gateway's ServerHello is never answered.
      const closed = await new Promise<string>((resolve) => {
        const t = setTimeout(() => resolve('still open after 10 s'), 10_000);
        const s = netConnect(g.ports[443]!, '127.0.0.1', () => s.write(hello));
        s.on('error', () => {});
        s.resume();
        s.on('close', () => {
          clearTimeout(t);
          resolve('closed');
        });
      });
      expect(closed).toBe('closed');
      expect(connections).toBe(0);
      // A client that completes its handshake is still served.
      expect(await exchange(g.ports[443]!, 'term.example.com')).toEqual({ text: 'ping', san: 'DNS:term.example.com' });
      expect(connections).toBe(1);
    } finally {
      await g.close();
      plain.close();
    }
  });

  it('re-encrypts to a backend under a BackendTLSPolicy: SNI and certificate as the policy says; a hostname the certificate does not name closes the connection (upstream backendtlspolicy-tlsroute-terminate)', async () => {
    const backendCA = makeCA('backend CA');
    const seen: (string | false)[] = [];
    const secure = createServer(backendCA.server(['backend.internal']), (socket) => {
      seen.push(socket.servername ?? false);
      socket.write('secure:');
      socket.pipe(socket);
    });
    await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
    const m = (hostname: string): Obj[] => [
      gateway([{ name: 'term', port: 443, protocol: 'TLS', hostname: 'term.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'term' }] } }]),
      tlsSecret('term', ca.server(['term.example.com'])),
      tlsRoute('t', ['term.example.com'], 'secure'),
      caConfigMap('backend-ca', backendCA.cert),
      { apiVersion: G, kind: 'BackendTLSPolicy', metadata: { name: 'p', namespace: 'default' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: 'secure' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'backend-ca' }], hostname } } },
    ];
    const g = await listen({ manifests: m('backend.internal'), streams: { 'secure:443': `tcp://127.0.0.1:${(secure.address() as AddressInfo).port}` }, host: '127.0.0.1', ports: { 443: 0 } });
    try {
      expect(await exchange(g.ports[443]!, 'term.example.com')).toEqual({ text: 'secure:ping', san: 'DNS:term.example.com' });
      expect(seen).toEqual(['backend.internal']);
      expect((await g.reload(m('other.internal'))).ok).toBe(true);
      await expect(exchange(g.ports[443]!, 'term.example.com')).rejects.toThrow();
      expect(seen).toEqual(['backend.internal']);
    } finally {
      await g.close();
      secure.close();
    }
  });
});
