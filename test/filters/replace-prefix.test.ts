// ReplacePrefixMatch (spec digest 7.3, HTTPPathModifier.ReplacePrefixMatch): the normative
// table, run through the pure function and through gw.route() with both filters that take a
// path modifier (RequestRedirect -> Location path, URLRewrite -> forwarded path).
import { describe, expect, it } from 'vitest';
import { replacePrefix } from '../../src/filters/url.js';
import { asForward, asRedirect, gw, prefix, ref } from './helpers.js';

/** [request, prefix, replacement, result], verbatim from the spec table (digest 7.3). */
const TABLE: readonly (readonly [string, string, string, string])[] = [
  ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
  ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
  ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
  ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
  ['/foo', '/foo', '/xyz', '/xyz'],
  ['/foo/', '/foo', '/xyz', '/xyz/'],
  ['/foo/bar', '/foo', '', '/bar'],
  ['/foo/', '/foo', '', '/'],
  ['/foo', '/foo', '', '/'],
  ['/foo/', '/foo', '/', '/'],
  ['/foo', '/foo', '/', '/'],
];

const pathModifier = (replacement: string) => ({ type: 'ReplacePrefixMatch', replacePrefixMatch: replacement });

/** The path of the request as the chosen filter leaves it, through gw.route(). */
const through = {
  RequestRedirect(path: string, matchPrefix: string, replacement: string): string {
    const g = gw([{ matches: [prefix(matchPrefix)], filters: [{ type: 'RequestRedirect', requestRedirect: { path: pathModifier(replacement) } }] }]);
    const { location } = asRedirect(g.route({ method: 'GET', path, host: 'example.org' }));
    const origin = 'http://example.org';
    if (!location.startsWith(origin)) throw new Error(`Location ${location} does not start with ${origin}`);
    return location.slice(origin.length);
  },
  URLRewrite(path: string, matchPrefix: string, replacement: string): string {
    const g = gw([{ matches: [prefix(matchPrefix)], filters: [{ type: 'URLRewrite', urlRewrite: { path: pathModifier(replacement) } }], backendRefs: [ref('web')] }]);
    return asForward(g.route({ method: 'GET', path, host: 'example.org' })).request.path;
  },
} as const;

describe('ReplacePrefixMatch table (digest 7.3, normative)', () => {
  it.each(TABLE)('pure replacePrefix: %s with prefix %s replaced by %j -> %s (digest 7.3 table)', (request, p, replacement, result) => {
    expect(replacePrefix(request, p, replacement)).toBe(result);
  });

  describe.each(['RequestRedirect', 'URLRewrite'] as const)('through gw.route() with a %s filter', (filter) => {
    it.each(TABLE)(`${filter}: %s with PathPrefix %s and replacePrefixMatch %j -> %s (digest 7.3 table${filter === 'RequestRedirect' ? ', 7.4 path' : ''})`, (request, p, replacement, result) => {
      const out = through[filter](request, p, replacement);
      expect(out).toBe(result);
      expect(out).not.toContain('//');
    });
  });
});

describe('ReplacePrefixMatch conformance vectors and query string (digest 7.3)', () => {
  it.each([
    ['/prefix/one/two', '/prefix/one', '/one', '/one/two'],
    ['/strip-prefix/three', '/strip-prefix', '/', '/three'],
    ['/strip-prefix', '/strip-prefix', '/', '/'],
  ] as const)('URLRewrite conformance (httproute-rewrite-path): %s with prefix %s and %j -> %s (digest 7.3 Conformance)', (request, p, replacement, result) => {
    expect(through.URLRewrite(request, p, replacement)).toBe(result);
  });

  it('URLRewrite ReplaceFullPath: /full/one/two with PathPrefix /full/one -> /one (digest 7.3 Conformance)', () => {
    const g = gw([{ matches: [prefix('/full/one')], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } } }], backendRefs: [ref('web')] }]);
    expect(asForward(g.route({ method: 'GET', path: '/full/one/two' })).request.path).toBe('/one');
  });

  it('RequestRedirect conformance: /original-prefix/lemon with prefix /original-prefix and /replacement-prefix -> /replacement-prefix/lemon (digest 7.4 vectors)', () => {
    expect(through.RequestRedirect('/original-prefix/lemon', '/original-prefix', '/replacement-prefix')).toBe('/replacement-prefix/lemon');
  });

  it.each([
    ['/foo', '/foo', '/xyz/', '/xyz'],
    ['/bar', '/', '/xyz', '/xyz/bar'],
    ['/', '/', '/xyz', '/xyz/'],
  ] as const)('outside the table the digest algorithm gives: %s with prefix %s and %j -> %s (digest 7.3 algorithm)', (request, p, replacement, result) => {
    expect(replacePrefix(request, p, replacement)).toBe(result);
    expect(through.URLRewrite(request, p, replacement)).toBe(result);
    expect(through.RequestRedirect(request, p, replacement)).toBe(result);
  });

  it.each(TABLE)('the query string is kept by URLRewrite and RequestRedirect: %s?… with prefix %s and %j (digest 7.3 "Query string: preserve it", 7.4)', (request, p, replacement, result) => {
    const q = '?a=1&b=%2F%2F&c';
    expect(through.URLRewrite(request + q, p, replacement)).toBe(result + q);
    expect(through.RequestRedirect(request + q, p, replacement)).toBe(result + q);
  });

  it('ReplaceFullPath keeps the query string too (digest 7.3 "Query string: preserve it")', () => {
    const g = gw([{ matches: [prefix('/full')], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } } }], backendRefs: [ref('web')] }]);
    expect(asForward(g.route({ method: 'GET', path: '/full/x?y=1' })).request.path).toBe('/one?y=1');
  });
});
