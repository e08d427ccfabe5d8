// Issue 9 item 7, found by differential testing: IP hostnames, several parentRefs to one
// Gateway, and listeners whose allowedRoutes.kinds name an unsupported kind.
import { describe, expect, it } from 'vitest';
import { createGateway, GatewayConfigError, loadManifests } from '../../src/index.js';
import { accepted, cond, listenerStatus, routeParents } from './status-helpers.js';

const G = 'gateway.networking.k8s.io/v1';
type Obj = Record<string, unknown>;
const gateway = (listeners: Obj[]): Obj => ({ apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners } });
const route = (name: string, spec: Obj): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], ...spec, rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] } });
const svc: Obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } };
const http = (extra: Obj = {}): Obj => ({ name: 'http', port: 80, protocol: 'HTTP', ...extra });

describe('IP-address hostnames never match a Host (digest 1.1, 3.2)', () => {
  it('a listener hostname that is an IP serves no Host, not even that IP', () => {
    const gw = createGateway({ manifests: [gateway([http({ hostname: '10.0.0.1' })]), route('r', {}), svc] });
    expect(gw.route({ method: 'GET', path: '/', host: '10.0.0.1' })).toMatchObject({ type: 'respond', status: 404, reason: 'no-listener' });
    expect(gw.route({ method: 'GET', path: '/', host: '10.0.0.1:80' })).toMatchObject({ type: 'respond', status: 404 });
  });

  it.each([false, true])('a route hostname that is an IP never matches; IP Hosts reach only routes for any host (hostFallthrough %s)', (hostFallthrough) => {
    const gw = createGateway({ manifests: [gateway([http()]), route('ip', { hostnames: ['10.0.0.1', '1.2.3'] }), route('any', {}), svc], hostFallthrough });
    for (const host of ['10.0.0.1', '10.0.0.1:8080', '1.2.3', '0x7f.1', '[::1]', '[::1]:80']) {
      const d = gw.route({ method: 'GET', path: '/', host });
      expect(d, host).toMatchObject({ type: 'forward', route: { name: 'any' } });
      expect(gw.explain({ method: 'GET', path: '/', host }).decision, host).toMatchObject({ type: 'forward', route: { name: 'any' } });
    }
    expect(gw.route({ method: 'GET', path: '/', host: 'example.com' })).toMatchObject({ type: 'forward', route: { name: 'any' } });
  });

  it('a wildcard listener does not take an IP Host whose labels happen to match it', () => {
    const gw = createGateway({ manifests: [gateway([http({ hostname: '*.0.0.1' }), http({ name: 'any', port: 80, hostname: 'other.example.com' })]), route('r', {}), svc] });
    expect(gw.route({ method: 'GET', path: '/', host: '10.0.0.1' })).toMatchObject({ type: 'respond', status: 404 });
    expect(gw.route({ method: 'GET', path: '/', host: 'a.0.0.1x' })).toMatchObject({ type: 'respond', status: 404 });
  });

  it('hostnames ending in a letter are names, not IPs', () => {
    const gw = createGateway({ manifests: [gateway([http({ hostname: '*.example.de' })]), route('r', {}), svc] });
    expect(gw.route({ method: 'GET', path: '/', host: 'a.example.de' })).toMatchObject({ type: 'forward' });
    expect(gw.route({ method: 'GET', path: '/', host: '1.example.de' })).toMatchObject({ type: 'forward' });
  });
});

describe('several parentRefs to one Gateway follow the standard-channel CEL exactly (digest 2.1)', () => {
  const listeners = [http({ name: 'a' }), http({ name: 'b', port: 8080 })];

  it('sectionName a, and sectionName b with a port, is valid and attaches to both listeners', () => {
    const r = { ...route('r', {}), spec: { parentRefs: [{ name: 'gw', sectionName: 'a' }, { name: 'gw', sectionName: 'b', port: 8080 }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] } };
    expect(loadManifests(r).issues).toEqual([]);
    const gw = createGateway({ manifests: [gateway(listeners), r, svc] });
    expect(routeParents(gw, 'r').map((p) => [p.parentRef.sectionName, accepted(p).status])).toEqual([['a', 'True'], ['b', 'True']]);
    expect(listenerStatus(gw, 'a').attachedRoutes).toBe(1);
    expect(listenerStatus(gw, 'b').attachedRoutes).toBe(1);
  });

  it.each([
    ['two refs that differ only by port', [{ name: 'gw', port: 80 }, { name: 'gw', port: 8080 }], 'sectionName must be unique'],
    ['one ref with sectionName, one with only a port', [{ name: 'gw', sectionName: 'a' }, { name: 'gw', port: 8080 }], 'sectionName must be specified'],
    ['the same sectionName twice with different ports', [{ name: 'gw', sectionName: 'a', port: 80 }, { name: 'gw', sectionName: 'a', port: 8080 }], 'sectionName must be unique'],
  ])('%s is refused', (_what, parentRefs, message) => {
    const r = { ...route('r', {}), spec: { parentRefs, rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] } };
    const errors = loadManifests(r).issues;
    expect(errors).toContainEqual(expect.objectContaining({ code: 'GW_MANIFEST_RULE', path: 'spec.parentRefs[1]' }));
    for (const e of errors) expect(e).toMatchObject({ code: 'GW_MANIFEST_RULE', severity: 'error' });
    expect(errors[0]!.message).toContain(message);
    expect(() => createGateway({ manifests: [gateway(listeners), r, svc] })).toThrow(GatewayConfigError);
  });

  it('refs to different Gateways, or in different namespaces, never clash', () => {
    const r = { ...route('r', {}), spec: { parentRefs: [{ name: 'gw', port: 80 }, { name: 'gw', namespace: 'other', port: 8080 }, { name: 'gw2' }] } };
    expect(loadManifests(r).issues.filter((i) => i.severity === 'error')).toEqual([]);
  });
});

describe('status and traffic agree for allowedRoutes.kinds naming an unsupported kind (digest 1.3)', () => {
  it('with a valid kind left: ResolvedRefs=False/InvalidRouteKinds, the listener is programmed, and the attached route is served', () => {
    const gw = createGateway({ manifests: [gateway([http({ allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }, { kind: 'FooRoute' }] } })]), route('r', {}), svc] });
    const l = listenerStatus(gw, 'http');
    expect(l.supportedKinds.map((k) => k.kind)).toEqual(['HTTPRoute']);
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidRouteKinds' });
    expect(cond(l.conditions, 'Programmed')).toMatchObject({ status: 'True' });
    expect(l.attachedRoutes).toBe(1);
    expect(accepted(routeParents(gw, 'r')[0]!)).toMatchObject({ status: 'True' });
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'r' } });
  });

  it('with no valid kind: nothing attaches, and nothing is served', () => {
    const gw = createGateway({ manifests: [gateway([http({ allowedRoutes: { kinds: [{ kind: 'FooRoute' }] } })]), route('r', {}), svc] });
    const l = listenerStatus(gw, 'http');
    expect(l.attachedRoutes).toBe(0);
    expect(cond(l.conditions, 'Programmed')).toMatchObject({ status: 'False' });
    expect(accepted(routeParents(gw, 'r')[0]!)).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'respond', status: 404 });
  });

  it('a bad certificate still stops the listener, whatever the kinds; one ResolvedRefs condition says so', () => {
    const tls = { certificateRefs: [{ name: 'missing' }] };
    const gw = createGateway({ manifests: [gateway([{ name: 'https', port: 443, protocol: 'HTTPS', tls, allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }, { kind: 'FooRoute' }] } }]), route('r', {}), svc] });
    const l = listenerStatus(gw, 'https');
    expect(l.conditions.filter((c) => c.type === 'ResolvedRefs')).toEqual([expect.objectContaining({ status: 'False', reason: 'InvalidCertificateRef' })]);
    expect(cond(l.conditions, 'Programmed')).toMatchObject({ status: 'False' });
    expect(l.supportedKinds.map((k) => k.kind)).toEqual(['HTTPRoute']);
  });
});
