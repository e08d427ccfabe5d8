// What the compiled runtime shares between rules (gateway/runtime.ts, RuleRuntime): plain rules
// (no filters, no session, a stateless picker) listing the same backends share one runtime, to
// keep 50,000 routes small; a rule whose picks or filters are its own keeps its own, so that
// sharing never changes a Decision (weighted picks, spec digest 8.1; filters, digest 7).
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { compileRuntime, type RoutingOptions } from '../../src/gateway/runtime.js';
import type { Candidate } from '../../src/match/compile.js';
import type { TrieNode } from '../../src/match/trie/slots.js';
import type { MatchCandidate, RuleRuntime } from '../../src/gateway/runtime.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io/v1';
const gateway: Obj = { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } };
const svc = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
const route = (name: string, rule: Obj): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], rules: [rule] } });
const prefix = (value: string) => [{ path: { type: 'PathPrefix', value } }];
const ab = [
  { name: 'a', port: 80, weight: 1 },
  { name: 'b', port: 80, weight: 1 },
];

/** The RuleRuntime of every compiled candidate, by the path value of its match. */
function runtimesByPath(manifests: Obj[], options: RoutingOptions = {}): Map<string, RuleRuntime> {
  const gw = createGateway({ manifests, now: () => new Date(0) });
  const rt = compileRuntime(gw.ir, options);
  const out = new Map<string, RuleRuntime>();
  const visit = (node: TrieNode) => {
    for (const c of node.full.all as Candidate[]) out.set(c.match.path.value, (c as MatchCandidate).rr);
    for (let k = 5; k < node.slots.length; k += 6) if (node.slots[k] !== null) visit(node.slots[k] as TrieNode);
    if (node.oneNode !== null) visit(node.oneNode);
  };
  visit(rt.matcher.listeners[0]!.anyHost!.root);
  return out;
}

describe('RuleRuntime sharing (gateway/runtime.ts)', () => {
  const base = [gateway, svc('a'), svc('b')];

  it('plain rules listing the same backends share one runtime; other backends get another', () => {
    const rr = runtimesByPath([...base, route('r1', { matches: prefix('/one'), backendRefs: ab }), route('r2', { matches: prefix('/two'), backendRefs: ab }), route('r3', { matches: prefix('/three'), backendRefs: [{ name: 'a', port: 80 }] })]);
    expect(rr.get('/one')).toBe(rr.get('/two'));
    expect(rr.get('/three')).not.toBe(rr.get('/one'));
    expect(rr.get('/one')!.backends.map((b) => b.name)).toEqual(['a', 'b']);
  });

  it('a rule with filters or a session keeps its own runtime, with its own filters', () => {
    const filtered = { matches: prefix('/f'), backendRefs: ab, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-f', value: '1' }] } }] };
    const session = { matches: prefix('/s'), backendRefs: ab, sessionPersistence: { sessionName: 'sess', type: 'Cookie' } };
    const rr = runtimesByPath([...base, route('p', { matches: prefix('/p'), backendRefs: ab }), route('f', filtered), route('s', session)]);
    expect(new Set([rr.get('/p'), rr.get('/f'), rr.get('/s')]).size).toBe(3);
    expect(rr.get('/f')!.filters).toHaveLength(1);
    expect(rr.get('/p')!.filters).toHaveLength(0);
  });

  it('lists of the same choices are shared whatever the weights; a backend with filters makes its own list', () => {
    const abc = (w: number) => ['a', 'b', 'c'].map((name, i) => ({ name, port: 80, weight: i === 0 ? w : 1 }));
    const withFilter = [{ name: 'a', port: 80, filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-f', value: '1' }] } }] }, { name: 'b', port: 80 }];
    const rr = runtimesByPath([
      ...base,
      svc('c'),
      route('r1', { matches: prefix('/one'), backendRefs: abc(5) }),
      route('r2', { matches: prefix('/two'), backendRefs: abc(7) }),
      route('r3', { matches: prefix('/three'), backendRefs: ab }),
      route('r4', { matches: prefix('/four'), backendRefs: [{ name: 'a', port: 80, weight: 3 }, { name: 'b', port: 80, weight: 2 }] }),
      route('r5', { matches: prefix('/five'), backendRefs: withFilter }),
    ]);
    expect(rr.get('/one')).not.toBe(rr.get('/two')); // other weights: another picker
    expect(rr.get('/one')!.choices).toBe(rr.get('/two')!.choices);
    expect(rr.get('/three')!.choices).toBe(rr.get('/four')!.choices);
    expect(rr.get('/five')!.choices).not.toBe(rr.get('/three')!.choices);
    expect(rr.get('/five')!.choices[1]).toBe(rr.get('/three')!.choices[1]); // the plain choice of b is shared
    expect(rr.get('/five')!.choices[0]!.filters).toHaveLength(1);
    expect(rr.get('/one')!.choices.map((c) => c.target.name)).toEqual(['a', 'b', 'c']);
  });

  it('smooth pickers stay per rule: two rules with the same split each start their own sequence', () => {
    const manifests = [...base, route('r1', { matches: prefix('/one'), backendRefs: ab }), route('r2', { matches: prefix('/two'), backendRefs: ab })];
    const rr = runtimesByPath(manifests, { picker: 'smooth' });
    expect(rr.get('/one')).not.toBe(rr.get('/two'));
    // A shared smooth picker would hand /two the backend after /one's first pick.
    const gw = createGateway({ manifests, picker: 'smooth', now: () => new Date(0) });
    const first = (path: string) => {
      const d = gw.route({ method: 'GET', path });
      return d.type === 'forward' ? d.backend.name : d.type;
    };
    const one = first('/one');
    expect(first('/two')).toBe(one);
  });
});

// A Decision's `backend` is the one frozen target of its Service port (digest 6): rules naming the
// same Service port share it; another port, or the same name in another namespace, is another.
describe('backend targets (pick/choices.ts, targetOf)', () => {
  it('one frozen target per namespace, name and port, shared by every rule that names it', () => {
    const twoPorts: Obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { ports: [{ port: 80 }, { port: 81 }] } };
    const other: Obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'other' }, spec: { ports: [{ port: 80 }] } };
    const grant: Obj = { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'other' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] } };
    const gw = createGateway({
      manifests: [gateway, twoPorts, other, grant,
        route('p80', { matches: prefix('/p80'), backendRefs: [{ name: 'a', port: 80 }] }),
        route('p81', { matches: prefix('/p81'), backendRefs: [{ name: 'a', port: 81 }] }),
        route('again', { matches: prefix('/again'), backendRefs: [{ name: 'a', port: 80, weight: 3 }] }),
        route('again81', { matches: prefix('/again81'), backendRefs: [{ name: 'a', port: 81, weight: 2 }] }),
        route('other', { matches: prefix('/other'), backendRefs: [{ name: 'a', namespace: 'other', port: 80 }] })],
      now: () => new Date(0),
    });
    const target = (path: string) => {
      const d = gw.route({ method: 'GET', path, headers: { host: 'x' } });
      if (d.type !== 'forward') throw new Error(`${path}: ${d.type}`);
      return d.backend;
    };
    expect(target('/again')).toBe(target('/p80'));
    expect(target('/again81')).toBe(target('/p81'));
    expect(target('/p81')).not.toBe(target('/p80'));
    expect(target('/other')).not.toBe(target('/p80'));
    expect(Object.isFrozen(target('/p81'))).toBe(true);
    expect(['/p80', '/p81', '/other'].map((p) => { const t = target(p); return `${t.namespace}/${t.name}:${t.port}`; })).toEqual(['default/a:80', 'default/a:81', 'other/a:80']);
  });
});
