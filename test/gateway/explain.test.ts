// explain(): how the listener was chosen, every candidate in precedence order with why it
// failed or lost, and the inputs of the weighted pick.
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const manifests = [
  {
    apiVersion: G,
    kind: 'Gateway',
    metadata: { name: 'gw' },
    spec: {
      gatewayClassName: 'x',
      listeners: [
        { name: 'any', port: 80, protocol: 'HTTP' },
        { name: 'example', port: 80, protocol: 'HTTP', hostname: '*.example.com' },
        { name: 'other-port', port: 8080, protocol: 'HTTP' },
      ],
    },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' }, spec: { ports: [{ port: 80 }] } },
  {
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name: 'r1', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      parentRefs: [{ name: 'gw', sectionName: 'example' }],
      rules: [
        { matches: [{ path: { type: 'Exact', value: '/x' } }], backendRefs: [{ name: 'a', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-canary', value: 'yes' }] }], backendRefs: [{ name: 'a', port: 80, weight: 3 }, { name: 'b', port: 80, weight: 1 }] },
      ],
    },
  },
  {
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name: 'r2', creationTimestamp: '2026-02-01T00:00:00Z' },
    spec: { parentRefs: [{ name: 'gw', sectionName: 'example' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'b', port: 80 }] }] },
  },
];

describe('explain()', () => {
  const gw = createGateway({ manifests, random: () => 0 });

  it('says which listener was selected and why the others were not', () => {
    const e = gw.explain({ method: 'GET', path: '/y', host: 'a.example.com', port: 80 });
    const byName = Object.fromEntries(e.listeners.map((l) => [l.name, l.outcome]));
    expect(byName.example).toBe('selected');
    expect(byName.any).toBe('less specific than the selected listener');
    expect(byName['other-port']).toBe('port 8080 is not 80');
  });

  it('lists every candidate in precedence order with the failed condition or the key it lost on', () => {
    const e = gw.explain({ method: 'GET', path: '/y', host: 'a.example.com', port: 80, headers: { 'X-Canary': 'yes' } });
    expect(e.decision).toMatchObject({ type: 'forward', route: { name: 'r1' }, rule: { index: 1 } });
    expect(e.candidates.map((c) => [c.route.name, c.rule, c.outcome, c.failed ?? c.lostOn ?? ''])).toEqual([
      ['r1', 0, 'failed', 'path /y is not exactly /x'],
      ['r1', 1, 'selected', ''],
      ['r2', 0, 'lost', 'header-count'],
    ]);
  });

  it('names creation-timestamp when two otherwise equal matches tie', () => {
    const e = gw.explain({ method: 'GET', path: '/y', host: 'a.example.com', port: 80 });
    expect(e.candidates.find((c) => c.route.name === 'r1' && c.rule === 1)?.failed).toBe('header x-canary is absent');
    expect(e.decision).toMatchObject({ route: { name: 'r2' } });
  });

  it('reports the weight inputs of the pick', () => {
    const e = gw.explain({ method: 'GET', path: '/y', host: 'a.example.com', port: 80, headers: { 'x-canary': 'yes' } });
    expect(e.pick).toMatchObject({ algorithm: 'random', totalWeight: 4, chosen: 0 });
    expect(e.pick!.backends.map((b) => [b.name, b.weight, b.share])).toEqual([['a', 3, 0.75], ['b', 1, 0.25]]);
  });

  it('explains a 404 with no listener, and its decision equals route()', () => {
    const req = { method: 'GET', path: '/', host: 'a.example.com', port: 9999 };
    const e = gw.explain(req);
    expect(e.decision).toEqual(gw.route(req));
    expect(e.decision).toMatchObject({ type: 'respond', status: 404, reason: 'no-listener', listener: null });
    expect(e.listeners.every((l) => l.outcome.startsWith('port'))).toBe(true);
  });

  it('is plain serialisable data', () => {
    const e = gw.explain({ method: 'GET', path: '/x', host: 'a.example.com', port: 80 });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });
});

describe('the weighted hot path (a split inlined beside its candidate)', () => {
  const seeded = () => {
    let a = 42;
    return () => {
      a = (a * 1103515245 + 12345) % 2147483648;
      return a / 2147483648;
    };
  };
  const split = [
    ...manifests.filter((m) => m.kind !== 'HTTPRoute'),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' }, spec: { ports: [{ port: 80 }] } },
    {
      apiVersion: G,
      kind: 'HTTPRoute',
      metadata: { name: 'split' },
      spec: { parentRefs: [{ name: 'gw', sectionName: 'example' }], rules: [{ backendRefs: [{ name: 'a', port: 80, weight: 5 }, { name: 'b', port: 80, weight: 3 }, { name: 'c', port: 80, weight: 2 }] }] },
    },
  ];

  it('maps each random draw to the same backend as the general path that explain() takes', () => {
    const fast = createGateway({ manifests: split, random: seeded() });
    const general = createGateway({ manifests: split, random: seeded() });
    const req = { method: 'GET', path: '/x', host: 'a.example.com', port: 80 };
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const d = fast.route(req);
      const e = general.explain(req);
      expect(d.type).toBe('forward');
      expect(e.decision).toEqual(d);
      const name = d.type === 'forward' ? d.backend.name : '';
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(['a', 'b', 'c']);
  });
});
