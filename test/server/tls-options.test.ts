// Listener tls.options: "Support: Implementation-specific", vendor keys domain-prefixed,
// un-prefixed keys reserved for Gateway API (spec digest 1.3, ListenerTLSConfig). This library
// supports gateway-api-router.dev/min-tls-version and max-tls-version; any other key or value
// makes the listener Accepted=False/UnsupportedValue and unprogrammed (digest 10.4). The versions
// are enforced by listen() over real TLS connections.
import { connect as tlsConnect } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type GatewayRouter } from '../../src/index.js';
import { listen } from '../../src/server/node-entry.js';
import { makeCA, tlsSecret, type KeyPair, type TestCA } from '../support/certs.js';
import { cond, gatewayStatus, listenerStatus } from '../model/status-helpers.js';
import { gateway, httpsGet, named, route, type Obj } from './helpers.js';

const MIN = 'gateway-api-router.dev/min-tls-version';
const MAX = 'gateway-api-router.dev/max-tls-version';

let ca: TestCA;
let pair: KeyPair;
beforeAll(() => {
  ca = makeCA();
  pair = ca.server(['a.example.com']);
});

function listener(name: string, tls: Obj, protocol = 'HTTPS', port = 443): Obj {
  return { name, port, protocol, hostname: `${name}.example.com`, tls };
}

const terminate = (options: Record<string, string>): Obj => ({ certificateRefs: [{ name: 'cert' }], options });
const make = (listeners: Obj[]): GatewayRouter => createGateway({ manifests: [gateway(listeners), tlsSecret('cert', pair)] });

describe('listener tls.options: what is not supported is Accepted=False UnsupportedValue (digest 1.3, 10.4)', () => {
  it.each([
    ['an option of another implementation', listener('a', terminate({ 'example.com/my-custom-option': 'x' })), /example\.com\/my-custom-option \(not an option of gateway-api-router\)/],
    ['an un-prefixed key (reserved for Gateway API, which defines none)', listener('a', terminate({ minVersion: '1.2' })), /un-prefixed keys are reserved/],
    ['a version this library does not offer', listener('a', terminate({ [MIN]: 'TLSv1.1' })), /"TLSv1\.1" is not supported; use TLSv1\.2 or TLSv1\.3/],
    ['a minimum above the maximum', listener('a', terminate({ [MIN]: 'TLSv1.3', [MAX]: 'TLSv1.2' })), /is above/],
    ['options on a Passthrough listener', listener('a', { mode: 'Passthrough', options: { [MIN]: 'TLSv1.3' } }, 'TLS', 8443), /Passthrough listener/],
    ['a Terminate listener with options and no certificateRefs', listener('a', { options: { [MIN]: 'TLSv1.3' } }), /needs certificateRefs/],
  ])('%s', (_label, l, message) => {
    const gw = make([l, listener('ok', terminate({ [MIN]: 'TLSv1.2' }))]);
    const s = listenerStatus(gw, 'a');
    expect(cond(s.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(cond(s.conditions, 'Accepted').message).toMatch(message);
    expect(cond(s.conditions, 'Programmed')).toMatchObject({ status: 'False' });
    // The listener is not served; the valid one beside it is, and the Gateway says some are not valid.
    expect(gw.serving.listeners.map((x) => x.name)).toEqual(['ok']);
    expect(cond(listenerStatus(gw, 'ok').conditions, 'Accepted')).toMatchObject({ status: 'True' });
    expect(cond(gatewayStatus(gw).conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'ListenersNotValid' });
  });

  it('the supported options are accepted and reach the serving plan', () => {
    const gw = make([listener('a', terminate({ [MIN]: 'TLSv1.2', [MAX]: 'TLSv1.3' }))]);
    expect(cond(listenerStatus(gw, 'a').conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(gw.serving.listeners[0]!.tls!.versions).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  });
});

/** The TLS version a client that allows `max` at most negotiates with the port, or the handshake error. */
function negotiate(port: number, servername: string, max: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  return new Promise((resolve) => {
    let protocol = 'none';
    const s = tlsConnect({ host: '127.0.0.1', port, servername, ca: ca.cert, maxVersion: max, ALPNProtocols: ['http/1.1'] }, () => {
      protocol = s.getProtocol() ?? 'none';
      // Refused after the handshake (the listener's own range) or served: a request tells.
      s.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (got += c));
    s.on('close', () => resolve(got.startsWith('HTTP/1.1 200') ? protocol : 'refused'));
    s.on('error', () => {});
  });
}

describe('listen() enforces the TLS versions per listener, chosen by SNI', () => {
  it('min-tls-version TLSv1.3 refuses a TLS 1.2 client, max-tls-version TLSv1.2 a TLS 1.3 one; a port whose listeners all cap at TLSv1.2 negotiates it', async () => {
    const both = ca.server(['v13.example.com', 'v12.example.com']);
    const gw = await listen({
      manifests: [
        gateway([
          { name: 'v13', port: 443, protocol: 'HTTPS', hostname: 'v13.example.com', tls: { certificateRefs: [{ name: 'both' }], options: { [MIN]: 'TLSv1.3' } } },
          { name: 'v12', port: 443, protocol: 'HTTPS', hostname: 'v12.example.com', tls: { certificateRefs: [{ name: 'both' }], options: { [MAX]: 'TLSv1.2' } } },
        ]),
        tlsSecret('both', both),
        route('r13', 'v13', 'app'),
        route('r12', 'v12', 'app'),
      ],
      backends: { app: named('app') },
      host: '127.0.0.1',
      ports: { 443: 0 },
    });
    try {
      const port = gw.ports[443]!;
      expect(await negotiate(port, 'v13.example.com', 'TLSv1.3')).toBe('TLSv1.3');
      expect(await negotiate(port, 'v13.example.com', 'TLSv1.2')).toBe('refused');
      expect(await negotiate(port, 'v12.example.com', 'TLSv1.2')).toBe('TLSv1.2');
      // The port negotiates the widest range of its listeners (TLS 1.3 here): v12 refuses it.
      expect(await negotiate(port, 'v12.example.com', 'TLSv1.3')).toBe('refused');
      expect(await negotiate(port, 'other.example.com', 'TLSv1.3')).toBe('refused');
    } finally {
      await gw.close();
    }
    const capped = await listen({
      manifests: [gateway([{ name: 'v12', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'both' }], options: { [MAX]: 'TLSv1.2' } } }]), tlsSecret('both', both), route('r12', 'v12', 'app')],
      backends: { app: named('app') },
      host: '127.0.0.1',
      ports: { 443: 0 },
    });
    try {
      expect(await negotiate(capped.ports[443]!, 'v12.example.com', 'TLSv1.3')).toBe('TLSv1.2');
      expect((await httpsGet(capped.ports[443]!, { servername: 'v12.example.com', ca: ca.cert })).body).toBe('app /');
    } finally {
      await capped.close();
    }
  });
});
