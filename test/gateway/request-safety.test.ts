// route() on hostile requests (issue 9 items 1, 3, 6, 7): the normalised path is matched and is
// decision.request.path; a fragment is never matched nor forwarded; paths and Hosts that cannot
// be normalised get 400; header and query lookups never see Object.prototype; route() never throws.
import { describe, expect, it } from 'vitest';
import { createGateway, type RouteRequest } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const manifests = [
  { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  ...['admin', 'static', 'other', 'proto'].map((n) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: n }, spec: { ports: [{ port: 80 }] } })),
  {
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name: 'r' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/admin' } }], backendRefs: [{ name: 'admin', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/%7Euser' } }], backendRefs: [{ name: 'other', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/p' }, headers: [{ name: 'constructor', type: 'RegularExpression', value: '.*' }] }], backendRefs: [{ name: 'proto', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/p' }, queryParams: [{ name: 'toString', type: 'RegularExpression', value: '.*' }] }], backendRefs: [{ name: 'proto', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/p' }, queryParams: [{ name: '__proto__', type: 'RegularExpression', value: '.*' }] }], backendRefs: [{ name: 'proto', port: 80 }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'static', port: 80 }] },
      ],
    },
  },
];
const gw = createGateway({ manifests });
const get = (path: string, extra: Partial<RouteRequest> = {}) => gw.route({ method: 'GET', path, ...extra });

describe('the matched path is the forwarded path (digest 11)', () => {
  it.each([
    ['/static/%2e%2e/admin', '/admin'],
    ['/static/../admin', '/admin'],
    ['/static/./../admin/x?q=1', '/admin/x?q=1'],
    ['/static/%2E%2e/admin', '/admin'],
    ['/a/b/../../admin', '/admin'],
  ])('%s is matched and forwarded as %s (the /admin rule decides, not the catch-all)', (path, forwarded) => {
    const d = get(path);
    expect(d).toMatchObject({ type: 'forward', backend: { name: 'admin' }, request: { path: forwarded } });
  });

  it('keeps %2F encoded: "/static/..%2fadmin" stays under the catch-all and is forwarded as matched', () => {
    expect(get('/static/..%2fadmin')).toMatchObject({ type: 'forward', backend: { name: 'static' }, request: { path: '/static/..%2Fadmin' } });
  });

  it('a raw backslash is data (%5C), never a separator: "/static\\..\\admin" goes to the catch-all as /static%5C..%5Cadmin', () => {
    expect(get('/static\\..\\admin')).toMatchObject({ type: 'forward', backend: { name: 'static' }, request: { path: '/static%5C..%5Cadmin' } });
  });

  it('escapedSlashes decode and reject, mergeSlashes (createGateway options)', () => {
    const decode = createGateway({ manifests, escapedSlashes: 'decode' });
    expect(decode.route({ method: 'GET', path: '/static/..%2fadmin' })).toMatchObject({ backend: { name: 'admin' }, request: { path: '/admin' } });
    const reject = createGateway({ manifests, escapedSlashes: 'reject' });
    expect(reject.route({ method: 'GET', path: '/static/..%2fadmin' })).toMatchObject({ type: 'respond', status: 400, reason: 'bad-request' });
    expect(reject.route({ method: 'GET', path: '/a\\b' })).toMatchObject({ type: 'respond', status: 400 });
    const merge = createGateway({ manifests, mergeSlashes: true });
    expect(merge.route({ method: 'GET', path: '//admin//x' })).toMatchObject({ backend: { name: 'admin' }, request: { path: '/admin/x' } });
    expect(get('//admin')).toMatchObject({ backend: { name: 'static' }, request: { path: '//admin' } });
    expect(() => createGateway({ manifests, escapedSlashes: 'drop' as never })).toThrow(/escapedSlashes/);
    expect(() => createGateway({ manifests, mergeSlashes: 'yes' as never })).toThrow(/mergeSlashes/);
  });

  it('configured values get the same normalisation: PathPrefix /%7Euser matches /~user and /%7euser', () => {
    expect(get('/~user/x')).toMatchObject({ backend: { name: 'other' }, request: { path: '/~user/x' } });
    expect(get('/%7euser')).toMatchObject({ backend: { name: 'other' }, request: { path: '/~user' } });
  });

  it('a #fragment is never matched nor forwarded (digest 11; issue 9 item 7)', () => {
    expect(get('/admin#x')).toMatchObject({ backend: { name: 'admin' }, request: { path: '/admin' } });
    expect(get('/x#/../admin')).toMatchObject({ backend: { name: 'static' }, request: { path: '/x' } });
    expect(get('/x?a=1#frag')).toMatchObject({ request: { path: '/x?a=1' } });
  });

  it.each(['/a%zz', '/a%', '/a\u0000', '/a%00', 'admin', '*', 'http://attacker/admin', '/%c0%ae%c0%ae/admin', '/a?x=\u0000'])('answers 400 for %j and never routes it', (path) => {
    expect(get(path)).toMatchObject({ type: 'respond', status: 400, reason: 'bad-request', listener: null });
  });
});

describe('the Host header is validated (issue 9 item 6)', () => {
  it.each(['user@evil.example', 'a b', 'evil.example/x', 'evil.example\\x', 'a,b', 'evil.example:80:80', 'x\r\nSet-Cookie: a=b', 'ex%41mple.com', '[::1'])('answers 400 for Host %j', (host) => {
    expect(get('/admin', { host })).toMatchObject({ type: 'respond', status: 400, reason: 'bad-request' });
    expect(get('/admin', { headers: { host } })).toMatchObject({ type: 'respond', status: 400 });
  });

  it.each(['example.com', 'Example.COM:8080', '127.0.0.1:80', '[::1]:443', 'a_b.example'])('accepts Host %j', (host) => {
    expect(get('/admin', { host })).toMatchObject({ type: 'forward', request: { host } });
  });

  it('an empty Host counts as no Host', () => {
    expect(get('/admin', { host: '' })).toMatchObject({ type: 'forward' });
  });
});

describe('header and query lookups never see Object.prototype (issue 9 item 3)', () => {
  it.each([
    ['a header named constructor, absent', { headers: {} }],
    ['a query parameter named toString, absent', {}],
    ['a query parameter named __proto__, absent', {}],
  ])('%s: the rule needing it does not match', (_what, extra) => {
    expect(get('/p', extra)).toMatchObject({ backend: { name: 'static' } });
    expect(get('/p?a=1', extra)).toMatchObject({ backend: { name: 'static' } });
  });

  it('present ones do match, and __proto__ headers are forwarded as headers', () => {
    expect(get('/p', { headers: { constructor: 'x' } })).toMatchObject({ backend: { name: 'proto' } });
    expect(get('/p?toString=1')).toMatchObject({ backend: { name: 'proto' } });
    expect(get('/p?__proto__=1')).toMatchObject({ backend: { name: 'proto' } });
    const headers = JSON.parse('{"__proto__":"x","Constructor":"y"}') as Record<string, string>;
    const d = get('/admin', { headers });
    expect(d.type).toBe('forward');
    if (d.type !== 'forward') return;
    expect(Object.getPrototypeOf(d.request.headers)).toBe(Object.prototype);
    expect(Object.keys(d.request.headers).sort()).toEqual(['__proto__', 'constructor']);
  });
});

describe('route() and explain() never throw (issue 9 item 3)', () => {
  const hostile: unknown[] = [
    undefined,
    null,
    {},
    42,
    'GET /',
    { path: '/admin' },
    { method: 'GET' },
    { method: 42, path: '/admin' },
    { method: 'GET', path: 42 },
    { method: 'GET', path: ['/admin'] },
    { method: 'GET', path: '/admin', host: 42 },
    { method: 'GET', path: '/admin', headers: 'x' },
    { method: 'GET', path: '/admin', headers: { host: ['a', 'b'] } },
    { method: 'GET', path: '/admin', port: 'x', sni: 42, scheme: 'gopher' },
    { method: 'GET', path: '/admin', headers: { 'content-type': 42 } },
    Object.create(null),
    {
      get method(): string {
        throw new Error('boom');
      },
      path: '/',
    },
  ];
  it.each(hostile.map((r, i) => [i, r]))('request #%i gets a 400 or a decision, never an exception', (_i, r) => {
    const d = gw.route(r as RouteRequest);
    expect(['forward', 'respond', 'redirect']).toContain(d.type);
    expect(gw.explain(r as RouteRequest).decision.type).toBe(d.type);
    if (r === undefined || r === null || typeof r !== 'object' || !('method' in r) || !('path' in r)) expect(d).toMatchObject({ type: 'respond', status: 400 });
  });
});
