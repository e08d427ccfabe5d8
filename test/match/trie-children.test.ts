// The segment trie's child storage (src/match/trie/slots.ts): a node's only child lives in the
// node itself, a second child moves both into a table, and tables grow. Whatever the order the
// children arrive in and however long or empty their segments are, every registered path
// value must still be found (PathPrefix is element-wise and Exact is the whole path, spec
// digest 4.1) and nothing else.
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import type { RouteRequest } from '../../src/types.js';

const G = 'gateway.networking.k8s.io/v1';
const manifests = (values: [type: 'Exact' | 'PathPrefix', value: string][]) => [
  { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } },
  ...values.map(([type, value], i) => ({
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name: `r${i}`, creationTimestamp: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z` },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type, value } }], backendRefs: [{ name: 'svc', port: 80 }] }] },
  })),
];

const LONG = 'a-segment-longer-than-twelve-characters';
// Siblings arriving one by one below the same parents: empty last segments ("/p/"), segments of
// 1 to 12 characters (held in the slot) and longer ones (the rest of their keys elsewhere).
const values: [type: 'Exact' | 'PathPrefix', value: string][] = [
  ['PathPrefix', '/p/x'],
  ['Exact', '/p/'],
  ['PathPrefix', `/p/${LONG}`],
  ['PathPrefix', '/p/abcd'],
  ['PathPrefix', '/p/abcdefghijkl'],
  ['PathPrefix', '/p/abcdefghijklm'],
  ['Exact', `/${LONG}/only`],
  ['Exact', `/${LONG}/only/`],
  ...Array.from({ length: 40 }, (_, i) => ['PathPrefix', `/many/child-${i}`] as ['PathPrefix', string]),
];

function routed(gw: ReturnType<typeof createGateway>, path: string): string | number {
  const d = gw.route({ method: 'GET', path } satisfies RouteRequest);
  return d.type === 'forward' ? d.route.name : d.type === 'respond' ? d.status : d.type;
}

describe('trie children: one in the node, then a table (match/trie/slots.ts)', () => {
  for (const order of ['as listed', 'reversed'] as const) {
    it(`finds every path value and only those, children added ${order}`, () => {
      const list = order === 'reversed' ? [...values].reverse() : values;
      const gw = createGateway({ manifests: manifests(list), now: () => new Date(0) });
      const name = (v: string) => `r${list.findIndex(([, x]) => x === v)}`;
      for (const [type, value] of list) {
        expect(routed(gw, value), value).toBe(name(value));
        if (type === 'PathPrefix') expect(routed(gw, `${value}/below`), `${value}/below`).toBe(name(value));
      }
      // Near misses: a sibling's prefix of characters is not a path element (digest 4.1).
      expect(routed(gw, '/p/abc')).toBe(404);
      expect(routed(gw, '/p/abcdefghijk')).toBe(404);
      expect(routed(gw, `/p/${LONG}x`)).toBe(404);
      expect(routed(gw, `/${LONG}/only/x`)).toBe(404);
      expect(routed(gw, '/many/child-40')).toBe(404);
      expect(routed(gw, '/p')).toBe(404);
    });
  }
});
