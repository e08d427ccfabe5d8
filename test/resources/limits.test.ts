// Issue 9 item 3: nothing from manifests crashes. loadManifests never throws on content,
// createGateway throws only GatewayConfigError for it, and reload returns { ok: false }; every
// resource the parser could spend is bounded, with documented defaults (docs/routing.md, "Security").
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGateway, GatewayConfigError, GatewayError, loadManifests } from '../../src/index.js';
import type { Issue, ManifestInput } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const GATEWAY = `apiVersion: ${G}\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  gatewayClassName: x\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n`;
const routeYaml = (name: string, extra = '') => `apiVersion: ${G}\nkind: HTTPRoute\nmetadata:\n  name: ${name}\nspec:\n  parentRefs: [{name: gw}]\n${extra}`;

/** Hostile documents: deep nesting in each YAML style, self-reference, alias expansion. */
const hostile: Record<string, string> = {
  'deep flow sequences (6 KB)': routeYaml('r', `  hostnames: ${'['.repeat(3000)}${']'.repeat(3000)}\n`),
  'deep compact block sequences (6 KB)': routeYaml('r', `  hostnames:\n  - ${'- '.repeat(3000)}x\n`),
  'deep flow mappings': routeYaml('r', `  x: ${'{a: '.repeat(2000)}1${'}'.repeat(2000)}\n`),
  'deep unclosed flow': routeYaml('r', `  x: ${'[{'.repeat(3000)}\n`),
  'deep indented mappings': routeYaml('r', Array.from({ length: 400 }, (_, i) => `${' '.repeat(2 + i)}k${i}:`).join('\n') + ' 1\n'),
  'an alias inside its own anchor': routeYaml('r', '  hostnames: &x [*x]\n'),
  'a mapping alias inside its own anchor': routeYaml('r', '  rules: &x\n  - matches: *x\n'),
  'billion laughs': `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nkind: HTTPRoute\napiVersion: ${G}\n`,
};

function errorsOf(issues: readonly Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error');
}

describe('hostile YAML never escapes as anything but issues (digest 11)', () => {
  it.each(Object.entries(hostile))('%s: loadManifests returns an error issue', (_what, text) => {
    const { issues } = loadManifests(text);
    expect(errorsOf(issues).length).toBeGreaterThan(0);
    for (const i of errorsOf(issues)) expect(i.code).toMatch(/^GW_MANIFEST_(YAML|TOO_DEEP|TOO_LARGE)$/);
  });

  it.each(Object.entries(hostile))('%s: createGateway throws GatewayConfigError, reload returns { ok: false } and keeps serving', (_what, text) => {
    expect(() => createGateway({ manifests: [GATEWAY, text] })).toThrow(GatewayConfigError);
    const gw = createGateway({ manifests: [GATEWAY, routeYaml('ok')] });
    const r = gw.reload([GATEWAY, text]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBeInstanceOf(GatewayConfigError);
    expect(gw.statusOf('HTTPRoute', 'ok')).toBeDefined();
  });

  it('names the deep nesting and where it starts (GW_MANIFEST_TOO_DEEP)', () => {
    const { issues } = loadManifests([GATEWAY, hostile['deep flow sequences (6 KB)']!]);
    expect(errorsOf(issues)).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_DEEP', input: 2, document: 1, line: 7 })]);
    expect(issues[0]!.message).toContain('limits.maxDepth');
  });

  it('names an alias used inside its own anchor, with its position', () => {
    const { issues } = loadManifests(hostile['an alias inside its own anchor']!);
    expect(errorsOf(issues)).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_YAML', line: 7, column: 18 })]);
    expect(issues[0]!.message).toContain('inside its own anchor');
  });

  it('stops "billion laughs" alias expansion (limits.maxAliases)', () => {
    const { issues } = loadManifests(hostile['billion laughs']!);
    expect(issues[0]).toMatchObject({ code: 'GW_MANIFEST_YAML' });
    expect(issues[0]!.message).toContain('limits.maxAliases');
  });

  it('a self-referencing object given as a JavaScript value is an issue, not a stack overflow', () => {
    const spec: Record<string, unknown> = { parentRefs: [{ name: 'gw' }] };
    spec.self = spec;
    const { issues } = loadManifests({ apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r' }, spec });
    expect(errorsOf(issues)).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_DEEP' })]);
  });

  it('100 reloads of generated hostile inputs: every one returns { ok: false }, none throws', () => {
    const gw = createGateway({ manifests: [GATEWAY, routeYaml('ok')] });
    const before = gw.route({ method: 'GET', path: '/' });
    const nest = fc.tuple(fc.constantFrom('[', '{a: ', '- ', '[{', '{k: [', '\n  - '), fc.integer({ min: 100, max: 3000 }));
    fc.assert(
      fc.property(nest, fc.constantFrom(...Object.values(hostile)), ([open, depth], other) => {
        const r = gw.reload([GATEWAY, routeYaml('r', `  hostnames: ${open.repeat(depth)}x\n`), other]);
        expect(r.ok).toBe(false);
        expect(!r.ok && r.error.code).toBe('GW_ERR_CONFIG_INVALID');
      }),
      { numRuns: 100, seed: 9 },
    );
    expect(gw.route({ method: 'GET', path: '/' })).toEqual(before);
    expect(gw.statusOf('HTTPRoute', 'ok')).toBeDefined();
  });
});

describe('limits, with their documented defaults', () => {
  it('limits.maxInputBytes: a larger input is not parsed (GW_MANIFEST_TOO_LARGE)', () => {
    const text = routeYaml('r', `  hostnames: [${'"a.example.com", '.repeat(100)}]\n`);
    const { issues } = loadManifests({ filename: 'big.yaml', text }, { limits: { maxInputBytes: 1000 } });
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_LARGE', file: 'big.yaml' })]);
    expect(issues[0]!.message).toContain(`${Buffer.byteLength(text)} bytes`);
    expect(loadManifests(text, { limits: { maxInputBytes: Buffer.byteLength(text) } }).issues.some((i) => i.code === 'GW_MANIFEST_TOO_LARGE')).toBe(false);
  });

  it('counts bytes, not characters: multi-byte text over the limit is refused', () => {
    const text = `# ${'é'.repeat(600)}\n${routeYaml('r')}`; // 1200 bytes of comment in 600 characters
    expect(text.length).toBeLessThan(1000);
    expect(loadManifests(text, { limits: { maxInputBytes: 1000 } }).issues[0]).toMatchObject({ code: 'GW_MANIFEST_TOO_LARGE' });
  });

  it('an object larger than the API server stores (about 1.5 MiB) gets GW_MANIFEST_TOO_LARGE by default', () => {
    const big = 'a'.repeat(1.5 * 1024 * 1024);
    const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { blob: big } };
    const { issues } = loadManifests(obj);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_LARGE', object: expect.objectContaining({ kind: 'Secret', name: 's' }) })]);
    const fits = { ...obj, stringData: { blob: big.slice(0, 1024 * 1024) } };
    expect(loadManifests(fits).issues.filter((i) => i.code === 'GW_MANIFEST_TOO_LARGE')).toEqual([]);
  });

  it('limits.maxDepth: real manifests pass at the default, and a lower limit refuses them', () => {
    const route = routeYaml('r', '  rules:\n  - filters:\n    - type: RequestHeaderModifier\n      requestHeaderModifier:\n        set:\n        - {name: x, value: y}\n');
    expect(errorsOf(loadManifests([GATEWAY, route]).issues)).toEqual([]);
    // root, spec, rules, rule, filters, filter, requestHeaderModifier, set, item: 9 levels
    for (const maxDepth of [5, 8]) {
      const errors = errorsOf(loadManifests(route, { limits: { maxDepth } }).issues);
      expect(errors).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_DEEP', document: 1 })]);
      expect(errors[0]!.line).toBeGreaterThanOrEqual(7);
    }
    expect(errorsOf(loadManifests(route, { limits: { maxDepth: 9 } }).issues)).toEqual([]);
    expect(errorsOf(loadManifests(loadManifests(route).resources[0] as never, { limits: { maxDepth: 8 } }).issues)).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_DEEP' })]);
  });

  it('limits.maxDocuments counts over all inputs and stops there (GW_MANIFEST_TOO_MANY)', () => {
    const svc = (n: number) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${n}\n`;
    const { resources, issues } = loadManifests([[svc(1), svc(2)].join('---\n'), [svc(3), svc(4)].join('---\n'), svc(5)], { limits: { maxDocuments: 3 } });
    expect(resources.map((r) => r.metadata.name)).toEqual(['s1', 's2', 's3']);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_MANY', input: 2, document: 2, line: 5 })]);
  });

  it('limits.maxDocuments counts kind: List items', () => {
    const items = [1, 2, 3].map((n) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `s${n}` } }));
    const { resources, issues } = loadManifests({ apiVersion: 'v1', kind: 'List', items }, { limits: { maxDocuments: 2 } });
    expect(resources).toHaveLength(2);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_MANY', path: 'items[2]' })]);
  });

  it('limits.maxRoutes: routes beyond the limit are not loaded, other kinds are', () => {
    const inputs: ManifestInput[] = [GATEWAY, routeYaml('a'), routeYaml('b'), routeYaml('c')];
    const { resources, issues } = loadManifests(inputs, { limits: { maxRoutes: 2 } });
    expect(resources.map((r) => `${r.kind}/${r.metadata.name}`)).toEqual(['Gateway/gw', 'HTTPRoute/a', 'HTTPRoute/b']);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_MANY', input: 4, object: expect.objectContaining({ name: 'c' }) })]);
    expect(() => createGateway({ manifests: inputs, limits: { maxRoutes: 2 } })).toThrow(GatewayConfigError);
  });

  it.each([{ maxDepth: 0 }, { maxDepth: 1.5 }, { maxRoutes: '10' }, { maxBytes: 10 }])('refuses a bad limits option %j with GW_ERR_OPTIONS_INVALID', (limits) => {
    expect(() => createGateway({ manifests: GATEWAY, limits: limits as never })).toThrow(expect.objectContaining({ code: 'GW_ERR_OPTIONS_INVALID' }) as GatewayError);
    expect(() => loadManifests(GATEWAY, { limits: limits as never })).toThrow(expect.objectContaining({ code: 'GW_ERR_OPTIONS_INVALID' }) as GatewayError);
  });
});

describe('the regex cache is bounded (issue 9 item 3)', () => {
  it(`keeps at most REGEX_CACHE_SIZE compiled patterns, however many reloads bring new ones`, async () => {
    const { compileFullMatch, regexCacheSize, REGEX_CACHE_SIZE } = await import('../../src/resources/schemas-shared.js');
    for (let i = 0; i < REGEX_CACHE_SIZE + 200; i++) expect(compileFullMatch(`/p${i}/[0-9]+`).ok).toBe(true);
    expect(regexCacheSize()).toBe(REGEX_CACHE_SIZE);
    const first = compileFullMatch('/p0/[0-9]+'); // evicted long ago: compiled again, still correct
    expect(first.ok && first.test('/p0/42')).toBe(true);
    expect(first.ok && first.test('/p0/x')).toBe(false);
  });
});
