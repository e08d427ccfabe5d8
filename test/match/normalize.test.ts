// The request path normaliser (spec digest section 11: normalise before matching, apply the same
// path to matching and forwarding): RFC 3986 dot-segment removal and percent-encoding
// normalisation, the mergeSlashes and escapedSlashes options, and the paths that get 400.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPathValue, configuredPathKeys, isNormalPath, normalizePath, type PathOptions } from '../../src/match/normalize.js';
import { keysOf, PathKeys } from '../../src/match/trie/path-keys.js';

const ok = (p: string, o?: PathOptions) => {
  const r = normalizePath(p, o);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(p)} to normalise: ${r.message}`);
  return r.path;
};
const bad = (p: string, o?: PathOptions) => {
  const r = normalizePath(p, o);
  return r.ok ? `normalised to ${r.path}` : 'refused';
};

describe('normalizePath (digest 11, RFC 3986 sections 5.2.4 and 6.2.2)', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/..', '/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/static/%2e%2e/admin', '/admin'],
    ['/static/%2E%2e/admin', '/admin'],
    ['/static/.%2e/admin', '/admin'],
    ['/api/../../internal', '/internal'],
    ['/%7Euser', '/~user'],
    ['/%41%62c', '/Abc'],
    ['/a%2fb', '/a%2Fb'],
    ['/a%5cb', '/a%5Cb'],
    ['/a%3fb', '/a%3Fb'],
    ['/%252e%252e/admin', '/%252e%252e/admin'],
    ['/a//b', '/a//b'],
    ['//x', '//x'],
    ['/a\\b', '/a%5Cb'],
    ['/static\\..\\admin', '/static%5C..%5Cadmin'],
    ['/a b', '/a%20b'],
    ['/a"<>`{}|^', '/a%22%3C%3E%60%7B%7D%7C%5E'],
    ['/café', '/caf%C3%A9'],
    ['/%e9', '/%E9'],
    ['/.hidden/..x', '/.hidden/..x'],
  ])('%s => %s (escapedSlashes keep, the default)', (input, expected) => {
    expect(ok(input)).toBe(expected);
  });

  it('keeps an encoded slash as data: "..%2f" is not a dot segment, and %2F never splits a segment', () => {
    expect(ok('/static/..%2fadmin')).toBe('/static/..%2Fadmin');
    expect(ok('/static/%2e%2e%2fadmin')).toBe('/static/..%2Fadmin');
  });

  it('escapedSlashes decode: %2F, %5C and a raw backslash become separators, then dot segments go', () => {
    const o: PathOptions = { escapedSlashes: 'decode' };
    expect(ok('/static/..%2fadmin', o)).toBe('/admin');
    expect(ok('/static%5c..%5cadmin', o)).toBe('/admin');
    expect(ok('/static\\..\\admin', o)).toBe('/admin');
    expect(ok('/a%2Fb', o)).toBe('/a/b');
  });

  it('escapedSlashes reject: %2F, %5C and a raw backslash are refused', () => {
    const o: PathOptions = { escapedSlashes: 'reject' };
    for (const p of ['/a%2fb', '/a%2Fb', '/a%5cb', '/a\\b']) expect(bad(p, o), p).toBe('refused');
    expect(ok('/a/b', o)).toBe('/a/b');
  });

  it('mergeSlashes collapses runs of "/" (default off), keeping a trailing slash', () => {
    const o: PathOptions = { mergeSlashes: true };
    expect(ok('//x', o)).toBe('/x');
    expect(ok('/a///b//', o)).toBe('/a/b/');
    expect(ok('/a//../b', o)).toBe('/b');
    expect(ok('/a//../b')).toBe('/a/b'); // without merging, ".." removes the empty segment
  });

  it.each(['', 'a/b', '*', 'http://evil/x', '/a%', '/a%2', '/a%zz', '/a%g0', '/a\u0000b', '/a%00b', '/a\rb', '/a\nb', '/a\tb', '/a\u007fb', '/%c0%ae%c0%ae/x', '/%C1%9C', '/%e0%80%ae', '/%f0%80%80%ae', '/\ud800'])(
    'refuses %j (400: not normalisable)',
    (p) => {
      expect(bad(p)).toBe('refused');
    },
  );

  it('returns plain paths unchanged without copying (hot path)', () => {
    const p = '/api/v1/users/42';
    expect(normalizePath(p)).toEqual({ ok: true, path: p });
  });

  it('property: normalising is idempotent, and the result has no dot segment, no lower-case escape and no decodable escape', () => {
    const options = fc.record({ mergeSlashes: fc.boolean(), escapedSlashes: fc.constantFrom('keep' as const, 'decode' as const, 'reject' as const) });
    const piece = fc.constantFrom('/', '.', '..', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', '\\', 'a', '%2e', '%2f', '%5c', '%25', '%7e', '//', '?', ' ', '/.', '/..', '.a', ':', '@', '|');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), options, (pieces, o) => {
        const r = normalizePath(`/${pieces.join('')}`, o);
        if (!r.ok) return;
        // The fast check (no allocation, used per request) only ever passes paths the full
        // normaliser leaves unchanged.
        if (isNormalPath(`/${pieces.join('')}`, o.mergeSlashes)) expect(r.path).toBe(`/${pieces.join('')}`);
        const again = normalizePath(r.path, o);
        expect(again).toEqual({ ok: true, path: r.path });
        expect(r.path.startsWith('/')).toBe(true);
        expect(r.path.split('/').slice(1)).not.toContain('.');
        expect(r.path.split('/').slice(1)).not.toContain('..');
        expect(r.path).not.toMatch(/%[0-9A-F]?[a-f]/);
        expect(r.path).not.toMatch(/%(?:2[DE]|5F|7E|[46][1-9A-F]|[57][0-9A]|3[0-9])/);
        expect(r.path).not.toContain('\\');
        if (o.mergeSlashes) expect(r.path).not.toContain('//');
      }),
      { seed: 9, numRuns: 5000 },
    );
  });
});

// A configured Exact or PathPrefix value is matched in the form requests are (digest 11) and a
// prefix is element-wise (digest 4.1: "/abc/" is "/abc", "/" matches everything): the one-scan
// helper compile.ts uses must give the keys of the canonical value cut at the prefix's end.
describe('configuredPathKeys (digest 4.1, 11)', () => {
  const segments = (k: PathKeys) => Array.from({ length: k.count }, (_, s) => Array.from(k.keys.subarray(k.starts[s]!, k.starts[s + 1]!)));
  const reference = (value: string, prefix: boolean) => {
    const v = canonicalPathValue(value);
    let end = v.length;
    if (prefix) {
      end = v.length > 1 && v.endsWith('/') ? v.length - 1 : v.length;
      if (end === 1) end = 0;
    }
    const k = new PathKeys();
    keysOf(v, end, k);
    return segments(k);
  };
  const actual = (value: string, prefix: boolean) => {
    const k = new PathKeys();
    configuredPathKeys(value, prefix, k);
    return segments(k);
  };
  it.each(['/', '/a', '/a/', '/abc/defgh/ij', '/abc/defgh/', '/%7Euser/x', '/.well-known/acme', '/a%2Fb/', '/caf%C3%A9', '/a b', '//', '', 'a', 'a/', '/a?b', '/x#y', '/' + 'long'.repeat(40)])('%j as Exact and as PathPrefix', (value) => {
    expect(actual(value, false)).toEqual(reference(value, false));
    expect(actual(value, true)).toEqual(reference(value, true));
  });
  it('"/abc/" as a prefix is the one segment "abc"; "/" as a prefix is no segment', () => {
    expect(actual('/abc/', true)).toEqual(actual('/abc', false));
    expect(actual('/abc/', true)).toHaveLength(1);
    expect(actual('/', true)).toEqual([]);
    expect(actual('/', false)).toEqual([[]]);
  });
  it('agrees with the canonical value\'s keys for generated values (seeded)', () => {
    const seg = fc.stringMatching(/^[a-zA-Z0-9._~%-]{0,9}$/);
    fc.assert(fc.property(fc.array(seg, { minLength: 1, maxLength: 5 }), fc.boolean(), (segs, prefix) => {
      const value = `/${segs.join('/')}`;
      expect(actual(value, prefix)).toEqual(reference(value, prefix));
    }), { seed: 13, numRuns: 300 });
  });
});
