// ListenerSets (spec digest 1.8; GEP-1713): which ListenerSets a Gateway admits, the merged
// listener list and its conflicts (digest 1.3 for one resource, 1.8 across resources), route
// attachment through a ListenerSet parent (digest 2.1, 2.2), status (digest 10.3, 10.4), routing
// over the merged list (digest 3) and hot reload. Everything goes through the public API.
import { describe, expect, it } from 'vitest';
import { createGateway, ListenerSetSchema } from '../../src/index.js';
import type { Condition, GatewayRouter, ListenerSetStatus, ListenerStatus } from '../../src/index.js';
import { cond, gatewayStatus, routeParents } from './status-helpers.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io';
const NOW = () => new Date('2026-01-01T00:00:00Z');

const http = (name: string, hostname?: string, port = 80, extra: Obj = {}): Obj => ({ name, port, protocol: 'HTTP', ...(hostname ? { hostname } : {}), allowedRoutes: { namespaces: { from: 'All' } }, ...extra });

function gateway(listeners: Obj[], from?: string, extra: Obj = {}): Obj {
  return { apiVersion: `${G}/v1`, kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra' }, spec: { gatewayClassName: 'any', listeners, ...(from ? { allowedListeners: { namespaces: { from, ...extra } } } : {}) } };
}

function listenerSet(name: string, listeners: Obj[], o: { namespace?: string; created?: string } = {}): Obj {
  return {
    apiVersion: `${G}/v1`,
    kind: 'ListenerSet',
    metadata: { name, namespace: o.namespace ?? 'infra', ...(o.created ? { creationTimestamp: o.created } : {}) },
    spec: { parentRef: { name: 'gw', namespace: 'infra' }, listeners },
  };
}

/** An HTTPRoute in `infra` on `parentRefs`, answering `path` with Service `backend`. */
function route(name: string, parentRefs: Obj[], path: string, backend = 'web', hostnames?: string[]): Obj {
  return {
    apiVersion: `${G}/v1`,
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'infra' },
    spec: { parentRefs, ...(hostnames ? { hostnames } : {}), rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: backend, port: 8080 }] }] },
  };
}

const toGateway = (sectionName?: string): Obj => ({ name: 'gw', namespace: 'infra', ...(sectionName ? { sectionName } : {}) });
const toSet = (name: string, o: { sectionName?: string; port?: number } = {}): Obj => ({ kind: 'ListenerSet', group: G, name, ...o });
const services = ['web', 'team'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'infra' }, spec: { ports: [{ port: 8080 }] } }));
const namespaceObj = (name: string, labels?: Record<string, string>): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } });

function make(manifests: Obj[], now: () => Date = NOW): GatewayRouter {
  return createGateway({ now, manifests: [...services, ...manifests], gateway: { namespace: 'infra', name: 'gw' } });
}

function setStatus(gw: GatewayRouter, name: string, namespace = 'infra'): ListenerSetStatus {
  const s = gw.statusOf('ListenerSet', name, namespace);
  if (s?.kind !== 'ListenerSet') throw new Error(`no ListenerSet status for ${namespace}/${name}`);
  return s.status;
}

function setListener(gw: GatewayRouter, set: string, listener: string, namespace = 'infra'): ListenerStatus {
  const l = setStatus(gw, set, namespace).listeners.find((x) => x.name === listener);
  if (!l) throw new Error(`no status for listener ${listener} of ${set}`);
  return l;
}

const brief = (c: Condition) => `${c.status}/${c.reason}`;
const forwardedTo = (gw: GatewayRouter, host: string, path = '/') => {
  const d = gw.route({ method: 'GET', path, host });
  return d.type === 'forward' ? d.backend.name : d.status;
};

// ---------------------------------------------------------------------------------------------

describe('allowedListeners (digest 1.3 allowedListeners, 1.8)', () => {
  const set = (namespace = 'infra') => listenerSet('team', [http('team', 'team.example.com')], { namespace });

  it('none by default: a ListenerSet is Accepted False NotAllowed and its hostname gets 404', () => {
    const gw = make([gateway([http('main', 'main.example.com')]), set(), route('r', [toSet('team')], '/')]);
    const s = setStatus(gw, 'team');
    expect(brief(cond(s.conditions, 'Accepted'))).toBe('False/NotAllowed');
    expect(brief(cond(s.conditions, 'Programmed'))).toBe('False/NotAllowed');
    expect(s.listeners).toEqual([]);
    expect(gatewayStatus(gw, 'gw', 'infra').attachedListenerSets).toBe(0);
    expect(forwardedTo(gw, 'team.example.com')).toBe(404);
    // The route names a parent that serves nothing: rejected, with the reason.
    expect(brief(cond(routeParents(gw, 'r', 'infra')[0]!.conditions, 'Accepted'))).toBe('False/NotAllowedByListeners');
  });

  it('a Gateway that does not opt in writes no attachedListenerSets unless a ListenerSet names it', () => {
    const gw = make([gateway([http('main')])]);
    expect(gatewayStatus(gw, 'gw', 'infra')).not.toHaveProperty('attachedListenerSets');
  });

  it('Same admits the Gateway namespace only', () => {
    const gw = make([gateway([http('main', 'main.example.com')], 'Same'), namespaceObj('apps'), set(), listenerSet('other', [http('other', 'other.example.com')], { namespace: 'apps' })]);
    expect(brief(cond(setStatus(gw, 'team').conditions, 'Accepted'))).toBe('True/Accepted');
    expect(brief(cond(setStatus(gw, 'other', 'apps').conditions, 'Accepted'))).toBe('False/NotAllowed');
    expect(gatewayStatus(gw, 'gw', 'infra').attachedListenerSets).toBe(1);
  });

  it('All admits every namespace; Selector matches the ListenerSet namespace labels', () => {
    const all = make([gateway([http('main')], 'All'), namespaceObj('apps'), listenerSet('other', [http('other', 'other.example.com')], { namespace: 'apps' })]);
    expect(brief(cond(setStatus(all, 'other', 'apps').conditions, 'Accepted'))).toBe('True/Accepted');
    const selected = [namespaceObj('apps', { team: 'a' }), namespaceObj('misc'), listenerSet('a', [http('a', 'a.example.com')], { namespace: 'apps' }), listenerSet('b', [http('b', 'b.example.com')], { namespace: 'misc' })];
    const sel = make([gateway([http('main')], 'Selector', { selector: { matchLabels: { team: 'a' } } }), ...selected]);
    expect(brief(cond(setStatus(sel, 'a', 'apps').conditions, 'Accepted'))).toBe('True/Accepted');
    expect(brief(cond(setStatus(sel, 'b', 'misc').conditions, 'Accepted'))).toBe('False/NotAllowed');
  });

  it('a ListenerSet whose parent Gateway is not in the manifests gets no status (not ours to write)', () => {
    const orphan = { ...listenerSet('orphan', [http('x')]), spec: { parentRef: { name: 'elsewhere' }, listeners: [http('x')] } };
    const gw = make([gateway([http('main')], 'All'), orphan]);
    expect(gw.statusOf('ListenerSet', 'orphan', 'infra')).toBeUndefined();
  });
});

describe('conflicts between Gateway and ListenerSet listeners (digest 1.3, 1.8: the earlier listener in merged order wins)', () => {
  it('a ListenerSet listener with the port, protocol and hostname of a Gateway listener is HostnameConflict; the Gateway keeps it', () => {
    const gw = make([gateway([http('main', 'shared.example.com')], 'Same'), listenerSet('team', [http('dup', 'shared.example.com'), http('own', 'team.example.com')]), route('gw-route', [toGateway()], '/', 'web'), route('team-route', [toSet('team')], '/', 'team')]);
    const dup = setListener(gw, 'team', 'dup');
    expect(brief(cond(dup.conditions, 'Accepted'))).toBe('False/HostnameConflict');
    expect(brief(cond(dup.conditions, 'Conflicted'))).toBe('True/HostnameConflict');
    expect(brief(cond(dup.conditions, 'Programmed'))).toBe('False/HostnameConflict');
    // The message names the Gateway's listener, which the ListenerSet's owner may know about.
    expect(cond(dup.conditions, 'Conflicted').message).toContain('infra/gw');
    const main = gatewayStatus(gw, 'gw', 'infra').listeners[0]!;
    expect(brief(cond(main.conditions, 'Conflicted'))).toBe('False/NoConflicts');
    // The ListenerSet keeps its other listener: accepted with ListenersNotValid.
    expect(brief(cond(setStatus(gw, 'team').conditions, 'Accepted'))).toBe('True/ListenersNotValid');
    // Traffic for the shared hostname stays with the Gateway's listener and its routes.
    expect(forwardedTo(gw, 'shared.example.com')).toBe('web');
    expect(forwardedTo(gw, 'team.example.com')).toBe('team');
  });

  it('another protocol on a Gateway listener port is ProtocolConflict for the ListenerSet listener only', () => {
    const https = { name: 'tls', port: 80, protocol: 'HTTPS', hostname: 'x.example.com', tls: { certificateRefs: [{ name: 'missing' }] } };
    const gw = make([gateway([http('main')], 'Same'), listenerSet('team', [https])]);
    expect(brief(cond(setListener(gw, 'team', 'tls').conditions, 'Accepted'))).toBe('False/ProtocolConflict');
    expect(brief(cond(gatewayStatus(gw, 'gw', 'infra').listeners[0]!.conditions, 'Accepted'))).toBe('True/Accepted');
    const s = setStatus(gw, 'team');
    expect(brief(cond(s.conditions, 'Accepted'))).toBe('False/ListenersNotValid');
    expect(gatewayStatus(gw, 'gw', 'infra').attachedListenerSets).toBe(0);
  });

  it('between two ListenerSets the older wins, whatever the names (digest 1.8 precedence)', () => {
    const older = listenerSet('zeta', [http('l', 'same.example.com')], { created: '2025-01-01T00:00:00Z' });
    const newer = listenerSet('alpha', [http('l', 'same.example.com')], { created: '2025-06-01T00:00:00Z' });
    const gw = make([gateway([http('main', 'main.example.com')], 'Same'), newer, older, route('z', [toSet('zeta')], '/', 'web'), route('a', [toSet('alpha')], '/', 'team')]);
    expect(brief(cond(setListener(gw, 'zeta', 'l').conditions, 'Conflicted'))).toBe('False/NoConflicts');
    expect(brief(cond(setListener(gw, 'alpha', 'l').conditions, 'Conflicted'))).toBe('True/HostnameConflict');
    expect(forwardedTo(gw, 'same.example.com')).toBe('web');
    // The loser's message does not name the other ListenerSet (GEP-1713: no leaks across owners).
    expect(cond(setListener(gw, 'alpha', 'l').conditions, 'Conflicted').message).not.toContain('zeta');
  });

  it('equally old ListenerSets are ordered by {namespace}/{name} (digest 1.8 precedence)', () => {
    const gw = make([gateway([http('main', 'main.example.com')], 'Same'), listenerSet('b', [http('l', 'same.example.com')]), listenerSet('a', [http('l', 'same.example.com')])]);
    expect(brief(cond(setListener(gw, 'a', 'l').conditions, 'Accepted'))).toBe('True/Accepted');
    expect(brief(cond(setListener(gw, 'b', 'l').conditions, 'Accepted'))).toBe('False/HostnameConflict');
  });

  it('within one ListenerSet no winner is picked: both listeners with incompatible protocols on one port are conflicted (digest 1.3)', () => {
    const tls = { name: 'pass', port: 8443, protocol: 'TLS', tls: { mode: 'Passthrough' } };
    const https = { name: 'term', port: 8443, protocol: 'HTTPS', hostname: 'x.example.com', tls: { certificateRefs: [{ name: 'missing' }] } };
    const gw = make([gateway([http('main')], 'Same'), listenerSet('team', [tls, https])]);
    expect(brief(cond(setListener(gw, 'team', 'pass').conditions, 'Conflicted'))).toBe('True/ProtocolConflict');
    expect(brief(cond(setListener(gw, 'team', 'term').conditions, 'Conflicted'))).toBe('True/ProtocolConflict');
  });

  it('names may repeat across a Gateway and its ListenerSets (GEP-1713 Listener Validation)', () => {
    const gw = make([gateway([http('web', 'main.example.com')], 'Same'), listenerSet('team', [http('web', 'team.example.com')]), route('a', [toGateway('web')], '/', 'web'), route('b', [toSet('team', { sectionName: 'web' })], '/', 'team')]);
    expect(brief(cond(setListener(gw, 'team', 'web').conditions, 'Accepted'))).toBe('True/Accepted');
    expect(forwardedTo(gw, 'main.example.com')).toBe('web');
    expect(forwardedTo(gw, 'team.example.com')).toBe('team');
    expect(gatewayStatus(gw, 'gw', 'infra').listeners[0]!.attachedRoutes).toBe(1);
    expect(setListener(gw, 'team', 'web').attachedRoutes).toBe(1);
  });
});

describe('routes on ListenerSet listeners (digest 2.1, 2.2; GEP-1713 Route Attachment)', () => {
  const base = () => [gateway([http('main', 'main.example.com')], 'Same'), listenerSet('team', [http('a', 'a.team.example.com'), http('b', 'b.team.example.com', 8080)])];

  it('port selects the ListenerSet listeners on that port', () => {
    const gw = make([...base(), route('r', [toSet('team', { port: 8080 })], '/')]);
    expect(setListener(gw, 'team', 'a').attachedRoutes).toBe(0);
    expect(setListener(gw, 'team', 'b').attachedRoutes).toBe(1);
    expect(gw.route({ method: 'GET', path: '/', host: 'b.team.example.com', port: 8080 }).type).toBe('forward');
    expect(forwardedTo(gw, 'a.team.example.com')).toBe(404);
  });

  it('a sectionName the ListenerSet lacks is NoMatchingParent, naming the ListenerSet', () => {
    const gw = make([...base(), route('r', [toSet('team', { sectionName: 'main' })], '/')]);
    const c = cond(routeParents(gw, 'r', 'infra')[0]!.conditions, 'Accepted');
    expect(brief(c)).toBe('False/NoMatchingParent');
    expect(c.message).toContain('ListenerSet infra/team');
  });

  it('route hostnames intersect the ListenerSet listener hostname (digest 2.3)', () => {
    const gw = make([...base(), route('r', [toSet('team', { sectionName: 'a' })], '/', 'team', ['*.team.example.com', 'other.example.com'])]);
    expect(forwardedTo(gw, 'a.team.example.com')).toBe('team');
    const none = make([...base(), route('r', [toSet('team', { sectionName: 'a' })], '/', 'team', ['other.example.com'])]);
    expect(brief(cond(routeParents(none, 'r', 'infra')[0]!.conditions, 'Accepted'))).toBe('False/NoMatchingListenerHostname');
  });

  it('route status entries are kept apart by parentRef kind, also when a Gateway and a ListenerSet share a name (digest 10.1: lastTransitionTime kept per entry)', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => new Date((t += 60_000));
    const sameName = { ...listenerSet('gw', [http('a', 'a.team.example.com')]) };
    const r = route('r', [toGateway(), { ...toSet('gw'), namespace: 'infra' }], '/', 'web', ['main.example.com']);
    const manifests = [gateway([http('main', 'main.example.com')], 'Same'), sameName, r];
    const gw = make(manifests, clock);
    const before = routeParents(gw, 'r', 'infra');
    expect(before.map((p) => `${p.parentRef.kind}: ${brief(cond(p.conditions, 'Accepted'))}`)).toEqual(['Gateway: True/Accepted', 'ListenerSet: False/NoMatchingListenerHostname']);
    expect(gw.reload([...services, ...manifests]).ok).toBe(true);
    const after = routeParents(gw, 'r', 'infra');
    for (const i of [0, 1]) expect(cond(after[i]!.conditions, 'Accepted').lastTransitionTime).toBe(cond(before[i]!.conditions, 'Accepted').lastTransitionTime);
  });

  it('the Decision and explain() name the ListenerSet of the listener that served (digest 3)', () => {
    const gw = make([...base(), route('r', [toSet('team')], '/', 'team')]);
    const d = gw.route({ method: 'GET', path: '/', host: 'a.team.example.com' });
    expect(d.listener).toMatchObject({ gateway: 'infra/gw', name: 'a', listenerSet: 'infra/team' });
    const main = gw.route({ method: 'GET', path: '/', host: 'main.example.com' });
    expect(main.listener).not.toHaveProperty('listenerSet');
    const why = gw.explain({ method: 'GET', path: '/', host: 'a.team.example.com', port: 80 });
    expect(why.listeners.find((l) => l.outcome === 'selected')).toMatchObject({ name: 'a', listenerSet: 'infra/team' });
    expect(gw.ir.listeners.map((l) => l.listenerSet ?? null)).toEqual([null, 'infra/team', 'infra/team']);
  });

  it('listener isolation holds across the merged list: a wildcard Gateway listener does not catch a ListenerSet host (digest 3, GatewayHTTPListenerIsolation)', () => {
    const gw = make([gateway([http('wild', '*.example.com')], 'Same'), listenerSet('team', [http('exact', 'team.example.com')]), route('w', [toGateway()], '/', 'web'), route('t', [toSet('team')], '/only-team', 'team')]);
    expect(forwardedTo(gw, 'team.example.com', '/only-team')).toBe('team');
    // The most specific listener is the ListenerSet's: the Gateway's wildcard route is not a fallback.
    expect(forwardedTo(gw, 'team.example.com', '/')).toBe(404);
    expect(forwardedTo(gw, 'other.example.com', '/')).toBe('web');
  });
});

describe('certificateRefs of ListenerSet listeners (GEP-1713 ReferenceGrant Semantics)', () => {
  const https = (ns: string) => ({ name: 'tls', port: 443, protocol: 'HTTPS', hostname: 'team.example.com', tls: { certificateRefs: [{ name: 'cert', namespace: ns }] } });
  const grant = (kind: string) => ({ apiVersion: `${G}/v1beta1`, kind: 'ReferenceGrant', metadata: { name: `from-${kind.toLowerCase()}`, namespace: 'certs' }, spec: { from: [{ group: G, kind, namespace: 'infra' }], to: [{ group: '', kind: 'Secret' }] } });

  it('a grant to the Gateway does not extend to its ListenerSets; a grant from ListenerSet does', () => {
    const gatewayGrant = make([gateway([http('main')], 'Same'), namespaceObj('certs'), grant('Gateway'), listenerSet('team', [https('certs')])]);
    expect(brief(cond(setListener(gatewayGrant, 'team', 'tls').conditions, 'ResolvedRefs'))).toBe('False/RefNotPermitted');
    const setGrant = make([gateway([http('main')], 'Same'), namespaceObj('certs'), grant('ListenerSet'), listenerSet('team', [https('certs')])]);
    // Permitted now; the Secret is missing, which is the next check (InvalidCertificateRef).
    expect(brief(cond(setListener(setGrant, 'team', 'tls').conditions, 'ResolvedRefs'))).toBe('False/InvalidCertificateRef');
  });
});

describe('hot reload (gw.reload swaps the whole table at once)', () => {
  const gwManifests = [gateway([http('main', 'main.example.com')], 'Same'), route('m', [toGateway()], '/', 'web')];
  const team = [listenerSet('team', [http('l', 'team.example.com')]), route('t', [toSet('team')], '/', 'team')];

  it('adding a ListenerSet starts serving its hostname; removing it stops, with status following', () => {
    const gw = make(gwManifests);
    expect(forwardedTo(gw, 'team.example.com')).toBe(404);
    expect(gw.reload([...services, ...gwManifests, ...team]).ok).toBe(true);
    expect(forwardedTo(gw, 'team.example.com')).toBe('team');
    expect(forwardedTo(gw, 'main.example.com')).toBe('web');
    expect(gatewayStatus(gw, 'gw', 'infra').attachedListenerSets).toBe(1);
    expect(gw.reload([...services, ...gwManifests]).ok).toBe(true);
    expect(forwardedTo(gw, 'team.example.com')).toBe(404);
    expect(gw.statusOf('ListenerSet', 'team', 'infra')).toBeUndefined();
    expect(gatewayStatus(gw, 'gw', 'infra').attachedListenerSets).toBe(0);
  });

  it('a ListenerSet added later is younger: it loses a conflict to the one already there, whatever its name', () => {
    // No creationTimestamps: each object stands in with the time it was first seen, a minute apart here.
    let t = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => new Date((t += 60_000));
    const first = listenerSet('zz-first', [http('l', 'same.example.com')]);
    const gw = make([...gwManifests, first, route('z', [toSet('zz-first')], '/', 'web')], clock);
    const later = listenerSet('aa-later', [http('l', 'same.example.com')]);
    expect(gw.reload([...services, ...gwManifests, first, route('z', [toSet('zz-first')], '/', 'web'), later, route('a', [toSet('aa-later')], '/', 'team')]).ok).toBe(true);
    expect(brief(cond(setListener(gw, 'aa-later', 'l').conditions, 'Conflicted'))).toBe('True/HostnameConflict');
    expect(forwardedTo(gw, 'same.example.com')).toBe('web');
  });

  it('a failed reload leaves the ListenerSet listeners serving', () => {
    const gw = make([...gwManifests, ...team]);
    const bad = { ...listenerSet('team', [http('l', 'team.example.com'), http('l', 'again.example.com')]) };
    const r = gw.reload([...services, ...gwManifests, bad]);
    expect(r.ok).toBe(false);
    expect(forwardedTo(gw, 'team.example.com')).toBe('team');
  });
});

describe('ListenerSetSchema (apis/v1/listenerset_types.go, CRD defaults and CEL)', () => {
  it('applies the parentRef and listener defaults', () => {
    const ls = ListenerSetSchema.parse({ apiVersion: `${G}/v1`, kind: 'ListenerSet', metadata: { name: 'x', namespace: 'a' }, spec: { parentRef: { name: 'gw' }, listeners: [{ name: 'l', port: 80, protocol: 'HTTP' }] } });
    expect(ls.spec.parentRef).toEqual({ group: G, kind: 'Gateway', name: 'gw' });
    expect(ls.spec.listeners[0]!.allowedRoutes).toEqual({ namespaces: { from: 'Same' } });
  });

  it.each([
    ['duplicate listener names', [{ name: 'l', port: 80, protocol: 'HTTP' }, { name: 'l', port: 81, protocol: 'HTTP' }], 'Listener name must be unique within the Gateway'],
    ['duplicate port/protocol/hostname', [{ name: 'a', port: 80, protocol: 'HTTP' }, { name: 'b', port: 80, protocol: 'HTTP' }], 'Combination of port, protocol and hostname must be unique for each listener'],
    ['tls on HTTP', [{ name: 'a', port: 80, protocol: 'HTTP', tls: { certificateRefs: [{ name: 'c' }] } }], "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"],
    ['no listeners', [], undefined],
  ])('rejects %s', (_what, listeners, message) => {
    const r = ListenerSetSchema.safeParse({ apiVersion: `${G}/v1`, kind: 'ListenerSet', metadata: { name: 'x' }, spec: { parentRef: { name: 'gw' }, listeners } });
    expect(r.success).toBe(false);
    if (message !== undefined) expect(r.error!.issues.map((i) => i.message)).toContain(message);
  });

  it('is loaded instead of ignored: no GW_MANIFEST_UNIMPLEMENTED warning', () => {
    const gw = make([gateway([http('main')], 'Same'), listenerSet('team', [http('l', 'team.example.com')])]);
    expect(gw.issues.filter((i) => i.message.includes('ListenerSet'))).toEqual([]);
  });
});
