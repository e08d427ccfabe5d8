// Frontend client-certificate validation (GEP-91, spec.tls.frontend) over real TLS connections:
// CA bundles from ConfigMaps, a per-port override, AllowValidOnly and AllowInsecureFallback.
// Spec digest 1.3 (Gateway tls), 10.3 (InsecureFrontendValidationMode), 10.4.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type ListeningGateway } from '../../src/server/node-entry.js';
import { caConfigMap, makeCA, tlsSecret, type KeyPair, type TestCA } from '../support/certs.js';
import { gateway, httpsGet, httpsListener, named, route, type Obj } from './helpers.js';
import { cond, gatewayStatus } from '../model/status-helpers.js';

let serverCA: TestCA;
let clientCA: TestCA;
let perPortCA: TestCA;
let client: KeyPair;
let perPortClient: KeyPair;

beforeAll(() => {
  serverCA = makeCA('server CA');
  clientCA = makeCA('client CA');
  perPortCA = makeCA('per-port client CA');
  client = clientCA.client('alice');
  perPortClient = perPortCA.client('bob');
});

function manifests(mode: 'AllowValidOnly' | 'AllowInsecureFallback'): Obj[] {
  const validation = (cm: string) => ({ mode, caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: cm }] });
  return [
    gateway([httpsListener('https', 443, undefined, ['cert']), httpsListener('https-8443', 8443, 'second-example.org', ['cert'])], {
      tls: { frontend: { default: { validation: validation('client-ca') }, perPort: [{ port: 8443, tls: { validation: validation('per-port-ca') } }] } },
    }),
    tlsSecret('cert', serverCA.server(['example.org', 'second-example.org'])),
    caConfigMap('client-ca', clientCA.cert),
    caConfigMap('per-port-ca', perPortCA.cert),
    route('r', 'https', 'v1'),
    route('r2', 'https-8443', 'v2'),
  ];
}

const backends = { v1: named('v1'), v2: named('v2') };

/** The answer's status, or 0 when the handshake or the request was refused. */
async function statusOf(port: number, servername: string, pair: KeyPair | null): Promise<number> {
  try {
    const r = await httpsGet(port, { servername, ca: serverCA.cert, ...(pair ? { cert: pair.cert, key: pair.key } : {}) });
    return r.status;
  } catch {
    return 0;
  }
}

describe('AllowValidOnly (the default mode)', () => {
  let gw: ListeningGateway;
  beforeAll(async () => {
    gw = await listen({ manifests: manifests('AllowValidOnly'), backends, host: '127.0.0.1', ports: { 443: 0, 8443: 0 } });
  });
  afterAll(() => gw.close());

  it('accepts a client certificate issued by the default CA on the default port', async () => {
    expect(await statusOf(gw.ports[443]!, 'example.org', client)).toBe(200);
  });

  it('refuses a certificate from another CA, and a client without certificate', async () => {
    expect(await statusOf(gw.ports[443]!, 'example.org', perPortClient)).toBe(0);
    expect(await statusOf(gw.ports[443]!, 'example.org', null)).toBe(0);
  });

  it('the perPort entry overrides the default on its port', async () => {
    expect(await statusOf(gw.ports[8443]!, 'second-example.org', perPortClient)).toBe(200);
    expect(await statusOf(gw.ports[8443]!, 'second-example.org', client)).toBe(0);
  });

  it('sets no InsecureFrontendValidationMode condition', () => {
    expect(gatewayStatus(gw.router).conditions.map((c) => c.type)).not.toContain('InsecureFrontendValidationMode');
  });
});

describe('AllowInsecureFallback', () => {
  let gw: ListeningGateway;
  beforeAll(async () => {
    gw = await listen({ manifests: manifests('AllowInsecureFallback'), backends, host: '127.0.0.1', ports: { 443: 0, 8443: 0 } });
  });
  afterAll(() => gw.close());

  it('accepts valid, invalid and missing client certificates alike', async () => {
    for (const pair of [client, perPortClient, null]) expect(await statusOf(gw.ports[443]!, 'example.org', pair)).toBe(200);
    for (const pair of [perPortClient, client, null]) expect(await statusOf(gw.ports[8443]!, 'second-example.org', pair)).toBe(200);
  });

  it('says so on the Gateway: InsecureFrontendValidationMode=True ConfigurationChanged (digest 10.3)', () => {
    expect(cond(gatewayStatus(gw.router).conditions, 'InsecureFrontendValidationMode')).toMatchObject({ status: 'True', reason: 'ConfigurationChanged' });
  });
});

describe('reload', () => {
  it('a reload that switches the mode applies to new connections', async () => {
    const gw = await listen({ manifests: manifests('AllowValidOnly'), backends, host: '127.0.0.1', ports: { 443: 0, 8443: 0 } });
    try {
      expect(await statusOf(gw.ports[443]!, 'example.org', null)).toBe(0);
      await gw.reload(manifests('AllowInsecureFallback'));
      expect(await statusOf(gw.ports[443]!, 'example.org', null)).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
