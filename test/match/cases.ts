/**
 * One shared list of matching and precedence examples, each naming the spec rule it checks.
 * cases.test.ts runs every case against the compiled matcher (gw.route) and against the
 * reference matcher (test/reference/matcher.ts); both must give the expected answer.
 */

export interface RouteSpec {
  name: string;
  namespace?: string;
  creationTimestamp?: string;
  hostnames?: string[];
  /** The listener (parentRef sectionName) to attach to; default every listener. */
  listener?: string;
  rules: { matches?: Record<string, unknown>[]; backend?: string }[];
}

export interface MatchCase {
  /** The spec rule, with its digest section. */
  rule: string;
  listeners?: { name: string; port: number; hostname?: string }[];
  routes: RouteSpec[];
  requests: { req: { method?: string; path: string; host?: string; headers?: Record<string, string> }; expect: string | 404 }[];
  /** Set when the reference matcher cannot express the case; the reason is shown. */
  referenceSkip?: string;
}

const p = (type: string, value: string) => ({ path: { type, value } });

/** `expect` is `route/rule` (route name, rule index) or 404. */
export const cases: MatchCase[] = [
  // ---------------------------------------------------------------- matching (digest section 4)
  {
    rule: '4: Exact path is a byte-for-byte, case-sensitive comparison; /abc differs from /abc/, /Abc, /abcd',
    routes: [{ name: 'r', rules: [{ matches: [p('Exact', '/abc')] }] }],
    requests: [
      { req: { path: '/abc' }, expect: 'r/0' },
      { req: { path: '/abc?x=1' }, expect: 'r/0' },
      { req: { path: '/abc/' }, expect: 404 },
      { req: { path: '/Abc' }, expect: 404 },
      { req: { path: '/abcd' }, expect: 404 },
    ],
  },
  {
    rule: '4: PathPrefix matches element-wise: /abc matches /abc, /abc/, /abc/def but not /abcd',
    routes: [{ name: 'r', rules: [{ matches: [p('PathPrefix', '/abc')] }] }],
    requests: [
      { req: { path: '/abc' }, expect: 'r/0' },
      { req: { path: '/abc/' }, expect: 'r/0' },
      { req: { path: '/abc/def' }, expect: 'r/0' },
      { req: { path: '/abcd' }, expect: 404 },
      { req: { path: '/ABC' }, expect: 404 },
      { req: { path: '/x/abc' }, expect: 404 },
    ],
  },
  {
    rule: '4: a PathPrefix value with a trailing slash (/abc/) behaves like /abc and also matches /abc',
    routes: [{ name: 'r', rules: [{ matches: [p('PathPrefix', '/abc/')] }] }],
    requests: [
      { req: { path: '/abc' }, expect: 'r/0' },
      { req: { path: '/abc/x' }, expect: 'r/0' },
      { req: { path: '/abcx' }, expect: 404 },
    ],
  },
  {
    rule: '4: RegularExpression paths must match the whole path (without query)',
    routes: [{ name: 'r', rules: [{ matches: [p('RegularExpression', '/v[0-9]+/items')] }] }],
    requests: [
      { req: { path: '/v2/items' }, expect: 'r/0' },
      { req: { path: '/v2/items?q=1' }, expect: 'r/0' },
      { req: { path: '/v2/items/x' }, expect: 404 },
      { req: { path: '/x/v2/items' }, expect: 404 },
    ],
  },
  {
    rule: '4: header names match case-insensitively; values exactly (case-sensitive); absent header fails',
    routes: [{ name: 'r', rules: [{ matches: [{ headers: [{ name: 'X-Version', value: 'Two' }] }] }] }],
    requests: [
      { req: { path: '/', headers: { 'x-version': 'Two' } }, expect: 'r/0' },
      { req: { path: '/', headers: { 'X-VERSION': 'Two' } }, expect: 'r/0' },
      { req: { path: '/', headers: { 'x-version': 'two' } }, expect: 404 },
      { req: { path: '/' }, expect: 404 },
    ],
  },
  {
    rule: '4: with two header entries of equivalent names only the first counts',
    routes: [{ name: 'r', rules: [{ matches: [{ headers: [{ name: 'color', value: 'red' }, { name: 'Color', value: 'blue' }] }] }] }],
    requests: [
      { req: { path: '/', headers: { color: 'red' } }, expect: 'r/0' },
      { req: { path: '/', headers: { color: 'blue' } }, expect: 404 },
    ],
  },
  {
    rule: '4: header RegularExpression values must match the whole value',
    routes: [{ name: 'r', rules: [{ matches: [{ headers: [{ name: 'x-id', type: 'RegularExpression', value: '[0-9]+' }] }] }] }],
    requests: [
      { req: { path: '/', headers: { 'x-id': '123' } }, expect: 'r/0' },
      { req: { path: '/', headers: { 'x-id': '12a' } }, expect: 404 },
    ],
  },
  {
    rule: '4: query parameter names are case-sensitive; the first value is matched; partial values do not match',
    routes: [{ name: 'r', rules: [{ matches: [{ queryParams: [{ name: 'animal', value: 'whale' }] }] }] }],
    requests: [
      { req: { path: '/?animal=whale' }, expect: 'r/0' },
      { req: { path: '/?animal=whale&animal=dolphin' }, expect: 'r/0' },
      { req: { path: '/?animal=dolphin&animal=whale' }, expect: 404 },
      { req: { path: '/?ANIMAL=whale' }, expect: 404 },
      { req: { path: '/?animal=whaledolphin' }, expect: 404 },
    ],
  },
  {
    rule: '4: method matches exactly; HEAD does not match GET',
    routes: [{ name: 'r', rules: [{ matches: [{ method: 'GET' }] }] }],
    requests: [
      { req: { path: '/', method: 'GET' }, expect: 'r/0' },
      { req: { path: '/', method: 'HEAD' }, expect: 404 },
      { req: { path: '/', method: 'POST' }, expect: 404 },
    ],
  },
  {
    rule: '4: conditions within a match are ANDed; matches within a rule are ORed',
    routes: [
      {
        name: 'r',
        rules: [{ matches: [{ ...p('PathPrefix', '/a'), headers: [{ name: 'x', value: '1' }] }, p('Exact', '/b')] }],
      },
    ],
    requests: [
      { req: { path: '/a', headers: { x: '1' } }, expect: 'r/0' },
      { req: { path: '/a' }, expect: 404 },
      { req: { path: '/b' }, expect: 'r/0' },
    ],
  },
  // ---------------------------------------------------------------- precedence (digest 5.1)
  {
    rule: '5.1 step 1: a route with a matching exact hostname beats a wildcard one, which beats a route without hostnames',
    routes: [
      { name: 'any', rules: [{}] },
      { name: 'wild', hostnames: ['*.example.com'], rules: [{}] },
      { name: 'exact', hostnames: ['a.example.com'], rules: [{}] },
    ],
    requests: [
      { req: { path: '/', host: 'a.example.com' }, expect: 'exact/0' },
      { req: { path: '/', host: 'b.example.com' }, expect: 'wild/0' },
      { req: { path: '/', host: 'other.org' }, expect: 'any/0' },
    ],
  },
  {
    rule: '5.1 step 1: the longer wildcard wins (*.bar.example.com beats *.example.com)',
    routes: [
      { name: 'short', hostnames: ['*.example.com'], rules: [{}] },
      { name: 'long', hostnames: ['*.bar.example.com'], rules: [{}] },
    ],
    requests: [
      { req: { path: '/', host: 'a.bar.example.com' }, expect: 'long/0' },
      { req: { path: '/', host: 'a.foo.example.com' }, expect: 'short/0' },
    ],
  },
  {
    rule: '5.2: a request never falls through from the most specific matching hostname to a less specific one',
    routes: [
      { name: 'exact', hostnames: ['a.example.com'], rules: [{ matches: [p('PathPrefix', '/only')] }] },
      { name: 'any', rules: [{}] },
    ],
    requests: [
      { req: { path: '/only', host: 'a.example.com' }, expect: 'exact/0' },
      { req: { path: '/other', host: 'a.example.com' }, expect: 404 },
      { req: { path: '/other', host: 'b.example.com' }, expect: 'any/0' },
    ],
  },
  {
    rule: '5.1 step 2: Exact beats any PathPrefix, even a longer one',
    routes: [
      { name: 'prefix', rules: [{ matches: [p('PathPrefix', '/abc/def')] }] },
      { name: 'exact', rules: [{ matches: [p('Exact', '/abc/def')] }] },
    ],
    requests: [{ req: { path: '/abc/def' }, expect: 'exact/0' }],
  },
  {
    rule: '5.1 step 2: among PathPrefix matches the longest value wins',
    routes: [
      { name: 'short', rules: [{ matches: [p('PathPrefix', '/a')] }] },
      { name: 'long', rules: [{ matches: [p('PathPrefix', '/a/b')] }] },
    ],
    requests: [
      { req: { path: '/a/b/c' }, expect: 'long/0' },
      { req: { path: '/a/c' }, expect: 'short/0' },
    ],
  },
  {
    rule: '5.1 step 2 (implementation-specific, Envoy Gateway order): RegularExpression ranks between Exact and PathPrefix',
    routes: [
      { name: 'prefix', rules: [{ matches: [p('PathPrefix', '/api/v1')] }] },
      { name: 'regex', rules: [{ matches: [p('RegularExpression', '/api/v[0-9]/.*')] }] },
      { name: 'exact', rules: [{ matches: [p('Exact', '/api/v1/x')] }] },
    ],
    requests: [
      { req: { path: '/api/v1/x' }, expect: 'exact/0' },
      { req: { path: '/api/v1/y' }, expect: 'regex/0' },
      { req: { path: '/api/v1' }, expect: 'prefix/0' },
    ],
  },
  {
    rule: '5.1 step 2 (unspecified, counted literally like Envoy Gateway): /foo/ is longer than /foo and wins',
    routes: [
      { name: 'slash', creationTimestamp: '2026-01-02T00:00:00Z', rules: [{ matches: [p('PathPrefix', '/foo/')] }] },
      { name: 'plain', creationTimestamp: '2026-01-01T00:00:00Z', rules: [{ matches: [p('PathPrefix', '/foo')] }] },
    ],
    requests: [{ req: { path: '/foo/x' }, expect: 'slash/0' }],
  },
  {
    rule: '5.1 step 3: a method match beats one without, at equal path',
    routes: [
      { name: 'header', rules: [{ matches: [{ headers: [{ name: 'version', value: 'four' }] }] }] },
      { name: 'method', rules: [{ matches: [{ method: 'PATCH' }] }] },
    ],
    requests: [
      { req: { path: '/', method: 'PATCH', headers: { version: 'four' } }, expect: 'method/0' },
      { req: { path: '/', method: 'GET', headers: { version: 'four' } }, expect: 'header/0' },
    ],
  },
  {
    rule: '5.1 step 4: more header matches win',
    routes: [
      { name: 'one', rules: [{ matches: [{ headers: [{ name: 'a', value: '1' }] }] }] },
      { name: 'two', rules: [{ matches: [{ headers: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] }] }] },
    ],
    requests: [
      { req: { path: '/', headers: { a: '1', b: '2' } }, expect: 'two/0' },
      { req: { path: '/', headers: { a: '1' } }, expect: 'one/0' },
    ],
  },
  {
    rule: '5.1 step 5: more query matches win; a header match beats a query match (step 4 before 5)',
    routes: [
      { name: 'query', rules: [{ matches: [{ queryParams: [{ name: 'animal', value: 'hydra' }] }] }] },
      { name: 'header', rules: [{ matches: [{ headers: [{ name: 'version', value: 'four' }] }] }] },
      { name: 'twoq', rules: [{ matches: [{ queryParams: [{ name: 'animal', value: 'hydra' }, { name: 'color', value: 'red' }] }] }] },
    ],
    requests: [
      { req: { path: '/?animal=hydra', headers: { version: 'four' } }, expect: 'header/0' },
      { req: { path: '/?animal=hydra&color=red' }, expect: 'twoq/0' },
      { req: { path: '/?animal=hydra' }, expect: 'query/0' },
    ],
  },
  {
    rule: '5.1 step 2 before 5: a longer PathPrefix beats a query-param match',
    routes: [
      { name: 'query', rules: [{ matches: [{ queryParams: [{ name: 'animal', value: 'hydra' }] }] }] },
      { name: 'path', rules: [{ matches: [p('PathPrefix', '/path5')] }] },
    ],
    requests: [{ req: { path: '/path5?animal=hydra' }, expect: 'path/0' }],
  },
  {
    rule: '5.1 step 6: across routes, the oldest creationTimestamp wins',
    routes: [
      { name: 'aaa-new', creationTimestamp: '2026-02-01T00:00:00Z', rules: [{}] },
      { name: 'zzz-old', creationTimestamp: '2026-01-01T00:00:00Z', rules: [{}] },
    ],
    requests: [{ req: { path: '/' }, expect: 'zzz-old/0' }],
  },
  {
    rule: '5.1 step 6: at equal timestamps, "{namespace}/{name}" alphabetical order wins',
    routes: [
      { name: 'bbb', creationTimestamp: '2026-01-01T00:00:00Z', rules: [{}] },
      { name: 'aaa', creationTimestamp: '2026-01-01T00:00:00Z', rules: [{}] },
    ],
    requests: [{ req: { path: '/' }, expect: 'aaa/0' }],
  },
  {
    rule: '5.1 step 7: within one route, the first rule in list order wins ties',
    routes: [
      {
        name: 'r',
        rules: [{ matches: [{ headers: [{ name: 'version', value: 'two' }] }] }, { matches: [{ headers: [{ name: 'color', value: 'blue' }] }] }],
      },
    ],
    requests: [{ req: { path: '/', headers: { version: 'two', color: 'blue' } }, expect: 'r/0' }],
  },
  {
    rule: '5.1: a header match with the defaulted path / beats a plain PathPrefix / of an older route (step 4 before 6)',
    routes: [
      { name: 'old', creationTimestamp: '2026-01-01T00:00:00Z', rules: [{ matches: [p('PathPrefix', '/')] }] },
      { name: 'new', creationTimestamp: '2026-02-01T00:00:00Z', rules: [{ matches: [{ headers: [{ name: 'version', value: 'two' }] }] }] },
    ],
    requests: [{ req: { path: '/', headers: { version: 'two' } }, expect: 'new/0' }],
  },
  // ---------------------------------------------------------------- listeners (digest 3)
  {
    rule: '3: the most specific listener hostname is chosen, and only its routes are considered (listener isolation)',
    listeners: [
      { name: 'empty', port: 80 },
      { name: 'wild', port: 80, hostname: '*.example.com' },
      { name: 'foo', port: 80, hostname: '*.foo.example.com' },
      { name: 'exact', port: 80, hostname: 'abc.foo.example.com' },
    ],
    routes: [
      { name: 'r-empty', listener: 'empty', rules: [{ matches: [p('PathPrefix', '/empty')] }] },
      { name: 'r-wild', listener: 'wild', rules: [{ matches: [p('PathPrefix', '/wild')] }] },
      { name: 'r-foo', listener: 'foo', rules: [{ matches: [p('PathPrefix', '/foo')] }] },
      { name: 'r-exact', listener: 'exact', rules: [{ matches: [p('PathPrefix', '/exact')] }] },
    ],
    requests: [
      { req: { path: '/exact', host: 'abc.foo.example.com' }, expect: 'r-exact/0' },
      { req: { path: '/foo', host: 'abc.foo.example.com' }, expect: 404 },
      { req: { path: '/foo', host: 'x.foo.example.com' }, expect: 'r-foo/0' },
      { req: { path: '/wild', host: 'x.foo.example.com' }, expect: 404 },
      { req: { path: '/wild', host: 'bar.example.com' }, expect: 'r-wild/0' },
      { req: { path: '/empty', host: 'bar.com' }, expect: 'r-empty/0' },
      { req: { path: '/empty', host: 'bar.example.com' }, expect: 404 },
    ],
  },
  {
    rule: '3: the port in the Host header is ignored when matching hostnames',
    listeners: [{ name: 'web', port: 80, hostname: 'very.specific.com' }],
    routes: [{ name: 'r', rules: [{}] }],
    requests: [
      { req: { path: '/', host: 'very.specific.com:1234' }, expect: 'r/0' },
      { req: { path: '/', host: 'VERY.specific.com' }, expect: 'r/0' },
      { req: { path: '/', host: 'other.com' }, expect: 404 },
    ],
  },
];
