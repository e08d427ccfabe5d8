/**
 * Upstream Gateway API conformance tests, ported as data (see runner.ts and README.md).
 * docs/conformance.md must list every case with the same passing state.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Condition, GatewayRouter, StatusObject } from '../../src/index.js';
import { checkDecision, checkTLSConnection, gatewayFor, loadCases, statuses, toRequest, type ConformanceCase, type RequestExpectation, type StatusExpectation } from './runner.js';

const cases = loadCases();
/** Cases written for this project in the same format (not upstream tests: not in docs/conformance.md). */
const localCases = loadCases('local-cases');

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
    if (want.message !== undefined) expect(got!.message.startsWith(want.message), `${where}: ${want.type} message ${JSON.stringify(got!.message)} starts with ${JSON.stringify(want.message)}`).toBe(true);
  }
}

/** The manifest sets a case runs on: its own, then each variant's (another upstream ShortName). */
function manifestSets(c: ConformanceCase): { label: string; manifests: string }[] {
  if (!c.variants || c.variants.length === 0) return [{ label: '', manifests: c.manifests }];
  return [{ label: c.shortName.split(',')[0]!.trim(), manifests: c.manifests }, ...c.variants.map((v) => ({ label: v.shortName, manifests: v.manifests }))];
}

function requestLabel(i: number, r: RequestExpectation): string {
  const q = r.request;
  if (r.tls) return `request ${i}: TLS connection (SNI ${q.sni ?? 'none'}) on port ${q.port ?? 443} -> ${r.expect.closed ? 'refused' : `TLSRoute ${r.expect.route}`}${r.why ? ` (${r.why})` : ''}`;
  const where = `${q.scheme === 'https' || q.sni !== undefined ? 'https://' : ''}${q.host ?? ''}${q.port !== undefined ? `:${q.port}` : ''}${q.path}${q.sni !== undefined ? ` (SNI ${q.sni})` : ''}`;
  const status = r.expect.grpcStatus !== undefined ? `grpc-status ${r.expect.grpcStatus}` : statuses(r.expect).join('|');
  return `request ${i}: ${q.method ?? 'GET'} ${where} -> ${status}${r.expect.backend ? ` ${r.expect.backend}` : ''}${r.why ? ` (${r.why})` : ''}`;
}

describe.each([...cases, ...localCases].map((c) => [c.name, c] as const))('%s', (_name, c) => {
  if (c.skip !== undefined) {
    it.skip(`not passing: ${c.skip}`, () => {});
    return;
  }
  for (const set of manifestSets(c)) {
    const body = () => defineChecks(c, set.manifests);
    if (set.label === '') body();
    else describe(set.label, body);
  }
});

function defineChecks(c: ConformanceCase, manifests: string): void {
  const gateways = new Map<string, GatewayRouter>();
  const gw = (key = c.gateway) => {
    if (!gateways.has(key)) gateways.set(key, gatewayFor(manifests, key));
    return gateways.get(key)!;
  };

  for (const [i, e] of (c.status ?? []).entries()) {
    it(`status ${i}: ${e.kind} ${e.name}${e.parent ? ` on ${e.parent.name}` : ''}`, () => {
      const s = findStatus(gw(), e, c);
      expect(s, `${e.kind} ${e.name} has no status`).toBeDefined();
      if (s!.kind === 'Gateway' || s!.kind === 'ListenerSet') {
        if (e.conditions) expectConditions(s!.status.conditions, e.conditions, `${e.kind} ${e.name}`);
        if (e.attachedListenerSets !== undefined) {
          expect(s!.kind === 'Gateway' ? (s!.status.attachedListenerSets ?? 0) : undefined, `${e.name} attachedListenerSets`).toBe(e.attachedListenerSets);
        }
        if (e.allListeners) expect(s!.status.listeners.map((l) => l.name).sort(), `${e.name} status listeners`).toEqual((e.listeners ?? []).map((l) => l.name).sort());
        for (const wl of e.listeners ?? []) {
          const l = s!.status.listeners.find((x) => x.name === wl.name);
          expect(l, `listener ${wl.name}`).toBeDefined();
          if (wl.attachedRoutes !== undefined) expect(l!.attachedRoutes, `listener ${wl.name} attachedRoutes`).toBe(wl.attachedRoutes);
          if (wl.supportedKinds) expect(l!.supportedKinds.map((k) => k.kind)).toEqual(expect.arrayContaining(wl.supportedKinds));
          if (wl.supportedKinds && wl.supportedKinds.length === 0) expect(l!.supportedKinds).toEqual([]);
          if (wl.conditions) expectConditions(l!.conditions, wl.conditions as never, `listener ${wl.name}`);
        }
      } else if (s!.kind === 'BackendTLSPolicy') {
        const ancestors = s!.status.ancestors.filter((a) => e.ancestor === undefined || a.ancestorRef.name === e.ancestor);
        expect(ancestors.length, `${e.name} status.ancestors for ${e.ancestor ?? 'any Gateway'}`).toBeGreaterThan(0);
        for (const a of ancestors) expectConditions(a.conditions, e.conditions ?? [], `${e.kind} ${e.name}`);
        if (e.latestConditions) for (const a of ancestors) for (const c of a.conditions) expect(c.observedGeneration, `${e.name} ${c.type} observedGeneration`).toBe(s!.metadata.generation);
      } else if (s!.kind !== 'GatewayClass') {
        const parents = s!.status.parents.filter(
          (p) =>
            e.parent === undefined ||
            (p.parentRef.name === e.parent.name &&
              (e.parent.kind === undefined || p.parentRef.kind === e.parent.kind) &&
              (e.parent.namespace === undefined || (p.parentRef.namespace ?? e.namespace ?? c.gateway.split('/')[0]) === e.parent.namespace) &&
              (e.parent.sectionName === undefined || p.parentRef.sectionName === e.parent.sectionName)),
        );
        if (e.parentCount !== undefined) expect(s!.status.parents.length, `${e.name} status.parents entries`).toBe(e.parentCount);
        if (e.noParent) {
          expect(parents).toEqual([]);
          return;
        }
        expect(parents.length, `${e.name} status entries for ${JSON.stringify(e.parent)}`).toBeGreaterThan(0);
        for (const p of parents) expectConditions(p.conditions, e.conditions ?? [], `${e.kind} ${e.name}`);
        for (const p of parents) for (const type of e.absentConditions ?? []) expect(p.conditions.map((x) => x.type), `${e.kind} ${e.name}: ${type} must be absent`).not.toContain(type);
      }
    });
  }

  for (const [i, r] of (c.requests ?? []).entries()) {
    it(requestLabel(i, r), () => {
      const g = gw(r.gateway);
      if (r.tls) {
        expect(checkTLSConnection(r, g.serving)).toEqual([]);
        return;
      }
      const req = toRequest(r.request);
      const dist = r.expect.distribution;
      if (dist) {
        const counts: Record<string, number> = {};
        for (let n = 0; n < dist.count; n++) {
          const d = g.route(req);
          expect(d.type, JSON.stringify(d)).toBe('forward');
          if (d.type !== 'forward') return;
          counts[d.backend.name] = (counts[d.backend.name] ?? 0) + 1;
          if (dist.backendHeader !== undefined) {
            const v = d.request.headers[dist.backendHeader.toLowerCase()];
            expect(Array.isArray(v) ? v : [v], `request ${n}: one ${dist.backendHeader} header naming the backend`).toEqual([d.backend.name]);
          }
        }
        for (const [backend, share] of Object.entries(dist.shares ?? {})) {
          const got = (counts[backend] ?? 0) / dist.count;
          if (share === 0) expect(counts[backend] ?? 0, `${backend} must receive nothing`).toBe(0);
          else expect(Math.abs(got - share), `${backend} share ${got} vs ${share}`).toBeLessThanOrEqual(dist.tolerance ?? 0);
        }
        return;
      }
      const d = g.route(req);
      expect(checkDecision(r, d, g.serving), JSON.stringify(d)).toEqual([]);
      const md = r.expect.mirrorDistribution;
      const sampled = (r.expect.mirrors ?? []).filter((m) => m.percent !== undefined);
      if (md && sampled.length > 0) {
        const counts = new Map<string, number>();
        for (let n = 0; n < md.count; n++) {
          const dn = g.route(req);
          const errs = checkDecision(r, dn);
          if (errs.length > 0) expect(errs, `request ${n}: ${JSON.stringify(dn)}`).toEqual([]);
          if (dn.type !== 'forward') return;
          for (const m of dn.mirrors) {
            const key = `${m.backend.namespace}/${m.backend.name}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
            expect(m.request.path, `mirror path`).toBe(r.request.path);
          }
        }
        for (const m of sampled) {
          const p = m.percent! / 100;
          const mean = md.count * p;
          const margin = md.stdDevs * Math.sqrt(md.count * p * (1 - p));
          const got = [...counts].filter(([k]) => k.endsWith(`/${m.backend}`) && (m.namespace === undefined || k === `${m.namespace}/${m.backend}`)).reduce((n, [, v]) => n + v, 0);
          expect(Math.abs(got - mean), `${m.backend}: ${got} mirrored of ${md.count}, want ${mean} ± ${margin.toFixed(1)}`).toBeLessThanOrEqual(margin);
        }
      }
    });
  }
}

describe('docs/conformance.md', () => {
  const doc = readFileSync(new URL('../../docs/conformance.md', import.meta.url), 'utf8');
  it.each(cases.map((c) => [c.name, c] as const))('lists %s with its passing state', (name, c) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| ${name} |`));
    expect(row, `docs/conformance.md has no row for ${name}`).toBeDefined();
    const state = row!.split('|')[3]?.trim();
    expect(state, `state column of ${name}`).toBe(c.skip === undefined ? 'passing' : 'not passing');
  });
});
