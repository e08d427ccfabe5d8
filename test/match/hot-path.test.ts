// The request hot path (issue 13 item 4) takes shortcuts that must never change a decision:
// - the normal-form scan (normalPathEnd) stands in for the full normaliser on paths it accepts;
// - RequestView splits path, query and fragment without slicing on that path;
// - the same scan keys the path's segments (match/trie/path-keys.ts), and the segment trie compares keys,
//   not characters, without slicing segments;
// - route() reuses one request view between calls;
// - Hosts, their virtual hosts, the listener choice and lower-case header names are memoised (bounded).
// Each shortcut is held to the slow computation it replaces.
import fc from 'fast-check';
import { parse as parseQuery } from 'fast-querystring';
import { describe, expect, it } from 'vitest';
import { createGateway, type RouteRequest } from '../../src/index.js';
import { normalizePath, normalizePathFully, normalizeQuery, type PathOptions } from '../../src/match/normalize.js';
import { keysOf, normalPathEnd, PathKeys, scanNormalPath } from '../../src/match/trie/path-keys.js';
import { RequestView } from '../../src/match/request.js';
import { loadManifests } from '../../src/index.js';
import { referenceRoute } from '../reference/matcher.js';
import { createPicker } from '../../src/pick/weighted.js';
import { literalAlternatives, regexOrNever } from '../../src/match/checks.js';
import { compileFullMatch } from '../../src/resources/schemas-shared.js';
import { makeCA, tlsSecret } from '../support/certs.js';
import { httpsListener } from '../server/helpers.js';

const G = 'gateway.networking.k8s.io/v1';
const gateway = { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } };
const service = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
const httpRoute = (name: string, spec: Record<string, unknown>) => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { parentRefs: [{ name: 'gw' }], ...spec } });

// Pieces of request targets: escapes (valid, invalid, encoded dots and slashes), dot segments,
// empty segments, backslashes, control and non-ASCII characters, query and fragment markers.
const piece = fc.constantFrom(
  '/', '//', '.', '..', '/.', '/..', '.a', 'a', 'B', 'z9', '-', '_', '~', ':', '@', '!', '$', '&', "'", '(', '*', '+', ',', ';', '=',
  '%', '%2', '%2e', '%2E', '%2f', '%2F', '%5c', '%7e', '%25', '%41', '%zz', '%00', '%C0%AE', '\\', ' ', '"', '<', '|', '^', '`', '{',
  '\u0000', '\u0001', '\u007f', 'é', '\ud800', '?', '?', '#', '&x=1', 'q=%20', '[', ']',
);
const target = fc.array(piece, { maxLength: 14 }).map((ps) => `/${ps.join('')}`);
const pathOptions = fc.record({ mergeSlashes: fc.boolean(), escapedSlashes: fc.constantFrom('keep' as const, 'decode' as const, 'reject' as const) });

/** What RequestView must compute, the slow way: split, normalise path and query, rebuild the target. */
function slowView(raw: string, o: PathOptions): { path: string; query: string; target: string; invalid: boolean } {
  let end = raw.indexOf('#');
  if (end < 0) end = raw.length;
  const q = raw.indexOf('?');
  const hasQuery = q >= 0 && q < end;
  const rawPath = hasQuery ? raw.slice(0, q) : raw.slice(0, end);
  const np = normalizePathFully(rawPath, o);
  const path = np.ok ? np.path : rawPath;
  const nq = hasQuery ? normalizeQuery(raw.slice(q + 1, end)) : { ok: true as const, query: '' };
  const query = nq.ok ? nq.query : raw.slice(q + 1, end);
  return { path, query, target: hasQuery ? `${path}?${query}` : path, invalid: !np.ok || !nq.ok };
}

/** The keys of a normalised path, computed apart from any request. */
function keysFor(path: string): PathKeys {
  const pk = new PathKeys();
  keysOf(path, path.length, pk);
  return pk;
}

/** Segment keys as arrays, one per segment. */
function keyList(pk: PathKeys): number[][] {
  return Array.from({ length: pk.count }, (_, s) => Array.from(pk.keys.subarray(pk.starts[s]!, pk.starts[s + 1]!)));
}

describe('segment keys: equal keys are equal segments', () => {
  it('property: two segments have equal keys exactly when they are equal strings, and the scan keys what keysOf keys', () => {
    const segment = fc.array(fc.constantFrom('a', 'b', 'z', '-', '~', ':', '@', '!', '=', '%41', '.'), { maxLength: 16 }).map((cs) => cs.join('').replace(/^\./, 'x'));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.array(segment, { minLength: 1, maxLength: 5 }), (a, b) => {
        const pa = `/${a.join('/')}`;
        const pb = `/${b.join('/')}`;
        const ka = keyList(keysFor(pa));
        const kb = keyList(keysFor(pb));
        expect(ka).toHaveLength(a.length);
        for (let i = 0; i < Math.min(a.length, b.length); i++) expect(JSON.stringify(ka[i]) === JSON.stringify(kb[i]), `${a[i]} ${b[i]}`).toBe(a[i] === b[i]);
        const scanned = new PathKeys();
        const end = scanNormalPath(`${pa}?q=1`, false, scanned);
        if (!pa.includes('%')) {
          expect(end).toBe(pa.length);
          expect(keyList(scanned)).toEqual(ka);
        } else expect(end).toBe(-1);
      }),
      { seed: 21, numRuns: 5000 },
    );
  });

  it('a path longer than the buffers grows them for that request only, and routes as a short one does', () => {
    const gw = createGateway({ manifests: [gateway, service('a'), httpRoute('r', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${'x'.repeat(40)}/y` } }], backendRefs: [{ name: 'a', port: 80 }] }] })], now: () => new Date(0) });
    const long = `/${'x'.repeat(40)}/y/${'z/'.repeat(3000)}end`;
    expect(gw.route({ method: 'GET', path: long }).type).toBe('forward');
    expect(gw.route({ method: 'GET', path: long.replace('/y/', '/w/') }).type).toBe('respond');
    expect(gw.route({ method: 'GET', path: `/${'x'.repeat(40)}/y` }).type).toBe('forward');
    const v = new RequestView({ method: 'GET', path: long });
    expect(v.segments.keys.length).toBeGreaterThan(long.length);
    v.reset({ method: 'GET', path: '/a' });
    expect(v.segments.keys.length).toBeLessThan(1000);
  });

  it('property: on tables of long, similar segments (chunk boundaries at 4, 8, 12 characters), route() agrees with the reference matcher', () => {
    const seg = fc.constantFrom('', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdabcd', 'abcdabce', 'abcdabcda', 'abcdabcdabcd', 'abcdabcdabce', 'abcdabcdabcda', 'abcdabcdabcdabcdb', 'abcdabcdabcdabcdc', 'bbcdabcdabcdabcdb');
    const value = fc.array(seg, { minLength: 1, maxLength: 3 }).map((ss) => `/${ss.join('/')}`);
    const table = fc.array(fc.record({ type: fc.constantFrom('Exact', 'PathPrefix'), value }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(table, fc.array(fc.array(seg, { minLength: 1, maxLength: 4 }), { minLength: 6, maxLength: 6 }), (paths, requests) => {
        const valid = paths.filter((p) => !p.value.includes('//'));
        if (valid.length === 0) return;
        const m = [gateway, service('a'), httpRoute('r', { rules: valid.map((path) => ({ matches: [{ path }], backendRefs: [{ name: 'a', port: 80 }] })) })];
        const gw = createGateway({ manifests: m, now: () => new Date(0) });
        const resources = loadManifests(m).resources;
        for (const ss of requests) {
          const req = { method: 'GET', path: `/${ss.join('/')}` };
          const d = gw.route(req);
          const ref = referenceRoute(resources, 'gw', req, 0);
          expect(d.type === 'forward' ? `${d.rule.index} ${d.match}` : '404', req.path).toBe(ref.type === 'match' ? `${ref.rule} ${ref.match}` : '404');
        }
      }),
      { seed: 22, numRuns: 1500 },
    );
  });
});

describe('normalPathEnd: the normal-form scan agrees with the full normaliser', () => {
  it('property: a path the scan accepts is one the full normaliser leaves unchanged, and the scan stops exactly at "?" or "#"', () => {
    let accepted = 0;
    fc.assert(
      fc.property(target, pathOptions, (raw, o) => {
        const end = normalPathEnd(raw, o.mergeSlashes);
        if (end < 0) return;
        accepted++;
        const cut = raw.search(/[?#]/);
        expect(end).toBe(cut < 0 ? raw.length : cut);
        const path = raw.slice(0, end);
        expect(normalizePathFully(path, o)).toEqual({ ok: true, path });
        expect(normalizePath(path, o)).toEqual({ ok: true, path });
      }),
      { seed: 13, numRuns: 20_000 },
    );
    // The property is not vacuous: the generator reaches the fast path often.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('property: every path the full normaliser leaves unchanged without escapes, dots or backslashes is accepted by the scan', () => {
    const plain = fc.array(fc.constantFrom('/', 'a', 'b', '-', '~', ':', '@', '!', '=', '.x', 'x.'), { maxLength: 12 }).map((ps) => `/${ps.join('')}`);
    fc.assert(
      fc.property(plain, fc.boolean(), (p, mergeSlashes) => {
        const full = normalizePathFully(p, { mergeSlashes });
        if (full.ok && full.path === p && !/\/\./.test(p)) expect(normalPathEnd(p, mergeSlashes)).toBe(p.length);
      }),
      { seed: 14, numRuns: 5000 },
    );
  });

  it.each(['/a/./b', '/a/../b', '/.', '/a%2eb', '/a\\b', '/a b', '/a\u0000', '/é', '/a//b'])('sends %j to the slow path (with mergeSlashes for "//")', (p) => {
    expect(normalPathEnd(p, true)).toBe(-1);
  });
});

describe('literal alternations: a Set probe answers what RE2 answers', () => {
  const re2 = (p: string) => {
    const r = compileFullMatch(p);
    return r.ok ? r.test : null;
  };
  const lowered = regexOrNever(() => {
    throw new Error('not lowered');
  });

  it('property: on patterns of literals, "|" and escapes, the lowered test equals the RE2 full match', () => {
    const patternPiece = fc.constantFrom('a', 'b', 'ab', '|', '-', '/', ' ', '_', '\\.', '\\-', '\\/', '.', '*', '(', ')', '^', '$', '[a]', '\\d', 'é');
    const inputPiece = fc.constantFrom('a', 'b', '.', '-', '/', ' ', '_', '|', '\\', 'x', 'é', '');
    let literal = 0;
    fc.assert(
      fc.property(fc.array(patternPiece, { maxLength: 6 }), fc.array(fc.array(inputPiece, { maxLength: 4 }), { minLength: 1, maxLength: 6 }), (pp, inputs) => {
        const pattern = pp.join('');
        const full = re2(pattern);
        if (full === null || literalAlternatives(pattern) === null) return;
        literal++;
        const test = lowered(pattern);
        const lits = literalAlternatives(pattern)!;
        for (const input of [...inputs.map((i) => i.join('')), ...lits]) expect(test(input), `${JSON.stringify(pattern)} on ${JSON.stringify(input)}`).toBe(full(input));
      }),
      { seed: 16, numRuns: 5000 },
    );
    expect(literal).toBeGreaterThan(500);
  });

  it.each(['a.b', 'a*', '(a|b)', '^a$', '[ab]', 'a\\d', 'é', 'a{2}'])('leaves %j to RE2', (p) => {
    expect(literalAlternatives(p)).toBeNull();
  });
});

describe('RequestView: the hot path computes what the slow path computes', () => {
  it('property: path, query, target and validity equal the split-then-normalise result, for fresh and reused views', () => {
    const reused = new RequestView();
    fc.assert(
      fc.property(target, pathOptions, (raw, o) => {
        const want = slowView(raw, o);
        for (const v of [new RequestView({ method: 'GET', path: raw }, o), reused]) {
          if (v === reused) v.reset({ method: 'GET', path: raw }, o);
          expect(v.invalid !== null).toBe(want.invalid);
          if (want.invalid) continue;
          expect(v.path).toBe(want.path);
          expect(v.pathSource.slice(0, v.pathEnd)).toBe(want.path);
          expect(v.rawQuery).toBe(want.query);
          expect(v.target).toBe(want.target);
          // The segment keys the trie is probed with are those of the normalised path, on the fast and the slow path.
          expect(keyList(v.segments)).toEqual(keyList(keysFor(want.path)));
        }
      }),
      { seed: 15, numRuns: 10_000 },
    );
  });
});

describe('RequestView.query(): the in-place search reads what parsing the query reads', () => {
  // Pieces of queries: names that are prefixes of each other, empty pairs, `=` in values, and
  // the characters that make fast-querystring decode (`%`, `+`), which take the parsing path.
  const qpiece = fc.constantFrom('a', 'ab', 'b', '=', '==', '&', '&&', '1', 'x', '%41', '%', '+', '__proto__', 'constructor', '#', 'version', 'v2');
  const query = fc.array(qpiece, { maxLength: 10 }).map((ps) => ps.join(''));
  const name = fc.constantFrom('a', 'ab', 'b', '', 'A', '__proto__', 'constructor', 'version', 'a b');
  it('property: the first value of a parameter equals fast-querystring\'s first value, on fresh and reused views', () => {
    const reused = new RequestView();
    fc.assert(
      fc.property(query, fc.array(name, { minLength: 1, maxLength: 3 }), fc.boolean(), (q, names, prefixed) => {
        const raw = `${prefixed ? '/p' : '/'}?${q}`;
        const fresh = new RequestView({ method: 'GET', path: raw });
        reused.reset({ method: 'GET', path: raw });
        const parsed = parseQuery(fresh.rawQuery) as Record<string, unknown>;
        for (const n of names) {
          const v = Object.prototype.hasOwnProperty.call(parsed, n) ? parsed[n] : undefined;
          const want = v === undefined || v === null ? undefined : Array.isArray(v) ? String(v[0]) : String(v);
          expect(fresh.query(n)).toBe(want);
          expect(reused.query(n)).toBe(want);
        }
      }),
      { seed: 16, numRuns: 10_000 },
    );
  });
});

describe('route(): shortcuts that never change a decision', () => {
  it('the segment trie finds each of 3,000 sibling segments, and no near miss (hash-table children, no slicing)', () => {
    const n = 3000;
    const routes: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i += 50) {
      const matches = Array.from({ length: 50 }, (_, k) => ({ path: { type: k % 2 ? 'PathPrefix' : 'Exact', value: `/svc/s-${i + k}` } }));
      routes.push(httpRoute(`r-${i}`, { rules: [{ matches, backendRefs: [{ name: `b-${i % 3}`, port: 80 }] }] }));
    }
    const gw = createGateway({ manifests: [gateway, service('b-0'), service('b-1'), service('b-2'), ...routes], now: () => new Date(0) });
    for (let i = 0; i < n; i++) {
      const d = gw.route({ method: 'GET', path: `/svc/s-${i}` });
      expect(d.type === 'forward' && d.route.name === `r-${i - (i % 50)}` && d.match === i % 50, `/svc/s-${i}`).toBe(true);
      const below = gw.route({ method: 'GET', path: `/svc/s-${i}/x` });
      expect(below.type, `/svc/s-${i}/x`).toBe(i % 2 ? 'forward' : 'respond');
      for (const near of [`/svc/s-${i}0${n}`, `/svc/s${i}`, `/svc/s-${i}x`, `/svc/S-${i}`, `/svc/s-${i}%2Fx`]) expect(gw.route({ method: 'GET', path: near }).type, near).toBe('respond');
    }
  });

  it('a decision is not changed by later calls (the reused request view is not part of it)', () => {
    const gw = createGateway({
      manifests: [gateway, service('a'), service('b'), httpRoute('r', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'a', port: 80 }] }, { matches: [{ path: { type: 'PathPrefix', value: '/b' } }], backendRefs: [{ name: 'b', port: 80 }] }] })],
      now: () => new Date(0),
    });
    const first = gw.route({ method: 'GET', path: '/a/1?x=1#f', headers: { host: 'one.example', 'x-a': '1' } });
    const snapshot = JSON.parse(JSON.stringify(first));
    gw.route({ method: 'POST', path: '/b/2?y=2', headers: { Host: 'two.example', 'X-B': '2' } });
    gw.route({ method: 'GET', path: '/../b/%2e/3' });
    expect(JSON.parse(JSON.stringify(first))).toEqual(snapshot);
    expect(snapshot.request).toEqual({ method: 'GET', path: '/a/1?x=1', host: 'one.example', scheme: 'http', headers: { host: 'one.example', 'x-a': '1' } });
  });

  it('route() called from inside route() (a sticky key function) decides both requests correctly', () => {
    let inner: ReturnType<typeof gw.route> | undefined;
    const gw = createGateway({
      manifests: [gateway, service('a'), service('b'), httpRoute('r', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ name: 'a', port: 80, weight: 1 }, { name: 'b', port: 80, weight: 1 }] }, { matches: [{ path: { type: 'PathPrefix', value: '/b' } }], backendRefs: [{ name: 'b', port: 80 }] }] })],
      now: () => new Date(0),
      sticky: (r: RouteRequest) => {
        if (r.path.startsWith('/a')) inner = gw.route({ method: 'GET', path: '/b/inner?q=1', headers: { 'x-inner': '1' } });
        return 'key';
      },
    });
    const outer = gw.route({ method: 'GET', path: '/a/outer?p=2', headers: { 'x-outer': '1' } });
    expect(outer.type === 'forward' && outer.request.path).toBe('/a/outer?p=2');
    expect(outer.type === 'forward' && outer.request.headers).toEqual({ 'x-outer': '1' });
    expect(inner?.type === 'forward' && inner.request.path).toBe('/b/inner?q=1');
    expect(inner?.type === 'forward' && inner.backend.name).toBe('b');
  });

  it('memoised Hosts and virtual hosts stay right past the memo limits, including wildcard hosts and hosts with ports', () => {
    const gw = createGateway({
      manifests: [
        gateway,
        service('exact'),
        service('wild'),
        service('any'),
        httpRoute('exact', { hostnames: ['a.example.com'], rules: [{ backendRefs: [{ name: 'exact', port: 80 }] }] }),
        httpRoute('wild', { hostnames: ['*.example.com'], rules: [{ backendRefs: [{ name: 'wild', port: 80 }] }] }),
        httpRoute('any', { rules: [{ backendRefs: [{ name: 'any', port: 80 }] }] }),
      ],
      now: () => new Date(0),
    });
    const backend = (host: string) => {
      const d = gw.route({ method: 'GET', path: '/', host });
      return d.type === 'forward' ? d.backend.name : d.status;
    };
    for (let i = 0; i < 6000; i++) {
      const k = i % 3;
      const host = k === 0 ? `h${i}.example.com` : k === 1 ? `h${i}.example.org:8080` : `H${i}.Example.COM.`;
      expect(backend(host), host).toBe(k === 1 ? 'any' : 'wild');
      if (i % 500 === 0) {
        expect(backend('a.example.com')).toBe('exact');
        expect(backend('A.example.com:80')).toBe('exact');
        expect(backend('example.com')).toBe('any');
        expect(backend('10.0.0.1')).toBe('any');
        expect(backend('a b')).toBe(400);
      }
    }
  });

  it('header names memoised as lower-case never hide an upper-case name of another request', () => {
    const gw = createGateway({
      manifests: [gateway, service('a'), service('b'), httpRoute('r', { rules: [{ matches: [{ headers: [{ name: 'x-team', value: 'b' }] }], backendRefs: [{ name: 'b', port: 80 }] }, { backendRefs: [{ name: 'a', port: 80 }] }] })],
      now: () => new Date(0),
    });
    const pick = (headers: Record<string, string>) => {
      const d = gw.route({ method: 'GET', path: '/', headers });
      return d.type === 'forward' ? [d.backend.name, d.request.headers] : [];
    };
    expect(pick({ 'x-team': 'b' })).toEqual(['b', { 'x-team': 'b' }]);
    expect(pick({ 'X-Team': 'b', accept: '*/*' })).toEqual(['b', { 'x-team': 'b', accept: '*/*' }]);
    expect(pick({ 'x-team': 'c', 'X-TEAM': 'b' })).toEqual(['a', { 'x-team': ['c', 'b'] }]);
    expect(pick({ 'x-team': 'b' })).toEqual(['b', { 'x-team': 'b' }]);
  });

  it('a weighted hit drawn inline from the alias table picks what the picker picks, with exact shares', () => {
    const weights = [7, 2, 0, 3];
    let next = 0;
    const gw = createGateway({
      manifests: [gateway, service('a'), service('b'), service('c'), service('d'), httpRoute('r', { rules: [{ backendRefs: weights.map((weight, i) => ({ name: 'abcd'[i]!, port: 80, weight })) }] })],
      now: () => new Date(0),
      random: () => next,
    });
    const live = weights.filter((w) => w > 0).length;
    const span = live * weights.reduce((a, b) => a + b, 0);
    const counts: Record<string, number> = {};
    for (let k = 0; k < span; k++) {
      next = (k + 0.5) / span;
      const d = gw.route({ method: 'GET', path: '/x' });
      const name = d.type === 'forward' ? d.backend.name : String(d.type);
      expect(name).toBe('abcd'[createPicker(weights, 'random', () => next)!.pick()]);
      counts[name] = (counts[name] ?? 0) + 1;
    }
    // Every one of the n·total draws is owned by exactly one backend: n·weight each.
    expect(counts).toEqual({ a: live * 7, b: live * 2, d: live * 3 });
  });

  it('a 404 or 421 is one frozen Decision per listener, shared by every miss (a miss allocates nothing)', () => {
    const gw = createGateway({ manifests: [gateway, service('a'), httpRoute('r', { rules: [{ matches: [{ path: { type: 'Exact', value: '/a' } }], backendRefs: [{ name: 'a', port: 80 }] }] })], now: () => new Date(0) });
    const one = gw.route({ method: 'GET', path: '/nope' });
    const two = gw.route({ method: 'POST', path: '/other?x=1', headers: { 'x-a': '1' } });
    expect(one).toBe(two);
    expect(Object.isFrozen(one)).toBe(true);
    expect(one).toEqual({ type: 'respond', listener: expect.objectContaining({ name: 'http', port: 80 }), status: 404, reason: 'no-route', message: expect.stringContaining('No route on listener http') });
    const none = gw.route({ method: 'GET', path: '/a', port: 81 });
    expect(none).toMatchObject({ type: 'respond', listener: null, status: 404, reason: 'no-listener' });
    expect(gw.route({ method: 'GET', path: '/b', port: 81 })).toBe(none);
  });

  it('property: the memoised listener choice is the computed one (explain() computes it), over any sequence of requests to two gateways', () => {
    const pair = makeCA().server(['a.example.com', '*.example.com']);
    const listeners = [
      { name: 'http', port: 80, protocol: 'HTTP' },
      { name: 'http-a', port: 80, protocol: 'HTTP', hostname: 'a.example.com' },
      { name: 'http-wild', port: 8080, protocol: 'HTTP', hostname: '*.example.com' },
      httpsListener('https-a', 443, 'a.example.com', ['cert']),
      httpsListener('https-wild', 443, '*.example.com', ['cert']),
    ];
    const rules = [{ backendRefs: [{ name: 'a', port: 80 }] }];
    const withHostnames = createGateway({ manifests: [{ ...gateway, spec: { ...gateway.spec, listeners } }, tlsSecret('cert', pair), service('a'), httpRoute('r', { rules })], now: () => new Date(0) });
    const hostless = createGateway({ manifests: [gateway, service('a'), httpRoute('r', { rules })], now: () => new Date(0) });
    const request = fc.record(
      {
        first: fc.boolean(),
        scheme: fc.constantFrom('http' as const, 'https' as const),
        port: fc.constantFrom(80, 443, 8080),
        host: fc.constantFrom('a.example.com', 'b.example.com', 'x.y.example.com', 'other.org', '10.0.0.1', 'A.Example.com:443'),
        sni: fc.constantFrom('a.example.com', 'b.example.com', 'other.org', 'A.EXAMPLE.COM'),
      },
      { requiredKeys: ['first'] },
    );
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 40 }), (requests) => {
        for (const { first, ...fields } of requests) {
          const gw = first ? withHostnames : hostless;
          const r: RouteRequest = { method: 'GET', path: '/x', ...fields };
          const d = gw.route(r);
          const want = gw.explain(r).decision;
          expect({ status: d.type === 'respond' ? d.status : 200, listener: d.listener?.name ?? null }, JSON.stringify(r)).toEqual({ status: want.type === 'respond' ? want.status : 200, listener: want.listener?.name ?? null });
          seen.add(`${d.type === 'respond' ? d.status : 200} ${d.listener?.name}`);
        }
      }),
      { seed: 17, numRuns: 300 },
    );
    // Not vacuous: every listener is chosen, and requests are refused as no listener (404) and misdirected (421).
    for (const o of ['200 http', '200 http-a', '200 http-wild', '200 https-a', '200 https-wild', '404 undefined', '421 https-a']) expect(seen).toContain(o);
  });
});
