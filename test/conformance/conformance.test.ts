/**
 * Upstream Gateway API conformance tests, ported as data (see runner.ts and README.md).
 * docs/conformance.md must list every case with the same passing state.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Condition, GatewayRouter, StatusObject } from '../../src/index.js';
import { gatewayFor, loadCases, statusOf, toRequest, type ConformanceCase, type StatusExpectation } from './runner.js';

const cases = loadCases();

function findStatus(gw: GatewayRouter, e: StatusExpectation, c: ConformanceCase): StatusObject | undefined {
  const ns = e.namespace ?? c.gateway.split('/')[0]!;
  return gw.statusOf(e.kind, e.name, ns);
}

function expectConditions(actual: Condition[], expected: NonNullable<StatusExpectation['conditions']>, where: string): void {
  for (const want of expected) {
    const got = actual.find((x) => x.type === want.type);
    expect(got, `${where}: condition ${want.type} missing`).toBeDefined();
    expect(got!.status, `${where}: ${want.type} status (${got!.reason}: ${got!.message})`).toBe(want.status);
    if (want.reason !== undefined) expect(got!.reason, `${where}: ${want.type} reason (${got!.message})`).toBe(want.reason);
  }
}

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  if (c.skip !== undefined) {
    it.skip(`not passing: ${c.skip}`, () => {});
    return;
  }
  const gateways = new Map<string, GatewayRouter>();
  const gw = (key = c.gateway) => {
    if (!gateways.has(key)) gateways.set(key, gatewayFor(c, key));
    return gateways.get(key)!;
  };

  for (const [i, e] of (c.status ?? []).entries()) {
    it(`status ${i}: ${e.kind} ${e.name}${e.parent ? ` on ${e.parent.name}` : ''}`, () => {
      const s = findStatus(gw(), e, c);
      expect(s, `${e.kind} ${e.name} has no status`).toBeDefined();
      if (s!.kind === 'Gateway') {
        if (e.conditions) expectConditions(s!.status.conditions, e.conditions, `Gateway ${e.name}`);
        for (const wl of e.listeners ?? []) {
          const l = s!.status.listeners.find((x) => x.name === wl.name);
          expect(l, `listener ${wl.name}`).toBeDefined();
          if (wl.attachedRoutes !== undefined) expect(l!.attachedRoutes, `listener ${wl.name} attachedRoutes`).toBe(wl.attachedRoutes);
          if (wl.supportedKinds) expect(l!.supportedKinds.map((k) => k.kind)).toEqual(expect.arrayContaining(wl.supportedKinds));
          if (wl.supportedKinds && wl.supportedKinds.length === 0) expect(l!.supportedKinds).toEqual([]);
          if (wl.conditions) expectConditions(l!.conditions, wl.conditions as never, `listener ${wl.name}`);
        }
      } else if (s!.kind !== 'GatewayClass') {
        const parents = s!.status.parents.filter(
          (p) =>
            e.parent === undefined ||
            (p.parentRef.name === e.parent.name &&
              (e.parent.namespace === undefined || (p.parentRef.namespace ?? e.namespace ?? c.gateway.split('/')[0]) === e.parent.namespace) &&
              (e.parent.sectionName === undefined || p.parentRef.sectionName === e.parent.sectionName)),
        );
        if (e.noParent) {
          expect(parents).toEqual([]);
          return;
        }
        expect(parents.length, `${e.name} status entries for ${JSON.stringify(e.parent)}`).toBeGreaterThan(0);
        for (const p of parents) expectConditions(p.conditions, e.conditions ?? [], `${e.kind} ${e.name}`);
      }
    });
  }

  for (const [i, r] of (c.requests ?? []).entries()) {
    const label = `request ${i}: ${r.request.method ?? 'GET'} ${r.request.host ?? ''}${r.request.path} -> ${r.expect.status}${r.expect.backend ? ` ${r.expect.backend}` : ''}${r.why ? ` (${r.why})` : ''}`;
    it(label, () => {
      const g = gw(r.gateway);
      const dist = r.expect.distribution;
      if (dist) {
        const counts: Record<string, number> = {};
        for (let n = 0; n < dist.count; n++) {
          const d = g.route(toRequest(r.request));
          expect(d.type).toBe('forward');
          if (d.type === 'forward') counts[d.backend.name] = (counts[d.backend.name] ?? 0) + 1;
        }
        for (const [backend, share] of Object.entries(dist.shares)) {
          const got = (counts[backend] ?? 0) / dist.count;
          if (share === 0) expect(counts[backend] ?? 0, `${backend} must receive nothing`).toBe(0);
          else expect(Math.abs(got - share), `${backend} share ${got} vs ${share}`).toBeLessThanOrEqual(dist.tolerance);
        }
        return;
      }
      const d = g.route(toRequest(r.request));
      const why = JSON.stringify(d);
      expect(statusOf(d), why).toBe(r.expect.status);
      if (r.expect.backend !== undefined) {
        expect(d.type === 'forward' && d.backend.name, why).toBe(r.expect.backend);
        if (r.expect.namespace !== undefined) expect(d.type === 'forward' && d.backend.namespace, why).toBe(r.expect.namespace);
      }
    });
  }
});

describe('docs/conformance.md', () => {
  const doc = readFileSync(new URL('../../docs/conformance.md', import.meta.url), 'utf8');
  it.each(cases.map((c) => [c.name, c] as const))('lists %s with its passing state', (name, c) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| ${name} |`));
    expect(row, `docs/conformance.md has no row for ${name}`).toBeDefined();
    expect(row!.includes(c.skip === undefined ? 'passing' : 'not passing')).toBe(true);
  });
});
