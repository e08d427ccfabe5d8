// sortMatches packs precedence steps 2 to 5 (or the gRPC steps) into one number per match before
// sorting (spec digest 5.1 and 5.3); the order must be exactly the one compareMatches defines,
// the comparison explain() reports.
import { describe, expect, it } from 'vitest';
import { compareMatches, sortMatches } from '../../src/ir/precedence.js';
import type * as IR from '../../src/ir/types.js';
import { seeded } from '../support/random.js';

function gateway(random: () => number, routes: number): IR.Gateway {
  const gw: IR.Gateway = { key: 'default/gw', listeners: [], routes: [], rules: [] };
  for (let i = 0; i < routes; i++) {
    // Few distinct timestamps and names, so that steps 6 and 7 decide often.
    gw.routes.push({ kind: 'HTTPRoute', namespace: random() < 0.5 ? 'a' : 'b', name: `r${Math.floor(random() * 5)}-${i}`, createdAt: Math.floor(random() * 3) * 1000 });
    for (let k = 0; k < 3; k++) gw.rules.push({ route: i, index: k, filters: [], backends: [], zeroWeights: false });
  }
  return gw;
}

const conditions = (random: () => number, max: number): IR.Condition[] => Array.from({ length: Math.floor(random() * (max + 1)) }, (_, i) => ({ name: `h${i}`, type: 'Exact' as const, value: 'v' }));

function httpMatches(random: () => number, gw: IR.Gateway, n: number, longPath: boolean): IR.Match[] {
  const types = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
  const out: IR.Match[] = [];
  for (let i = 0; i < n; i++) {
    const route = Math.floor(random() * gw.routes.length);
    const rule = route * 3 + Math.floor(random() * 3);
    const value = longPath && i === 0 ? `/${'x'.repeat(2 ** 20)}` : `/${'ab'.slice(0, Math.floor(random() * 3))}${random() < 0.5 ? '/' : ''}`;
    out.push({ route, rule, index: Math.floor(random() * 2), path: { type: types[Math.floor(random() * 3)]!, value }, method: random() < 0.5 ? 'GET' : null, headers: conditions(random, 2), query: conditions(random, 2) });
  }
  return out;
}

function grpcMatches(random: () => number, gw: IR.Gateway, n: number): IR.Match[] {
  const out: IR.Match[] = [];
  for (let i = 0; i < n; i++) {
    const route = Math.floor(random() * gw.routes.length);
    out.push({ route, rule: route * 3 + Math.floor(random() * 3), index: Math.floor(random() * 2), path: { type: 'Exact', value: '/s/m' }, method: null, headers: conditions(random, 2), query: [], grpc: { service: Math.floor(random() * 4), method: Math.floor(random() * 4) } });
  }
  return out;
}

describe('sortMatches orders exactly as compareMatches (spec digest 5.1, 5.3)', () => {
  it.each([
    ['HTTPRoute matches', (r: () => number, gw: IR.Gateway) => httpMatches(r, gw, 300, false)],
    ['GRPCRoute matches', (r: () => number, gw: IR.Gateway) => grpcMatches(r, gw, 300)],
    ['a path longer than the packed bound (falls back to the comparison)', (r: () => number, gw: IR.Gateway) => httpMatches(r, gw, 100, true)],
  ])('%s', (_what, make) => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = seeded(seed);
      const gw = gateway(random, 40);
      // Distinct (route, rule, index) only: a match is listed once per virtual host.
      const seen = new Set<string>();
      const matches = make(random, gw).filter((m) => {
        const k = `${m.rule}/${m.index}`;
        return seen.has(k) ? false : (seen.add(k), true);
      });
      const expected = [...matches].sort((a, b) => compareMatches(gw, a, b).order);
      expect(sortMatches(gw, [...matches])).toEqual(expected);
      // And the order is total: no two neighbours compare equal.
      for (let i = 1; i < expected.length; i++) expect(compareMatches(gw, expected[i - 1]!, expected[i]!).order).toBe(-1);
    }
  });
});
