// Honest TLS status: a listener is programmed only when its certificates can be served.
// Spec digest 1.3 (certificateRefs, CEL rules), 10.3, 10.4 (InvalidCertificateRef for missing or
// malformed Secrets).
import { beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type GatewayRouter } from '../../src/index.js';
import { cond, gatewayStatus, listenerStatus } from './status-helpers.js';
import { makeCA, tlsSecret, type KeyPair } from '../support/certs.js';
import { gateway, httpsListener, type Obj } from '../server/helpers.js';

let pair: KeyPair;
let other: KeyPair;
beforeAll(() => {
  const ca = makeCA();
  pair = ca.server(['a.example.com']);
  other = ca.server(['b.example.com']);
});

const make = (manifests: Obj[]): GatewayRouter => createGateway({ manifests });
const withSecret = (secret: Obj): GatewayRouter => make([gateway([httpsListener('https', 443, undefined, ['cert'])]), secret]);
const resolved = (gw: GatewayRouter) => cond(listenerStatus(gw, 'https').conditions, 'ResolvedRefs');

describe('certificateRefs: a Secret that cannot be served is InvalidCertificateRef (digest 10.4)', () => {
  it('a usable Secret resolves, programs the listener and reaches the serving plan', () => {
    const gw = withSecret(tlsSecret('cert', pair));
    expect(resolved(gw)).toMatchObject({ status: 'True' });
    expect(cond(listenerStatus(gw, 'https').conditions, 'Programmed').status).toBe('True');
    expect(gw.serving.listeners).toHaveLength(1);
    expect(gw.serving.listeners[0]!.tls!.certificates[0]!.names).toEqual(['a.example.com']);
  });

  it('stringData works like data', () => {
    const gw = withSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'default' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': pair.cert, 'tls.key': pair.key } });
    expect(resolved(gw).status).toBe('True');
  });

  it.each([
    ['tls.crt is not PEM', { 'tls.crt': Buffer.from('Hello world\n').toString('base64') }, /not a PEM certificate/],
    ['tls.key is not PEM', { 'tls.key': Buffer.from('Hello world\n').toString('base64') }, /not a PEM private key/],
    ['tls.key belongs to another certificate', 'mismatch', /does not match/],
    ['tls.key is missing', 'nokey', /lacks tls.key/],
  ] as const)('%s', (_what, change, message) => {
    const s = tlsSecret('cert', pair) as { data: Record<string, string> };
    if (change === 'mismatch') s.data['tls.key'] = Buffer.from(other.key).toString('base64');
    else if (change === 'nokey') delete s.data['tls.key'];
    else Object.assign(s.data, change);
    const gw = withSecret(s);
    expect(resolved(gw)).toMatchObject({ status: 'False', reason: 'InvalidCertificateRef', message: expect.stringMatching(message) });
    expect(cond(listenerStatus(gw, 'https').conditions, 'Programmed').status).toBe('False');
    expect(gw.serving.listeners).toEqual([]);
  });
});

describe('spec.infrastructure.parametersRef (digest 10.3)', () => {
  it('is not supported: Gateway Accepted=False InvalidParameters, no listener programmed', () => {
    const gw = make([gateway([{ name: 'http', port: 80, protocol: 'HTTP' }], { infrastructure: { parametersRef: { group: 'invalid.io', kind: 'InvalidParameters', name: 'x' } } })]);
    expect(cond(gatewayStatus(gw).conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'InvalidParameters' });
    expect(cond(listenerStatus(gw, 'http').conditions, 'Programmed').status).toBe('False');
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'respond', status: 404 });
  });
});

describe('client-certificate validation status (GEP-91, digest 10.3, 10.4)', () => {
  const withValidation = (refs: Obj[], extra: Obj[] = [], mode = 'AllowValidOnly'): GatewayRouter =>
    make([
      gateway([httpsListener('https', 443, undefined, ['cert']), { name: 'http', port: 80, protocol: 'HTTP' }], { tls: { frontend: { default: { validation: { mode, caCertificateRefs: refs } } } } }),
      tlsSecret('cert', pair),
      ...extra,
    ]);
  const cm = (name: string, namespace = 'default', data: Record<string, string> = { 'ca.crt': pair.cert }): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data });
  const ls = (gw: GatewayRouter, name = 'https') => listenerStatus(gw, name).conditions;

  it('a ConfigMap with a PEM ca.crt resolves and reaches the serving plan; HTTP listeners are untouched', () => {
    const gw = withValidation([{ group: '', kind: 'ConfigMap', name: 'ca' }], [cm('ca')]);
    expect(cond(ls(gw), 'ResolvedRefs').status).toBe('True');
    expect(gw.serving.listeners.find((l) => l.name === 'https')!.tls!.frontend).toMatchObject({ mode: 'AllowValidOnly', ca: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(gw.serving.listeners.find((l) => l.name === 'http')!.tls).toBeNull();
  });

  it.each([
    ['a missing ConfigMap', [{ group: '', kind: 'ConfigMap', name: 'nope' }], () => [], 'InvalidCACertificateRef'],
    ['a ConfigMap without ca.crt', [{ group: '', kind: 'ConfigMap', name: 'ca' }], () => [cm('ca', 'default', { other: 'x' })], 'InvalidCACertificateRef'],
    ['a ca.crt that is not PEM', [{ group: '', kind: 'ConfigMap', name: 'ca' }], () => [cm('ca', 'default', { 'ca.crt': 'hello' })], 'InvalidCACertificateRef'],
    ['a Service', [{ group: '', kind: 'Service', name: 'svc' }], () => [], 'InvalidCACertificateKind'],
    ['a ConfigMap in another namespace without ReferenceGrant', [{ group: '', kind: 'ConfigMap', name: 'ca', namespace: 'other' }], () => [cm('ca', 'other')], 'RefNotPermitted'],
  ] as const)('%s: ResolvedRefs False, Accepted False NoValidCACertificate, not served', (_what, refs, extra, reason) => {
    const gw = withValidation([...refs], extra());
    expect(cond(ls(gw), 'ResolvedRefs')).toMatchObject({ status: 'False', reason });
    expect(cond(ls(gw), 'Accepted')).toMatchObject({ status: 'False', reason: 'NoValidCACertificate' });
    expect(cond(ls(gw), 'Programmed').status).toBe('False');
    expect(cond(ls(gw, 'http'), 'Programmed').status).toBe('True');
    expect(gw.serving.listeners.map((l) => l.name)).toEqual(['http']);
  });

  it('one invalid ref among valid ones: ResolvedRefs False but the listener stays accepted with the valid bundle', () => {
    const gw = withValidation([{ group: '', kind: 'ConfigMap', name: 'ca' }, { group: '', kind: 'ConfigMap', name: 'nope' }], [cm('ca')]);
    expect(cond(ls(gw), 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidCACertificateRef' });
    expect(cond(ls(gw), 'Accepted').status).toBe('True');
  });

  it('a perPort entry without validation switches validation off on its port', () => {
    const gw = make([
      gateway([httpsListener('https', 443, undefined, ['cert'])], { tls: { frontend: { default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'nope' }] } }, perPort: [{ port: 443, tls: {} }] } } }),
      tlsSecret('cert', pair),
    ]);
    expect(cond(ls(gw), 'Programmed').status).toBe('True');
    expect(gw.serving.listeners[0]!.tls!.frontend).toBeNull();
  });
});

describe('gateway-api-router.dev/TLSEnforced: who enforces a listener TLS settings (docs/listeners.md)', () => {
  const manifests = (): Obj[] => [gateway([httpsListener('https', 443, undefined, ['cert']), { name: 'http', port: 80, protocol: 'HTTP' }]), tlsSecret('cert', pair)];
  const enforced = (gw: GatewayRouter, l = 'https') => listenerStatus(gw, l).conditions.find((c) => c.type === 'gateway-api-router.dev/TLSEnforced');

  it('undeclared (createGateway, createHandler, Express, Fastify): False NotEnforced on HTTPS listeners, Programmed unchanged', () => {
    const gw = createGateway({ manifests: manifests() });
    expect(enforced(gw)).toMatchObject({ status: 'False', reason: 'NotEnforced', message: expect.stringContaining('listen()') });
    expect(cond(listenerStatus(gw, 'https').conditions, 'Programmed').status).toBe('True');
    expect(enforced(gw, 'http')).toBeUndefined();
  });

  it("tlsTermination: 'external' declares TLS terminated in front: True TerminatedExternally", () => {
    expect(enforced(createGateway({ manifests: manifests(), tlsTermination: 'external' }))).toMatchObject({ status: 'True', reason: 'TerminatedExternally' });
  });

  it('a bad tlsTermination is GW_ERR_OPTIONS_INVALID', () => {
    expect(() => createGateway({ manifests: manifests(), tlsTermination: 'yes' as never })).toThrow(expect.objectContaining({ code: 'GW_ERR_OPTIONS_INVALID' }));
  });
});
