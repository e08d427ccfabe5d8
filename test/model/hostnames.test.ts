// Unit tests of hostname wildcards and intersection against the spec digest, section 2.3
// (and section 3 step 2 for request hosts).
import { describe, expect, it } from 'vitest';
import { effectiveHostnames, hostMatches, intersectHostnames, normalizeRequestHost } from '../../src/model/hostnames.js';

describe('hostMatches (digest 2.3 wildcard semantics)', () => {
  it('an exact pattern matches only the identical host (digest 2.3)', () => {
    expect(hostMatches('foo.example.com', 'foo.example.com')).toBe(true);
    expect(hostMatches('foo.example.com', 'bar.example.com')).toBe(false);
    expect(hostMatches('foo.example.com', 'a.foo.example.com')).toBe(false);
  });

  it('*.example.com matches one label before .example.com (digest 2.3)', () => {
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
  });

  it('*.example.com matches several labels before .example.com (digest 2.3 "one or more labels")', () => {
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
  });

  it('*.example.com never matches example.com itself (digest 2.3)', () => {
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
  });

  it('*.example.com matches only on a label boundary, not fooexample.com (digest 2.3)', () => {
    expect(hostMatches('*.example.com', 'fooexample.com')).toBe(false);
    expect(hostMatches('*.example.com', 'example.com.evil.org')).toBe(false);
  });

  it('*.com matches example.com and www.example.com (digest 2.3)', () => {
    expect(hostMatches('*.com', 'example.com')).toBe(true);
    expect(hostMatches('*.com', 'www.example.com')).toBe(true);
    expect(hostMatches('*.com', 'example.org')).toBe(false);
  });
});

describe('intersectHostnames (digest 2.3 table)', () => {
  it('absent listener hostname, any route hostname: intersects, result is the route hostname (digest 2.3 row 1)', () => {
    expect(intersectHostnames(undefined, 'foo.example.com')).toBe('foo.example.com');
    expect(intersectHostnames(undefined, '*.example.com')).toBe('*.example.com');
  });

  it('route without hostname: intersects, result is the listener hostname or any (digest 2.3 row 2)', () => {
    expect(intersectHostnames('foo.example.com', undefined)).toBe('foo.example.com');
    expect(intersectHostnames('*.example.com', undefined)).toBe('*.example.com');
    expect(intersectHostnames(undefined, undefined)).toBeUndefined();
  });

  it('precise with precise: intersects only when equal (digest 2.3 row 3)', () => {
    expect(intersectHostnames('foo.example.com', 'foo.example.com')).toBe('foo.example.com');
    expect(intersectHostnames('foo.example.com', 'bar.example.com')).toBeNull();
  });

  it('listener *.S with precise route R: intersects iff R ends with .S, result R (digest 2.3 row 4)', () => {
    expect(intersectHostnames('*.example.com', 'foo.example.com')).toBe('foo.example.com');
    expect(intersectHostnames('*.example.com', 'a.b.example.com')).toBe('a.b.example.com');
    expect(intersectHostnames('*.example.com', 'example.com')).toBeNull();
    expect(intersectHostnames('*.example.com', 'foo.example.org')).toBeNull();
  });

  it('precise listener L with route *.T: intersects iff L ends with .T, result L (digest 2.3 row 5)', () => {
    expect(intersectHostnames('www.example.com', '*.example.com')).toBe('www.example.com');
    expect(intersectHostnames('sub.domain.example.com', '*.example.com')).toBe('sub.domain.example.com');
    expect(intersectHostnames('very.specific.com', '*.specific.com')).toBe('very.specific.com');
    expect(intersectHostnames('example.com', '*.example.com')).toBeNull();
  });

  it('wildcard with wildcard: S == T, or one suffix inside the other, result the more specific (digest 2.3 row 6)', () => {
    expect(intersectHostnames('*.example.com', '*.example.com')).toBe('*.example.com');
    expect(intersectHostnames('*.com', '*.example.com')).toBe('*.example.com');
    expect(intersectHostnames('*.example.com', '*.com')).toBe('*.example.com');
    expect(intersectHostnames('*.example.com', '*.example.org')).toBeNull();
  });

  it('wildcard with wildcard respects label boundaries: *.ample.com and *.example.com do not intersect (digest 2.3 row 6)', () => {
    expect(intersectHostnames('*.ample.com', '*.example.com')).toBeNull();
    expect(intersectHostnames('*.example.com', '*.ample.com')).toBeNull();
  });

  it('the documented examples: (*.com, *.example.com) -> *.example.com; (www.example.com, *.example.com) -> www.example.com (digest 2.3 examples)', () => {
    expect(intersectHostnames('*.com', '*.example.com')).toBe('*.example.com');
    expect(intersectHostnames('www.example.com', '*.example.com')).toBe('www.example.com');
  });

  it('intersection is symmetric in whether it exists (digest 2.3)', () => {
    const hosts = [undefined, 'foo.example.com', 'example.com', '*.example.com', '*.com', '*.foo.example.com', 'bar.example.org'];
    for (const a of hosts) for (const b of hosts) expect(intersectHostnames(a, b) === null).toBe(intersectHostnames(b, a) === null);
  });
});

describe('effectiveHostnames (digest 2.3 rules)', () => {
  it('route without hostnames answers on the listener hostname (digest 2.3 row 2)', () => {
    expect(effectiveHostnames('foo.example.com', undefined)).toEqual(['foo.example.com']);
    expect(effectiveHostnames('foo.example.com', [])).toEqual(['foo.example.com']);
    expect(effectiveHostnames(undefined, undefined)).toEqual([undefined]);
  });

  it('listener without hostname and route [first.com, sub.second.com] answers only those hosts (digest 2.3 rules)', () => {
    expect(effectiveHostnames(undefined, ['first.com', 'sub.second.com'])).toEqual(['first.com', 'sub.second.com']);
  });

  it('route *.specific.com on listener very.specific.com answers very.specific.com only (digest 2.3 rules)', () => {
    expect(effectiveHostnames('very.specific.com', ['*.specific.com'])).toEqual(['very.specific.com']);
  });

  it('route hostnames that do not intersect are ignored for that listener, not an error (digest 2.3 rules)', () => {
    expect(effectiveHostnames('*.example.com', ['foo.example.com', 'foo.example.org', 'example.com'])).toEqual(['foo.example.com']);
  });

  it('no intersecting route hostname gives an empty list (digest 2.2 step 4)', () => {
    expect(effectiveHostnames('foo.example.com', ['bar.example.com', '*.example.org'])).toEqual([]);
  });

  it('duplicate intersections are listed once (digest 2.3)', () => {
    expect(effectiveHostnames('foo.example.com', ['foo.example.com', '*.example.com'])).toEqual(['foo.example.com']);
  });

  it('intersection never matches more than either side (digest 2.3 rules)', () => {
    const listeners = [undefined, '*.example.com', 'foo.example.com', '*.com'];
    const routes = [['*.example.com'], ['foo.example.com', 'bar.example.com'], ['*.foo.example.com'], ['a.b.example.com']];
    const probes = ['example.com', 'foo.example.com', 'a.foo.example.com', 'a.b.example.com', 'bar.example.com', 'x.org'];
    const matches = (pattern: string | undefined, host: string) => pattern === undefined || hostMatches(pattern, host);
    for (const l of listeners) {
      for (const r of routes) {
        for (const h of effectiveHostnames(l, r)) {
          for (const probe of probes) {
            if (matches(h, probe)) {
              expect(matches(l, probe)).toBe(true);
              expect(r.some((x) => hostMatches(x, probe))).toBe(true);
            }
          }
        }
      }
    }
  });
});

describe('request host normalisation (digest 3 step 2)', () => {
  it('the port of the request host is stripped: very.specific.com:1234 matches very.specific.com (digest 3 step 2)', () => {
    expect(normalizeRequestHost('very.specific.com:1234')).toBe('very.specific.com');
    expect(hostMatches('very.specific.com', normalizeRequestHost('very.specific.com:1234')!)).toBe(true);
    expect(hostMatches('*.specific.com', normalizeRequestHost('very.specific.com:1234')!)).toBe(true);
  });

  it('host comparison is case-insensitive: FOO.Example.COM matches foo.example.com and *.example.com (digest 3 step 2)', () => {
    expect(normalizeRequestHost('FOO.Example.COM')).toBe('foo.example.com');
    expect(normalizeRequestHost('FOO.Example.COM:8080')).toBe('foo.example.com');
    expect(hostMatches('foo.example.com', normalizeRequestHost('FOO.Example.COM')!)).toBe(true);
    expect(hostMatches('*.example.com', normalizeRequestHost('Bar.EXAMPLE.com:80')!)).toBe(true);
  });

  it('an IPv6 literal keeps its brackets and loses its port, and matches no hostname (digest 3 step 2)', () => {
    expect(normalizeRequestHost('[::1]:8080')).toBe('[::1]');
    expect(normalizeRequestHost('[::1]')).toBe('[::1]');
    expect(hostMatches('*.example.com', '[::1]')).toBe(false);
  });

  it('a missing or empty host means no host (digest 3 step 2)', () => {
    expect(normalizeRequestHost(undefined)).toBeUndefined();
    expect(normalizeRequestHost('')).toBeUndefined();
  });
});
