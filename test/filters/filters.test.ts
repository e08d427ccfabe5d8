// Unit tests of every HTTPRoute filter and the rule fields of spec digest sections 7 and 8,
// all through createGateway() and gw.route().
import { describe, expect, it } from 'vitest';
import type { ExtensionFilter, HeaderOps, RouteRequest } from '../../src/index.js';
import { asForward, asRedirect, asRespond, gw, httpListener, httpsListener, prefix, ref, seeded, type Obj } from './helpers.js';

const get = (path = '/', extra: Partial<RouteRequest> = {}): RouteRequest => ({ method: 'GET', path, host: 'example.org', ...extra });
const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Response headers after applying the decision's ops, in order, to an empty backend response. */
function responseAfter(ops: HeaderOps[], initial: Record<string, string[]> = {}): Record<string, string[]> {
  const out = new Map(Object.entries(initial).map(([k, v]) => [k.toLowerCase(), v]));
  for (const o of ops) {
    for (const [n, v] of o.set) out.set(n, [v]);
    for (const [n, v] of o.add) out.set(n, [...(out.get(n) ?? []), v]);
    for (const n of o.remove) out.delete(n);
  }
  return Object.fromEntries(out);
}

// ---------------------------------------------------------------------------------------------
describe('RequestHeaderModifier / ResponseHeaderModifier (digest 7.2)', () => {
  const reqMod = (m: Obj): Obj => ({ type: 'RequestHeaderModifier', requestHeaderModifier: m });
  const resMod = (m: Obj): Obj => ({ type: 'ResponseHeaderModifier', responseHeaderModifier: m });

  it('rule-level RequestHeaderModifier: set replaces, add appends (orig,new), remove deletes, others untouched (digest 7.2, conformance httproute-request-header-modifier)', () => {
    const g = gw([{ filters: [reqMod({ set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }], add: [{ name: 'X-Header-Add', value: 'add-appends-values' }], remove: ['X-Header-Remove'] })], backendRefs: [ref('web')] }]);
    const h = asForward(g.route(get('/', { headers: { 'x-header-set': 'some-other-value', 'x-header-add': 'orig', 'X-Header-Remove': 'gone', 'x-keep': 'k' } }))).request.headers;
    expect(h['x-header-set']).toBe('set-overwrites-values');
    expect(asArray(h['x-header-add']).join(',')).toBe('orig,add-appends-values');
    expect(h).not.toHaveProperty('x-header-remove');
    expect(h['x-keep']).toBe('k');
  });

  it('set and add on an absent header add it (digest 7.2 "add if absent")', () => {
    const g = gw([{ filters: [reqMod({ set: [{ name: 'X-S', value: 's' }], add: [{ name: 'X-A', value: 'a' }] })], backendRefs: [ref('web')] }]);
    const h = asForward(g.route(get())).request.headers;
    expect(h['x-s']).toBe('s');
    expect(asArray(h['x-a'])).toEqual(['a']);
  });

  it('rule-level ResponseHeaderModifier: ops are returned in order and apply set/add/remove to the backend response (digest 7.2 response variant)', () => {
    const g = gw([{ filters: [resMod({ set: [{ name: 'X-Header-Set', value: 'v' }], add: [{ name: 'X-Header-Add', value: 'a' }], remove: ['X-Header-Remove'] })], backendRefs: [ref('web')] }]);
    const d = asForward(g.route(get()));
    expect(d.responseHeaders).toEqual([{ set: [['x-header-set', 'v']], add: [['x-header-add', 'a']], remove: ['x-header-remove'] }]);
    expect(responseAfter(d.responseHeaders, { 'X-Header-Set': ['old'], 'x-header-add': ['orig'], 'X-HEADER-REMOVE': ['x'] })).toEqual({ 'x-header-set': ['v'], 'x-header-add': ['orig', 'a'] });
  });

  it('Request and Response modifiers on one rule both apply (digest 7.2, conformance /response-and-request-header-modifiers)', () => {
    const g = gw([{ filters: [reqMod({ set: [{ name: 'X-Req', value: '1' }] }), resMod({ set: [{ name: 'X-Res', value: '2' }] })], backendRefs: [ref('web')] }]);
    const d = asForward(g.route(get()));
    expect(d.request.headers['x-req']).toBe('1');
    expect(d.responseHeaders).toEqual([{ set: [['x-res', '2']], add: [], remove: [] }]);
  });

  it('backendRef-level modifiers run only for the picked backend, after the rule\'s (digest 6 per-backend filters, conformance httproute-request-header-modifier-backend-weights)', () => {
    const g = gw(
      [
        {
          filters: [reqMod({ set: [{ name: 'X-Rule', value: 'r' }] }), resMod({ set: [{ name: 'X-Order', value: 'rule' }] })],
          backendRefs: [
            ref('web', { weight: 1, filters: [reqMod({ set: [{ name: 'X-Backend', value: 'web' }] }), resMod({ set: [{ name: 'X-Order', value: 'web' }], add: [{ name: 'X-Only-Web', value: '1' }] })] }),
            ref('web-2', { weight: 1, filters: [reqMod({ set: [{ name: 'X-Backend', value: 'web-2' }], remove: ['X-Rule'] })] }),
          ],
        },
      ],
      { random: seeded(11) },
    );
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const d = asForward(g.route(get()));
      seen.add(d.backend.name);
      expect(d.request.headers['x-backend']).toBe(d.backend.name);
      const res = responseAfter(d.responseHeaders);
      if (d.backend.name === 'web') {
        expect(d.request.headers['x-rule']).toBe('r');
        expect(res).toEqual({ 'x-order': ['web'], 'x-only-web': ['1'] });
      } else {
        // web-2's own filter removed the rule's header: backend filters run after rule filters.
        expect(d.request.headers).not.toHaveProperty('x-rule');
        expect(res).toEqual({ 'x-order': ['rule'] });
      }
    }
    expect(seen).toEqual(new Set(['web', 'web-2']));
  });
});

// ---------------------------------------------------------------------------------------------
describe('RequestRedirect (digest 7.4)', () => {
  const redirect = (rd: Obj, listeners: Obj[] = [httpListener(80)]) => gw([{ filters: [{ type: 'RequestRedirect', requestRedirect: rd }] }], { listeners });

  it.each([
    ['80, nothing set', 'http://example.org/a', [httpListener(80)], {}, get('/a')],
    ['80, port 8080', 'http://example.org:8080/a', [httpListener(80)], { port: 8080 }, get('/a')],
    ['80, scheme https', 'https://example.org/a', [httpListener(80)], { scheme: 'https' }, get('/a')],
    ['80, scheme https + port 8443', 'https://example.org:8443/a', [httpListener(80)], { scheme: 'https', port: 8443 }, get('/a')],
    ['8080, nothing set (listener port, not 80)', 'http://example.org:8080/a', [httpListener(8080)], {}, get('/a')],
    ['8080, port 80 (well-known port omitted)', 'http://example.org/a', [httpListener(8080)], { port: 80 }, get('/a')],
    ['8080, scheme http (port defaults to 80, omitted)', 'http://example.org/a', [httpListener(8080)], { scheme: 'http' }, get('/a')],
    ['443 HTTPS, nothing set', 'https://example.org/a', [httpsListener(443)], {}, get('/a', { scheme: 'https', sni: 'example.org' })],
    ['443 HTTPS, scheme http', 'http://example.org/a', [httpsListener(443)], { scheme: 'http' }, get('/a', { scheme: 'https', sni: 'example.org' })],
    ['80, scheme https + port 443 (well-known port omitted)', 'https://example.org/a', [httpListener(80)], { scheme: 'https', port: 443 }, get('/a')],
  ] as const)('listener %s -> %s (digest 7.4 conformance vectors, port defaults and omission)', (_label, location, listeners, rd, request) => {
    expect(asRedirect(redirect(rd, [...listeners]).route(request)).location).toBe(location);
  });

  it('hostname defaults to the Host header without its port; the port comes from the listener, not the Host header (digest 7.4 hostname, port)', () => {
    const g = redirect({}, [httpListener(8080)]);
    expect(asRedirect(g.route({ method: 'GET', path: '/x', headers: { host: 'example.org:9999' } })).location).toBe('http://example.org:8080/x');
    expect(asRedirect(g.route({ method: 'GET', path: '/x', host: 'example.org:80' })).location).toBe('http://example.org:8080/x');
  });

  it('hostname set replaces the host; the listener port 8080 still applies (digest 7.4 hostname Core, port default)', () => {
    expect(asRedirect(redirect({ hostname: 'example.net' }, [httpListener(8080)]).route(get('/p?q=1'))).location).toBe('http://example.net:8080/p?q=1');
    expect(asRedirect(redirect({ hostname: 'example.net' }).route(get('/p'))).location).toBe('http://example.net/p');
  });

  it('statusCode defaults to 302; 301, 303, 307 and 308 are used as given (digest 7.4 statusCode)', () => {
    expect(asRedirect(redirect({ hostname: 'example.net' }).route(get())).status).toBe(302);
    for (const code of [301, 302, 303, 307, 308] as const) expect(asRedirect(redirect({ statusCode: code }).route(get())).status).toBe(code);
  });

  it('no path modifier keeps the path and the query string; ReplaceFullPath replaces the path (digest 7.4 path, query)', () => {
    expect(asRedirect(redirect({ hostname: 'example.net' }).route(get('/a/b?c=d&e'))).location).toBe('http://example.net/a/b?c=d&e');
    expect(asRedirect(redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } }).route(get('/a/b?c=d'))).location).toBe('http://example.org/new?c=d');
  });

  it('the redirect is answered by the gateway: no backend, rule and route identified, response header ops carried (digest 7.4 "no backend call")', () => {
    const g = gw([{ name: 'to-https', filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-R', value: '1' }] } }, { type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] }]);
    const d = asRedirect(g.route(get('/x')));
    expect(d).toMatchObject({ type: 'redirect', status: 302, location: 'https://example.org/x', route: { name: 'filters' }, rule: { index: 0, name: 'to-https' } });
    expect(d.responseHeaders).toEqual([{ set: [['x-r', '1']], add: [], remove: [] }]);
  });

  it('a backendRef-level RequestRedirect answers only for the share routed to that backend (digest 6 per-backend filters, main conformance httproute-backend-request-redirect)', () => {
    const g = gw([{ backendRefs: [ref('web', { filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'moved.example' } }] }), ref('web-2')] }], { random: seeded(5) });
    const kinds = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const d = g.route(get('/r'));
      if (d.type === 'redirect') {
        expect(d.location).toBe('http://moved.example/r');
        kinds.add('redirect');
      } else kinds.add(asForward(d).backend.name);
    }
    expect(kinds).toEqual(new Set(['redirect', 'web-2']));
  });
});

// ---------------------------------------------------------------------------------------------
describe('URLRewrite hostname (digest 7.3)', () => {
  it('hostname replaces the Host sent upstream; the path is untouched without a path modifier (digest 7.3 hostname, conformance httproute-rewrite-host)', () => {
    const g = gw([{ filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.example' } }], backendRefs: [ref('web')] }]);
    const d = asForward(g.route(get('/a?b=c', { host: 'example.org:8080' })));
    expect(d.request.host).toBe('rewritten.example');
    expect(d.request.path).toBe('/a?b=c');
  });

  it('without hostname the Host header is forwarded unmodified, port included (digest 7.3 "MUST be forwarded unmodified")', () => {
    const g = gw([{ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } }], backendRefs: [ref('web')] }]);
    expect(asForward(g.route(get('/a', { host: 'example.org:8080' }))).request.host).toBe('example.org:8080');
    expect(asForward(g.route({ method: 'GET', path: '/a', headers: { Host: 'example.org:8080' } })).request.host).toBe('example.org:8080');
  });

  it('hostname rewrite given a Host header: the forwarded request carries no stale Host header (digest 7.3 "replaces the Host header sent upstream")', () => {
    const g = gw([{ filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.example' } }], backendRefs: [ref('web')] }]);
    const d = asForward(g.route({ method: 'GET', path: '/', headers: { Host: 'example.org' } }));
    expect(d.request.host).toBe('rewritten.example');
    expect([undefined, 'rewritten.example']).toContain(d.request.headers.host);
  });

  it('backendRef-level URLRewrite applies only to the picked backend (digest 6 per-backend filters, main conformance httproute-backend-url-rewrite)', () => {
    const g = gw([{ backendRefs: [ref('web', { filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'web.internal' } }] }), ref('web-2')] }], { random: seeded(8) });
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const d = asForward(g.route(get()));
      seen.add(d.backend.name);
      expect(d.request.host).toBe(d.backend.name === 'web' ? 'web.internal' : 'example.org');
    }
    expect(seen.size).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
describe('RequestMirror (digest 7.5)', () => {
  const mirror = (backend: string, extra: Obj = {}): Obj => ({ type: 'RequestMirror', requestMirror: { backendRef: { name: backend, port: 8080 }, ...extra } });
  const mirrorRate = (extra: Obj, seed: number, n = 20_000): number => {
    const g = gw([{ filters: [mirror('mirror-1', extra)], backendRefs: [ref('web')] }], { random: seeded(seed) });
    let hits = 0;
    for (let i = 0; i < n; i++) hits += asForward(g.route(get())).mirrors.length;
    return hits / n;
  };

  it('neither percent nor fraction mirrors every request to the mirror backend; the primary request is unaffected (digest 7.5 "neither => 100 %")', () => {
    const g = gw([{ filters: [mirror('mirror-1')], backendRefs: [ref('web')] }], { random: seeded(1) });
    for (let i = 0; i < 50; i++) {
      const d = asForward(g.route(get('/m?x=1')));
      expect(d.backend.name).toBe('web');
      expect(d.mirrors).toHaveLength(1);
      expect(d.mirrors[0]!.backend).toEqual({ group: '', kind: 'Service', namespace: 'default', name: 'mirror-1', port: 8080 });
      expect(d.mirrors[0]!.request.path).toBe('/m?x=1');
    }
  });

  it('percent 100 always, percent 0 never, percent 30 about 30 % with a seeded RNG (digest 7.5 percent, GEP-3171)', () => {
    expect(mirrorRate({ percent: 100 }, 1, 2000)).toBe(1);
    expect(mirrorRate({ percent: 0 }, 1, 2000)).toBe(0);
    expect(Math.abs(mirrorRate({ percent: 30 }, 2) - 0.3)).toBeLessThanOrEqual(0.015);
  });

  it('fraction numerator/denominator: 1/4 about 25 %, denominator defaults to 100 (digest 7.5 fraction)', () => {
    expect(Math.abs(mirrorRate({ fraction: { numerator: 1, denominator: 4 } }, 3) - 0.25)).toBeLessThanOrEqual(0.015);
    expect(Math.abs(mirrorRate({ fraction: { numerator: 10 } }, 4) - 0.1)).toBeLessThanOrEqual(0.015);
    expect(mirrorRate({ fraction: { numerator: 0, denominator: 5 } }, 5, 2000)).toBe(0);
    expect(mirrorRate({ fraction: { numerator: 5, denominator: 5 } }, 5, 2000)).toBe(1);
  });

  it('the draw is reproducible with the same seeded RNG (digest 7.5; `random` option)', () => {
    const seq = (seed: number) => {
      const g = gw([{ filters: [mirror('mirror-1', { percent: 50 })], backendRefs: [ref('web')] }], { random: seeded(seed) });
      return Array.from({ length: 200 }, () => asForward(g.route(get())).mirrors.length).join('');
    };
    expect(seq(42)).toBe(seq(42));
    expect(seq(42)).toMatch(/0/);
    expect(seq(42)).toMatch(/1/);
  });

  it('multiple mirrors: each is sent, in the order listed (digest 7.5 repeatable, HTTPRouteRequestMultipleMirrors)', () => {
    const g = gw([{ filters: [mirror('mirror-1'), mirror('mirror-2'), mirror('mirror-3')], backendRefs: [ref('web')] }]);
    expect(asForward(g.route(get())).mirrors.map((m) => m.backend.name)).toEqual(['mirror-1', 'mirror-2', 'mirror-3']);
  });

  it('an unresolvable mirror backend is not mirrored, the primary request still forwards, the route reports ResolvedRefs=False (digest 7.5 backendRef)', () => {
    const g = gw([{ filters: [mirror('does-not-exist'), mirror('mirror-2')], backendRefs: [ref('web')] }]);
    const d = asForward(g.route(get()));
    expect(d.backend.name).toBe('web');
    expect(d.mirrors.map((m) => m.backend.name)).toEqual(['mirror-2']);
    const s = g.statusOf('HTTPRoute', 'filters');
    if (s?.kind !== 'HTTPRoute') throw new Error('no route status');
    expect(s.status.parents[0]!.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False' });
  });

  it('the mirrored copy carries the modifications of the filters listed before the mirror, and the query string (digest 7.5: Envoy mirrors the post-filter request; 7.1 order)', () => {
    const g = gw([{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Before', value: '1' }] } }, mirror('mirror-1')], backendRefs: [ref('web')] }]);
    const d = asForward(g.route(get('/m?q=1')));
    expect(d.request.headers['x-before']).toBe('1');
    expect(d.mirrors[0]!.request).toMatchObject({ path: '/m?q=1', headers: { 'x-before': '1' } });
  });
});

// ---------------------------------------------------------------------------------------------
describe('CORS (digest 7.6, GEP-1767)', () => {
  const cors = (c: Obj) => gw([{ filters: [{ type: 'CORS', cors: c }], backendRefs: [ref('web')] }]);
  const preflight = (origin: string, extra: Record<string, string> = {}): RouteRequest => ({
    method: 'OPTIONS',
    path: '/',
    host: 'example.org',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', ...extra },
  });
  const actual = (origin: string, extra: Record<string, string> = {}): RouteRequest => ({ method: 'GET', path: '/', host: 'example.org', headers: { Origin: origin, ...extra } });
  const corsHeadersOf = (h: Record<string, string> | undefined) => Object.fromEntries(Object.entries(h ?? {}).filter(([k]) => k.toLowerCase().startsWith('access-control-')));
  const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean).sort();

  it('an allowed preflight is answered by the gateway with 204 and the configured headers; Max-Age defaults to 5 (digest 7.6 preflight)', () => {
    const g = cors({ allowOrigins: ['https://www.foo.com'], allowMethods: ['GET', 'PUT'], allowHeaders: ['x-header-1', 'x-header-2'], exposeHeaders: ['x-exposed'] });
    const d = asRespond(g.route(preflight('https://www.foo.com', { 'Access-Control-Request-Headers': 'x-header-1' })));
    expect(d).toMatchObject({ status: 204, reason: 'cors-preflight' });
    const h = d.headers ?? {};
    expect(h['access-control-allow-origin']).toBe('https://www.foo.com');
    expect(list(h['access-control-allow-methods'])).toEqual(['GET', 'PUT']);
    expect(list(h['access-control-allow-headers'])).toEqual(['x-header-1', 'x-header-2']);
    expect(list(h['access-control-expose-headers'])).toEqual(['x-exposed']);
    expect(h['access-control-max-age']).toBe('5');
    expect(h).not.toHaveProperty('access-control-allow-credentials');
  });

  it('maxAge is sent as configured and allowCredentials adds Allow-Credentials: true (digest 7.6 preflight)', () => {
    const h = asRespond(cors({ allowOrigins: ['https://www.foo.com'], allowMethods: ['GET'], maxAge: 3600, allowCredentials: true }).route(preflight('https://www.foo.com'))).headers ?? {};
    expect(h['access-control-max-age']).toBe('3600');
    expect(h['access-control-allow-credentials']).toBe('true');
  });

  it.each([
    ['https://www.bar.com', true],
    ['https://xpto.www.bar.com', true],
    ['https://www.bar.com:443', true],
    ['https://WWW.BAR.COM', true],
    ['https://bar.com', false],
    ['https://evilbar.com', false],
    ['http://www.bar.com', false],
    ['https://www.bar.com:8443', false],
    ['https://www.bar.com.evil.org', false],
  ] as const)('origin wildcard https://*.bar.com against %s -> allowed %s (digest 7.6 origin matching)', (origin, allowed) => {
    const g = cors({ allowOrigins: ['https://*.bar.com'], allowMethods: ['GET'] });
    const pre = asRespond(g.route(preflight(origin)));
    const act = asForward(g.route(actual(origin)));
    if (allowed) {
      expect(pre.headers?.['access-control-allow-origin']).toBe(origin);
      expect(responseAfter(act.responseHeaders)['access-control-allow-origin']).toEqual([origin]);
    } else {
      expect(corsHeadersOf(pre.headers)).toEqual({});
      expect(Object.keys(responseAfter(act.responseHeaders)).filter((k) => k.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('default ports are implied on both sides: http://foo.com:80 matches pattern http://foo.com (digest 7.6 origin matching)', () => {
    const g = cors({ allowOrigins: ['http://foo.com', 'https://bar.com:443'], allowMethods: ['GET'] });
    expect(asRespond(g.route(preflight('http://foo.com:80'))).headers?.['access-control-allow-origin']).toBe('http://foo.com:80');
    expect(asRespond(g.route(preflight('https://bar.com'))).headers?.['access-control-allow-origin']).toBe('https://bar.com');
  });

  it('a disallowed origin: the preflight is still answered by the gateway (200/204/403) without any CORS header, the actual request forwards without CORS headers (digest 7.6)', () => {
    const g = cors({ allowOrigins: ['https://www.foo.com'], allowMethods: ['GET'], exposeHeaders: ['x-e'], allowCredentials: true });
    const pre = asRespond(g.route(preflight('https://www.evil.com')));
    expect([200, 204, 403]).toContain(pre.status);
    expect(corsHeadersOf(pre.headers)).toEqual({});
    const act = asForward(g.route(actual('https://www.evil.com')));
    expect(act.responseHeaders.flatMap((o) => [...o.set, ...o.add].map(([n]) => n)).filter((n) => n.startsWith('access-control-'))).toEqual([]);
  });

  it('a request without Origin is not a CORS request: OPTIONS forwards to the backend, no CORS headers (digest 7.6)', () => {
    const g = cors({ allowOrigins: ['*'], allowMethods: ['GET'] });
    const d = asForward(g.route({ method: 'OPTIONS', path: '/', host: 'example.org', headers: { 'Access-Control-Request-Method': 'GET' } }));
    expect(d.responseHeaders).toEqual([]);
  });

  it('allowCredentials with wildcards never emits "*": Origin, requested method and requested headers are echoed (digest 7.6 wildcards)', () => {
    const g = cors({ allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: ['*'], allowCredentials: true });
    const h = asRespond(g.route(preflight('https://app.example', { 'Access-Control-Request-Headers': 'x-a, x-b' }))).headers ?? {};
    expect(h['access-control-allow-origin']).toBe('https://app.example');
    expect(h['access-control-allow-methods']).toBe('PUT');
    expect(list(h['access-control-allow-headers'])).toEqual(['x-a', 'x-b']);
    expect(h['access-control-allow-credentials']).toBe('true');
    expect(Object.values(h)).not.toContain('*');
    expect(h['access-control-expose-headers']).not.toBe('*');
  });

  it('allowCredentials + allowHeaders "*" with no Access-Control-Request-Headers: the allow-headers header is omitted (digest 7.6 wildcards)', () => {
    const h = asRespond(cors({ allowOrigins: ['*'], allowMethods: ['GET'], allowHeaders: ['*'], allowCredentials: true }).route(preflight('https://app.example'))).headers ?? {};
    expect(h).not.toHaveProperty('access-control-allow-headers');
    expect(h['access-control-allow-origin']).toBe('https://app.example');
  });

  it('without credentials a wildcard may come back as "*" or echoed (digest 7.6 wildcards)', () => {
    const h = asRespond(cors({ allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'] }).route(preflight('https://app.example', { 'Access-Control-Request-Headers': 'x-a' }))).headers ?? {};
    expect(['*', 'https://app.example']).toContain(h['access-control-allow-origin']);
    expect(['*', 'PUT']).toContain(h['access-control-allow-methods']);
    expect(['*', 'x-a']).toContain(h['access-control-allow-headers']);
    expect(h).not.toHaveProperty('access-control-allow-credentials');
  });

  it('an actual request with an allowed Origin forwards and gets Allow-Origin (echo), Allow-Credentials and Expose-Headers as response header ops (digest 7.6 actual request)', () => {
    const g = cors({ allowOrigins: ['https://www.foo.com'], allowMethods: ['GET'], exposeHeaders: ['x-e1', 'x-e2'], allowCredentials: true });
    const d = asForward(g.route(actual('https://www.foo.com')));
    expect(d.backend.name).toBe('web');
    const res = responseAfter(d.responseHeaders);
    expect(res['access-control-allow-origin']).toEqual(['https://www.foo.com']);
    expect(res['access-control-allow-credentials']).toEqual(['true']);
    expect(list(res['access-control-expose-headers']?.join(','))).toEqual(['x-e1', 'x-e2']);
  });

  it('a credentialed actual request (Cookie) to a filter without allowCredentials gets no CORS headers (digest 7.6, GEP-1767 wildcard section)', () => {
    const g = cors({ allowOrigins: ['*'], allowMethods: ['GET'] });
    const d = asForward(g.route(actual('https://app.example', { Cookie: 'a=b' })));
    expect(Object.keys(responseAfter(d.responseHeaders)).filter((k) => k.startsWith('access-control-'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('ExtensionRef (digest 7.7, 6 "unresolvable ExtensionRef")', () => {
  const ext = (name: string): Obj => ({ type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Custom', name } });

  it('a registered filter may change the request (headers, path); it sees earlier filters\' changes and its context (digest 7.1 order, 7.7)', () => {
    const contexts: unknown[] = [];
    const mutate: ExtensionFilter = (req, context) => {
      contexts.push(context);
      req.headers['x-ext'] = `saw ${String(req.headers['x-before'])}`;
      req.path = `/ext${req.path}`;
    };
    const g = gw([{ name: 'with-ext', filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Before', value: '1' }] } }, ext('mutate')], backendRefs: [ref('web')] }], { extensions: { 'example.com/Custom/mutate': mutate } });
    const headers = { 'x-caller': 'c' };
    const d = asForward(g.route(get('/p?q', { headers })));
    expect(d.request.path).toBe('/ext/p?q');
    expect(d.request.headers).toMatchObject({ 'x-ext': 'saw 1', 'x-before': '1', 'x-caller': 'c' });
    expect(headers).toEqual({ 'x-caller': 'c' });
    expect(contexts).toEqual([{ route: { kind: 'HTTPRoute', namespace: 'default', name: 'filters' }, rule: { index: 0, name: 'with-ext' }, filter: { group: 'example.com', kind: 'Custom', name: 'mutate' } }]);
  });

  it('a registered filter may answer the request itself: status, headers and body, reason extension (digest 7.7)', () => {
    const g = gw([{ filters: [ext('deny')], backendRefs: [ref('web')] }], { extensions: { 'example.com/Custom/deny': () => ({ status: 403, headers: { 'x-why': 'no' }, body: 'forbidden' }) } });
    expect(asRespond(g.route(get()))).toMatchObject({ status: 403, reason: 'extension', headers: { 'x-why': 'no' }, body: 'forbidden', route: { name: 'filters' } });
  });

  it('a throwing filter answers 500 extension-error and the request is not forwarded (digest 7.7; route() never throws)', () => {
    const g = gw([{ filters: [ext('boom')], backendRefs: [ref('web')] }], {
      extensions: {
        'example.com/Custom/boom': () => {
          throw new Error('kaboom');
        },
      },
    });
    const d = asRespond(g.route(get()));
    expect(d).toMatchObject({ status: 500, reason: 'extension-error' });
    expect(d.message).toContain('kaboom');
  });

  it('a throwing filter\'s partial changes are discarded even if it mutated the request first (digest 7.7)', () => {
    const g = gw([{ filters: [ext('half')], backendRefs: [ref('web')] }], {
      extensions: {
        'example.com/Custom/half': (req) => {
          req.headers['x-half'] = '1';
          throw new Error('half done');
        },
      },
    });
    expect(asRespond(g.route(get()))).toMatchObject({ status: 500, reason: 'extension-error' });
  });

  it('an unregistered ExtensionRef is not skipped: 500 extension-unresolved (digest 6 "MUST NOT be skipped; 5xx")', () => {
    const g = gw([{ filters: [ext('missing')], backendRefs: [ref('web')] }], { extensions: { 'example.com/Custom/other': () => undefined } });
    expect(asRespond(g.route(get()))).toMatchObject({ status: 500, reason: 'extension-unresolved' });
  });

  it('a backendRef-level ExtensionRef runs only for the picked backend (digest 6 per-backend filters, 7.1 ExtensionRef in backendRef IS)', () => {
    let calls = 0;
    const g = gw([{ backendRefs: [ref('web', { filters: [ext('count')] }), ref('web-2')] }], {
      random: seeded(12),
      extensions: {
        'example.com/Custom/count': (req) => {
          calls++;
          req.headers['x-counted'] = '1';
        },
      },
    });
    let web = 0;
    for (let i = 0; i < 100; i++) {
      const d = asForward(g.route(get()));
      if (d.backend.name === 'web') {
        web++;
        expect(d.request.headers['x-counted']).toBe('1');
      } else expect(d.request.headers).not.toHaveProperty('x-counted');
    }
    expect(calls).toBe(web);
    expect(web).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
describe('timeouts, retry and rule name (digest 8)', () => {
  const rule = (extra: Obj): Obj[] => [{ ...extra, backendRefs: [ref('web')] }];

  it.each([
    [{ request: '1h30m' }, { request: 5_400_000 }],
    [{ request: '10s', backendRequest: '500ms' }, { request: 10_000, backendRequest: 500 }],
    [{ request: '0s' }, { request: 0 }],
    [{ request: '0s', backendRequest: '1h' }, { request: 0, backendRequest: 3_600_000 }],
    [{ backendRequest: '1m30s250ms' }, { backendRequest: 90_250 }],
    [{ request: '1s1s' }, { request: 2000 }],
  ] as const)('timeouts %j are parsed to milliseconds %j (digest 8.1 GEP-2257, 8.2 "0s disables")', (timeouts, ms) => {
    expect(asForward(gw(rule({ timeouts })).route(get())).timeouts).toEqual(ms);
  });

  it('no timeouts configured: the decision has no timeouts field (digest 8.2 "Unset => IS")', () => {
    expect(asForward(gw(rule({})).route(get()))).not.toHaveProperty('timeouts');
  });

  it('retry is carried with codes, attempts and backoff in ms (digest 8.3)', () => {
    expect(asForward(gw(rule({ retry: { codes: [500, 502, 503, 504], attempts: 3, backoff: '100ms' } })).route(get())).retry).toEqual({ codes: [500, 502, 503, 504], attempts: 3, backoffMs: 100 });
    expect(asForward(gw(rule({ retry: { codes: [503] } })).route(get())).retry).toEqual({ codes: [503] });
    expect(asForward(gw(rule({})).route(get()))).not.toHaveProperty('retry');
  });

  it('rule name appears in decision.rule.name for forward, redirect and respond decisions; absent when unset (digest 8.5)', () => {
    const g = gw([
      { name: 'fwd', matches: [prefix('/f')], backendRefs: [ref('web')] },
      { name: 'redir', matches: [prefix('/r')], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'x.example' } }] },
      { name: 'empty', matches: [prefix('/e')] },
      { matches: [prefix('/u')], backendRefs: [ref('web')] },
    ]);
    expect(g.route(get('/f')).type === 'forward' && asForward(g.route(get('/f'))).rule).toEqual({ index: 0, name: 'fwd' });
    expect(asRedirect(g.route(get('/r'))).rule).toEqual({ index: 1, name: 'redir' });
    expect(asRespond(g.route(get('/e')))).toMatchObject({ status: 500, reason: 'no-backends', rule: { index: 2, name: 'empty' } });
    expect(asForward(g.route(get('/u'))).rule).toEqual({ index: 3 });
  });

  it('rule name has no routing effect: the same rules with and without names route identically (digest 8.5 "No routing effect")', () => {
    const named = gw([{ name: 'a', matches: [prefix('/a')], backendRefs: [ref('web')] }, { name: 'b', matches: [prefix('/')], backendRefs: [ref('web-2')] }]);
    const plain = gw([{ matches: [prefix('/a')], backendRefs: [ref('web')] }, { matches: [prefix('/')], backendRefs: [ref('web-2')] }]);
    for (const p of ['/a', '/a/b', '/ab', '/']) expect(asForward(named.route(get(p))).backend).toEqual(asForward(plain.route(get(p))).backend);
  });
});
