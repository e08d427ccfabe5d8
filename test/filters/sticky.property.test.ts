// Weighted splits (spec digest 6: share = weight / sum(weights)) with sticky sessions (the
// `sticky` option and rule sessionPersistence, digest 8.4): consistent, monotonic while a
// canary ramps, and accurate to 0.5 percentage points.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGateway, type Decision, type GatewayRouter } from '../../src/index.js';
import { asForward, gw, manifests, ref, seeded, type Obj } from './helpers.js';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);
const RAMP = [1, 5, 25, 50, 100] as const;
const TOLERANCE = 0.005; // 0.5 percentage points

const split = (canary: number, extra: Obj = {}): Obj[] => manifests([{ ...extra, backendRefs: [ref('stable', { weight: 100 - canary }), ref('canary', { weight: canary })] }]);
const name = (d: Decision): string => asForward(d).backend.name;
const byUser = (g: GatewayRouter, key: string): string => name(g.route({ method: 'GET', path: '/', headers: { 'x-user': key } }));

describe('sticky split while a canary ramps 1 -> 5 -> 25 -> 50 -> 100 % (digest 6 weights; sticky option)', () => {
  it('over 100,000 keys: each key keeps its backend at fixed weights, never moves canary -> stable across the ramp, and each share is within 0.5 pp of its weight (digest 6)', () => {
    const g = createGateway({ manifests: split(RAMP[0]), sticky: { header: 'x-user' } });
    let previous: Uint8Array | null = null;
    const report: string[] = [];
    for (const pct of RAMP) {
      const reloaded = g.reload(split(pct));
      expect(reloaded.ok).toBe(true);
      const onCanary = new Uint8Array(KEYS.length);
      let canary = 0;
      let inconsistent = 0;
      let backToStable = 0;
      KEYS.forEach((key, i) => {
        const first = byUser(g, key);
        if (byUser(g, key) !== first) inconsistent++;
        if (first === 'canary') {
          onCanary[i] = 1;
          canary++;
        } else if (previous?.[i] === 1) backToStable++;
      });
      const canaryShare = canary / KEYS.length;
      const stableShare = 1 - canaryShare;
      report.push(`${pct}%: canary ${(canaryShare * 100).toFixed(3)}%, inconsistent ${inconsistent}, canary->stable ${backToStable}`);
      expect.soft(inconsistent, report.at(-1)).toBe(0);
      expect.soft(backToStable, report.at(-1)).toBe(0);
      expect.soft(Math.abs(canaryShare - pct / 100), report.at(-1)).toBeLessThanOrEqual(TOLERANCE);
      expect.soft(Math.abs(stableShare - (100 - pct) / 100), report.at(-1)).toBeLessThanOrEqual(TOLERANCE);
      previous = onCanary;
    }
    expect(report).toHaveLength(RAMP.length);
  });

  it('property: for arbitrary keys and any non-decreasing canary ramp (total weight fixed), a key is consistent at each step and never leaves the canary (digest 6)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 24 }).filter((s) => /^[\x21-\x7e]+$/.test(s)), { minLength: 1, maxLength: 120 }),
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 6 }).map((ws) => [...ws].sort((a, b) => a - b)),
        (keys, ramp) => {
          const manifestsAt = (c: number) => manifests([{ backendRefs: [ref('stable', { weight: 1000 - c }), ref('canary', { weight: c })] }]);
          const g = createGateway({ manifests: manifestsAt(ramp[0]!), sticky: { header: 'x-user' } });
          const onCanary = new Set<string>();
          for (const c of ramp) {
            expect(g.reload(manifestsAt(c)).ok).toBe(true);
            for (const key of keys) {
              const b = byUser(g, key);
              expect(byUser(g, key)).toBe(b);
              if (onCanary.has(key)) expect(b, `key ${JSON.stringify(key)} moved canary -> stable at canary weight ${c}`).toBe('canary');
              if (b === 'canary') onCanary.add(key);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('random picker shares (digest 6: share = weight / sum(weights))', () => {
  it('property: with a seeded RNG, each backend\'s share over 200,000 requests is within 0.5 pp of weight / sum(weights), and weight 0 gets nothing (digest 6)', () => {
    const names = ['web', 'web-2', 'stable', 'canary'] as const;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 4 }).filter((ws) => ws.some((w) => w > 0)), fc.integer(), (weights, seed) => {
        const g = gw([{ backendRefs: weights.map((w, i) => ref(names[i]!, { weight: w })) }], { random: seeded(seed) });
        const counts = new Map<string, number>();
        const N = 200_000;
        for (let i = 0; i < N; i++) {
          const b = name(g.route({ method: 'GET', path: '/' }));
          counts.set(b, (counts.get(b) ?? 0) + 1);
        }
        const total = weights.reduce((a, b) => a + b, 0);
        weights.forEach((w, i) => {
          const share = (counts.get(names[i]!) ?? 0) / N;
          if (w === 0) expect(share).toBe(0);
          else expect(Math.abs(share - w / total), `${names[i]} weight ${w}/${total}`).toBeLessThanOrEqual(TOLERANCE);
        });
      }),
      { numRuns: 6, seed: 20260821 },
    );
  });

  it('the 99/1 ramp steps with the random picker: each share within 0.5 pp over 200,000 requests (digest 6)', () => {
    for (const pct of RAMP) {
      const g = createGateway({ manifests: split(pct), random: seeded(pct) });
      let canary = 0;
      for (let i = 0; i < 200_000; i++) if (name(g.route({ method: 'GET', path: '/' })) === 'canary') canary++;
      expect(Math.abs(canary / 200_000 - pct / 100), `canary at ${pct}%`).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

describe('sessionPersistence (digest 8.4, GEP-1619)', () => {
  const persistent = (canary: number, sp: Obj = { sessionName: 'sess', type: 'Cookie' }) => split(canary, { sessionPersistence: sp });
  const cookiePair = (d: Decision): string => {
    const s = asForward(d).session;
    if (!s || !('cookie' in s)) throw new Error('expected decision.session.cookie');
    return s.cookie.split(';')[0]!;
  };

  it('a first request without the cookie gets decision.session.cookie (name=value; Path=/); replaying the cookie keeps the backend and starts no new session (digest 8.4)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 99 }), (seed, pct) => {
        const g = createGateway({ manifests: persistent(pct), random: seeded(seed) });
        const first = g.route({ method: 'GET', path: '/' });
        const cookie = cookiePair(first);
        expect(cookie).toMatch(/^sess=[^;\s]+$/);
        expect(asForward(first).session).toEqual({ cookie: expect.stringMatching(/^sess=[^;]+; Path=\//) });
        for (let i = 0; i < 5; i++) {
          const again = asForward(g.route({ method: 'GET', path: '/', headers: { cookie: `other=1; ${cookie}` } }));
          expect(again.backend.name).toBe(asForward(first).backend.name);
          expect(again.session).toBeUndefined();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('main-shape cookie{name}: the session cookie uses that name and replay keeps the backend (digest 8.4 main shape)', () => {
    const g = createGateway({ manifests: persistent(50, { type: 'Cookie', cookie: { name: 'my-session' } }), random: seeded(7) });
    for (let i = 0; i < 50; i++) {
      const first = g.route({ method: 'GET', path: '/' });
      const cookie = cookiePair(first);
      expect(cookie.startsWith('my-session=')).toBe(true);
      expect(name(g.route({ method: 'GET', path: '/', headers: { cookie } }))).toBe(name(first));
    }
  });

  it('first requests obey the weights: over 100,000 new sessions each share is within 0.5 pp (digest 8.4 "first request obeys weights", 6)', () => {
    for (const pct of [5, 50]) {
      const g = createGateway({ manifests: persistent(pct), random: seeded(pct + 1) });
      let canary = 0;
      for (let i = 0; i < 100_000; i++) if (name(g.route({ method: 'GET', path: '/' })) === 'canary') canary++;
      expect(Math.abs(canary / 100_000 - pct / 100), `canary at ${pct}%`).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  /** Starts 400 sessions at 50/50, reloads at `pct` % canary, and lists the sessions that changed backend. */
  function movedAfterReload(pct: number): string[] {
    const g = createGateway({ manifests: persistent(50), random: seeded(3) });
    const sessions: { cookie: string; backend: string }[] = [];
    for (let i = 0; i < 400; i++) {
      const d = g.route({ method: 'GET', path: '/' });
      sessions.push({ cookie: cookiePair(d), backend: name(d) });
    }
    expect(new Set(sessions.map((s) => s.backend))).toEqual(new Set(['stable', 'canary']));
    expect(g.reload(persistent(pct)).ok).toBe(true);
    return sessions.flatMap((s) => {
      const b = name(g.route({ method: 'GET', path: '/', headers: { cookie: s.cookie } }));
      return b === s.backend ? [] : [`${s.cookie}: ${s.backend} -> ${b} at canary ${pct}%`];
    });
  }

  it('a replayed session keeps its backend when the weights change (50/50 -> 25/75) (digest 8.4 "later requests carrying the session token go to the same backend")', () => {
    const moved = movedAfterReload(75);
    expect(moved.length, moved.slice(0, 3).join('\n')).toBe(0);
  });

  it('a replayed session keeps its backend even after that backend\'s weight drops to 0 (digest 8.4 "even if its weight became 0")', () => {
    const moved = movedAfterReload(100);
    expect(moved.length, moved.slice(0, 3).join('\n')).toBe(0);
  });

  it('type Header: the first response carries the session header; replaying it keeps the backend (digest 8.4 Header type)', () => {
    const g = createGateway({ manifests: persistent(50, { type: 'Header', header: { name: 'X-Session' } }), random: seeded(21) });
    for (let i = 0; i < 50; i++) {
      const first = asForward(g.route({ method: 'GET', path: '/' }));
      const s = first.session;
      if (!s || !('header' in s)) throw new Error('expected decision.session.header');
      expect(s.header[0].toLowerCase()).toBe('x-session');
      const again = asForward(g.route({ method: 'GET', path: '/', headers: { 'X-Session': s.header[1] } }));
      expect(again.backend.name).toBe(first.backend.name);
      expect(again.session).toBeUndefined();
    }
  });

  it('cookie lifetimeType Permanent with absoluteTimeout sets Max-Age; cookie.path is used (digest 8.4 main shape)', () => {
    const g = createGateway({ manifests: persistent(50, { type: 'Cookie', absoluteTimeout: '1h', cookie: { name: 'keep', path: '/app', lifetimeType: 'Permanent' } }), random: seeded(2) });
    const s = asForward(g.route({ method: 'GET', path: '/' })).session;
    if (!s || !('cookie' in s)) throw new Error('expected decision.session.cookie');
    expect(s.cookie).toMatch(/^keep=[^;]+;/);
    expect(s.cookie).toContain('Path=/app');
    expect(s.cookie).toContain('Max-Age=3600');
  });

  it('rules must not share sessions: two rules get different default session cookie names (digest 8.4)', () => {
    const g = createGateway({
      manifests: manifests([
        { matches: [{ path: { type: 'PathPrefix', value: '/a' } }], sessionPersistence: { type: 'Cookie' }, backendRefs: [ref('stable'), ref('canary')] },
        { matches: [{ path: { type: 'PathPrefix', value: '/b' } }], sessionPersistence: { type: 'Cookie' }, backendRefs: [ref('stable'), ref('canary')] },
      ]),
      random: seeded(9),
    });
    const nameOf = (path: string) => cookiePair(g.route({ method: 'GET', path })).split('=')[0];
    expect(nameOf('/a')).not.toBe(nameOf('/b'));
  });
});
