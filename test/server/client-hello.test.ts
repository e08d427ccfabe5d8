// The ClientHello parser (TLSRoute passthrough reads the SNI without terminating TLS): real
// ClientHellos captured from node:tls clients, every prefix, records split in two, and hostile
// input (seeded random bytes, lying lengths), which must never throw. Spec digest 9.2.
import { beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from '../../src/server/tls/client-hello.js';
import { seeded } from '../support/random.js';

/** The first bytes a node:tls client sends: its ClientHello, in one record. */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (parseClientHello(buf).status !== 'incomplete') {
          resolve(buf);
          s.destroy();
        }
      });
    });
  });
  const client = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ...(servername !== undefined ? { servername } : {}), rejectUnauthorized: false });
  client.on('error', () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

/** The same handshake bytes re-framed as two records, split at `at`. */
function splitRecords(hello: Buffer, at: number): Buffer {
  const body = hello.subarray(5);
  const rec = (b: Buffer) => Buffer.concat([Buffer.from([22, 3, 1, b.length >> 8, b.length & 255]), b]);
  return Buffer.concat([rec(body.subarray(0, at)), rec(body.subarray(at))]);
}

let hello: Buffer;
let noSni: Buffer;
beforeAll(async () => {
  hello = await captureHello('App.Example.COM');
  noSni = await captureHello(undefined);
});

describe('parseClientHello', () => {
  it('reads the server name of a real ClientHello, lower-cased', () => {
    expect(parseClientHello(hello)).toEqual({ status: 'ok', serverName: 'app.example.com' });
  });

  it('a ClientHello without server_name has serverName null', () => {
    expect(parseClientHello(noSni)).toEqual({ status: 'ok', serverName: null });
  });

  it('every strict prefix is incomplete, never an error', () => {
    for (let n = 0; n < hello.length; n++) expect(parseClientHello(hello.subarray(0, n)).status).toBe('incomplete');
  });

  it('a handshake split across two records is reassembled, whatever the split', () => {
    for (const at of [1, 3, 4, 5, 40, hello.length - 6]) expect(parseClientHello(splitRecords(hello, at))).toEqual({ status: 'ok', serverName: 'app.example.com' });
  });

  it('refuses what is not a TLS handshake (plain HTTP, other record types)', () => {
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'))).toMatchObject({ status: 'invalid' });
    const alert = Buffer.from(hello);
    alert[0] = 21;
    expect(parseClientHello(alert)).toMatchObject({ status: 'invalid' });
  });

  it('refuses lying lengths: record over 16 KiB, handshake over the bound, extensions past the end', () => {
    const big = Buffer.from(hello);
    big.writeUInt16BE(16385, 3);
    expect(parseClientHello(big)).toMatchObject({ status: 'invalid', reason: 'bad TLS record length' });
    const huge = Buffer.from(hello);
    huge[6] = 0xff; // handshake length 0xff....: over MAX_CLIENT_HELLO_BYTES
    expect(parseClientHello(huge)).toMatchObject({ status: 'invalid', reason: 'ClientHello too large' });
    // Cut the body short but keep the declared lengths consistent at the record level.
    const cut = Buffer.from(hello.subarray(0, hello.length - 10));
    cut.writeUInt16BE(cut.length - 5, 3);
    const hsLen = cut.length - 9;
    cut[6] = hsLen >> 16;
    cut[7] = (hsLen >> 8) & 255;
    cut[8] = hsLen & 255;
    expect(parseClientHello(cut)).toMatchObject({ status: 'invalid' });
  });

  it('refuses a host_name that is not a DNS name', () => {
    const i = hello.indexOf(Buffer.from('App.Example.COM'));
    const bad = Buffer.from(hello);
    bad[i + 3] = 0x2f; // '/'
    expect(parseClientHello(bad)).toEqual({ status: 'invalid', reason: 'host_name is not a DNS name' });
  });

  it('asks for no more than MAX_CLIENT_HELLO_BYTES: a stream of small records is refused once over the bound', () => {
    // Records of 1 byte each after a ClientHello header declaring 60 KiB.
    const header = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0xf0, 0x00]);
    const one = Buffer.from([22, 3, 1, 0, 1, 0]);
    const stream = Buffer.concat([header, ...Array.from({ length: MAX_CLIENT_HELLO_BYTES / one.length + 2 }, () => one)]);
    expect(parseClientHello(stream)).toMatchObject({ status: 'invalid', reason: 'ClientHello too large' });
  });

  it('never throws on random bytes or on random mutations of a real ClientHello (seeded)', () => {
    const random = seeded(11);
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(random() * 600);
      const bytes = Buffer.alloc(n);
      for (let j = 0; j < n; j++) bytes[j] = Math.floor(random() * 256);
      if (i % 2 === 0 && n > 5) bytes.set([22, 3, 1], 0);
      expect(() => parseClientHello(bytes)).not.toThrow();
    }
    for (let i = 0; i < 3000; i++) {
      const m = Buffer.from(hello);
      const k = 1 + Math.floor(random() * 4);
      for (let j = 0; j < k; j++) m[Math.floor(random() * m.length)] = Math.floor(random() * 256);
      const r = parseClientHello(m);
      expect(['ok', 'invalid', 'incomplete']).toContain(r.status);
      if (r.status === 'ok' && r.serverName !== null) expect(r.serverName).toMatch(/^[a-z0-9_.-]+$/);
    }
  });
});
