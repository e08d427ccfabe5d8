// Issue 13 item 5: YAML is parsed fast (js-yaml) and positions are recovered only for documents
// with issues. The fast path must give exactly what the exact path (the `yaml` package) gives:
// the same resources, the same issues with the same files, documents, lines and columns, and the
// same limits (issue 9: depth, aliases, sizes, counts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/index.js';
import { loadManifestsWith } from '../../src/resources/load.js';
import { resolveLimits, type ManifestLimits, type ParseBudget } from '../../src/resources/parse.js';
import { parseYamlExact } from '../../src/resources/yaml/exact.js';
import { parseYaml } from '../../src/resources/yaml/fast.js';
import { needsExactPath } from '../../src/resources/yaml/fast/needs-exact-path.js';

const G = 'gateway.networking.k8s.io/v1';
const exact = (text: string, options: { limits?: ManifestLimits } = {}) => loadManifestsWith(parseYamlExact, text, options);
const svc = (name: string, extra = '') => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n${extra}`;
const route = (name: string, extra = '') => `apiVersion: ${G}\nkind: HTTPRoute\nmetadata:\n  name: ${name}\nspec:\n  parentRefs: [{name: gw}]\n${extra}`;

/** Documents, values and issues of one text through the fast path and through the exact one. */
function bothParses(text: string, limits?: ManifestLimits) {
  const run = (parse: typeof parseYaml) => {
    const budget: ParseBudget = { limits: resolveLimits(limits), documents: 0, exhausted: false };
    const issues: unknown[] = [];
    const docs: unknown[] = [];
    parse(text, { file: 'f.yaml' }, budget, issues as never, (d) => docs.push({ document: d.document, value: d.value, at: d.yaml?.tree(d.document)?.pos(Number(d.yaml.tree(d.document)!.doc.contents?.range?.[0] ?? 0)) }));
    return { docs, issues, documents: budget.documents };
  };
  return { fast: run(parseYaml), exact: run(parseYamlExact) };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
}

describe('the fast path gives what the exact path gives', () => {
  const files = ['examples', 'docs', 'test/resources/bad', 'test/conformance', 'test/cli/fixtures'].flatMap(yamlFiles);

  it('finds the fixtures', () => {
    expect(files.length).toBeGreaterThan(150);
  });

  it.each(files)('%s: same documents, values, issues and positions', (file) => {
    const text = readFileSync(file, 'utf8');
    const { fast, exact: slow } = bothParses(text);
    expect(fast).toEqual(slow);
    expect(loadManifests({ filename: file, text })).toEqual(loadManifestsWith(parseYamlExact, { filename: file, text }));
  });

  // Scalars where YAML 1.1, js-yaml's own schemas and the `yaml` package's YAML 1.2 core schema
  // disagree, plus the features the fast path leaves to the exact path.
  const SCALARS = ['on', 'off', 'yes', 'no', 'y', 'True', 'FALSE', 'tRUE', '0o10', '010', '0x1F', '-0x1F', '+0o7', '0b101', '1_000', '1e3', '1E+3', '.5', '-.5', '+.5', '1.', '.inf', '-.Inf', '.NaN', 'nan', '~', 'null', 'Null', 'NULL', 'nULL', '2024-01-01', '2001-12-14t21:59:43.10-05:00', '12:30:00', '+12', '-0', '12345678901234567890', '"quoted"', "'it''s'", '"\\u00e9\\t"', '""', '', 'a b', 'x # comment', '*a', '&a x', '!!str 1', '!!int "1"', '!!binary aGk=', '[1, 2]', '{a: 1}', '[1, *a]', '|\n    block\n', '>-\n    folded\n    text\n', '"two\n    lines"', '@x', '`x', 'a: b'];
  const KEYS = ['k', 'name', '1', 'true', '~', 'null', '"null"', '', '? k', '<<', '[a]', 'k\tx', 'on'];
  const mapping = fc.array(fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...SCALARS)), { minLength: 1, maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${k}: ${v}`).join('\n'));
  const document = fc.oneof(
    mapping,
    mapping.map((m) => `top:\n${m.replace(/^/gm, '  ')}`),
    mapping.map((m) => `list:\n${m.replace(/^/gm, '  - ')}`),
    mapping.map((m) => `anchor: &a ${m.split('\n')[0]!.split(': ')[1]}\n${m}`),
    fc.constantFrom('# only a comment', '', 'just a scalar', '- a\n- b', '...', 'a: [1,', 'a:\n\t- tab', '  bad: indent\nx: 1', 'a: 1\na: 2'),
  );
  const separator = fc.constantFrom('\n---\n', '\n--- # c\n', '\n...\n---\n', '\n---\n\n', '\n--- |\n  x\n---\n', '\n', '\n...\n');
  const stream = fc.tuple(fc.boolean(), fc.array(fc.tuple(document, separator), { minLength: 1, maxLength: 6 })).map(([lead, parts]) => `${lead ? '---\n' : ''}${parts.map(([d, s]) => d + s).join('')}`);

  const sameOnBothPaths = (texts: fc.Arbitrary<string>, numRuns: number, seed: number) =>
    fc.assert(
      fc.property(texts, (text) => {
        const { fast, exact: slow } = bothParses(text);
        expect(fast).toEqual(slow);
      }),
      { numRuns, seed },
    );

  it('on generated streams of tricky scalars, keys and separators (2,000 cases)', () => sameOnBothPaths(stream, 2000, 13));

  // Lines of random YAML-ish atoms: mostly invalid YAML, where js-yaml and `yaml` disagree most
  // (flow collections over lines, indentation, tabs, comments without a blank, block scalar
  // headers, `---` followed by text). Each disagreement found this way became a rule of the scan.
  const ATOMS = ['a', 'b c', '"q"', "'s'", '1', '-1', '0.5', 'true', '~', '', '[x, y]', '{k: v}', '[', ']', '{', '}', ',', '"a\\"b"', "'it''s'", 'x:y', 'x #c', '#c', '|', '>', '|-', '|2', '- ', '? ', ': ', '\t', ' ', '  ', '"', "'", '\\', '@', '`', '&a', '*a', 'a b: c', '---', '...', 'é', 'k: v', '- x', '[a,\n b]', '{a: 1,\n b: 2}', '"x\n y"', 'p\n  q', '>\n  fold\n  ed\n', '|\n  lit\n\n  x\n'];
  const atomLine = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.array(fc.constantFrom(...ATOMS), { minLength: 1, maxLength: 4 })).map(([indent, parts]) => ' '.repeat(indent) + parts.join(''));
  const atomText = fc.array(atomLine, { minLength: 1, maxLength: 12 }).map((lines) => `${lines.join('\n')}\n`);

  it('on generated lines of YAML-ish atoms, mostly invalid (3,000 cases)', () => sameOnBothPaths(atomText, 3000, 7));

  it('CRLF line ends, a BOM and lone CRs: same documents, issues and lines', () => {
    const text = `${svc('a')}---\n${route('r', '  hostname: [x]\n')}---\n${svc('b', '  labels: {a: [x\n')}`;
    for (const variant of [text.replace(/\n/g, '\r\n'), `\uFEFF${text}`, text.replace(/\n/g, '\r')]) {
      const { fast, exact: slow } = bothParses(variant);
      expect(fast).toEqual(slow);
      expect(loadManifests(variant)).toEqual(exact(variant));
    }
    // YAML errors first (document 3, reported at its end), then the unknown field (document 2, line 12)
    expect(loadManifests(text.replace(/\n/g, '\r\n')).issues.map((i) => [i.code, i.document, i.line])).toEqual([
      ['GW_MANIFEST_YAML', 3, 19],
      ['GW_MANIFEST_YAML', 3, 19],
      ['GW_MANIFEST_UNKNOWN_FIELD', 2, 12],
    ]);
  });

  it('takes ordinary manifests (the scan sends them to js-yaml), and leaves aliases, tags and merge keys to the exact path', () => {
    expect(needsExactPath(readFileSync('examples/splitting.yaml', 'utf8'))).toBe(false);
    expect(needsExactPath(route('r', '  hostnames: ["*.example.com"]\n  rules:\n  - matches:\n    - path: {type: PathPrefix, value: /api/*}\n'))).toBe(false);
    for (const text of ['a: *x', '- *x', 'a: [1, *x]', 'a: !!str 1', '? a\n: b', '~: 1', ': 1', '<<: {a: 1}', '[a]: 1', '%YAML 1.2\n---\n', '--- a: 1']) expect(needsExactPath(text), text).toBe(true);
  });
});

describe('positions stay exact in large inputs', () => {
  // 3,000 Services with an error in document 2,345: the line is counted from the text itself.
  const docs = Array.from({ length: 3000 }, (_, i) => (i === 2344 ? route(`r${i}`, '  hostname: [x.example.com]\n') : svc(`s${i}`, '  labels:\n    app: web\n')));
  const text = docs.join('---\n');
  const lineOf = (needle: string, within = text) => within.slice(0, within.indexOf(needle)).split('\n').length;

  it('an issue in document 2,345 of 3,000 has that document, its line and its column', () => {
    const { resources, issues } = loadManifests({ filename: 'big.yaml', text });
    expect(resources).toHaveLength(2999);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_UNKNOWN_FIELD', file: 'big.yaml', document: 2345, line: lineOf('  hostname:'), column: 3, path: 'spec.hostname' })]);
    expect(issues).toEqual(loadManifestsWith(parseYamlExact, { filename: 'big.yaml', text }).issues);
  });

  it('a duplicate names the line of the first definition, found only when the duplicate is seen', () => {
    const twice = `${text}---\n${svc('s7')}`;
    const { issues } = loadManifests(twice);
    const dup = issues.find((i) => i.code === 'GW_MANIFEST_DUPLICATE')!;
    expect(dup).toMatchObject({ document: 3001, line: twice.slice(0, twice.lastIndexOf('  name: s7')).split('\n').length });
    expect(dup.message).toContain(`first in document 8, line ${lineOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: s7\n')}`);
    expect(issues).toEqual(exact(twice).issues);
  });

  // The documents of one input share one source, which finds a document's chunk by its number:
  // a first chunk of comments only holds no document, so document 1 is the second chunk.
  it('after a first chunk of comments only, an issue and a duplicate still name their own lines', () => {
    const commented = `# generated\n# by a tool\n---\n${text}---\n${route('late', '  hostname: [x.example.com]\n')}---\n${svc('s7')}`;
    const { issues } = loadManifests(commented);
    const dup = issues.find((i) => i.code === 'GW_MANIFEST_DUPLICATE')!;
    expect(dup.message).toContain(`first in document 8, line ${lineOf('apiVersion: v1\nkind: Service\nmetadata:\n  name: s7\n', commented)}`);
    expect(issues.find((i) => i.document === 3001)).toMatchObject({ code: 'GW_MANIFEST_UNKNOWN_FIELD', line: commented.slice(0, commented.lastIndexOf('  hostname:')).split('\n').length });
    expect(issues).toEqual(exact(commented).issues);
  });

  it('a YAML error in document 2,000 of 3,000: the documents before it load, the error has its line', () => {
    const broken = [...docs.slice(0, 1999), `${svc('bad')}  labels: {a: [x\n`, ...docs.slice(2000)].join('---\n');
    const fast = loadManifests(broken);
    expect(fast.issues[0]).toMatchObject({ code: 'GW_MANIFEST_YAML', document: 2000 });
    expect(fast.issues[0]!.line).toBe(lineOf('  labels: {a: [x', broken) + 1); // the parser notices on the next line
    expect(fast).toEqual(exact(broken));
  });
});

describe('the limits hold on the fast path (issue 9)', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => svc(`s${i}`)).join('---\n');

  it('deep nesting after 500 valid documents is refused before any recursive parse, at its line', () => {
    const text = `${many(500)}---\n${route('r', `  hostnames: ${'['.repeat(3000)}${']'.repeat(3000)}\n`)}`;
    const { issues } = loadManifests(text);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_DEEP', document: 501, line: 500 * 5 + 7 })]);
    expect(issues).toEqual(exact(text).issues);
  });

  it('nesting near limits.maxDepth is decided by the exact path, level by level', () => {
    const styles = [
      (n: number) => `  x: ${'['.repeat(n)}1${']'.repeat(n)}\n`,
      (n: number) => `  x: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`,
      (n: number) => `  x:\n  - ${'- '.repeat(n)}1\n`,
      (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(2 + i)}k${i}:`).join('\n') + ' 1\n',
    ];
    for (const style of styles) {
      for (const maxDepth of [6, 10, 20]) {
        for (let levels = maxDepth - 6; levels <= maxDepth + 2; levels++) {
          const text = `${many(3)}---\n${route('r', style(levels))}`;
          expect(loadManifests(text, { limits: { maxDepth } }).issues).toEqual(exact(text, { limits: { maxDepth } }).issues);
        }
      }
    }
  });

  it('an anchor used more than limits.maxAliases times is refused as by the exact path', () => {
    const uses = (n: number) => `${many(50)}---\n${svc('a', `  labels:\n    base: &v x\n${Array.from({ length: n }, (_, i) => `    l${i}: *v\n`).join('')}`)}`;
    expect(loadManifests(uses(50)).issues).toEqual([]);
    const over = loadManifests(uses(101));
    expect(over.issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_YAML', document: 51 })]);
    expect(over.issues[0]!.message).toContain('limits.maxAliases');
    expect(over).toEqual(exact(uses(101)));
  });

  it('"billion laughs" after valid documents is refused', () => {
    const laughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nkind: HTTPRoute\napiVersion: ${G}\n`;
    const { issues } = loadManifests(`${many(20)}---\n${laughs}`);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_YAML', document: 21 })]);
    expect(issues[0]!.message).toContain('limits.maxAliases');
  });

  it('an object over limits.maxObjectBytes, and an input over limits.maxInputBytes', () => {
    const text = `${many(10)}---\n${svc('big', `  labels:\n${Array.from({ length: 40 }, (_, i) => `    l${i}: ${'v'.repeat(60)}\n`).join('')}`)}`;
    const { issues } = loadManifests(text, { limits: { maxObjectBytes: 2000 } });
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_LARGE', document: 11, line: 10 * 5 + 1 })]);
    expect(loadManifests(text, { limits: { maxInputBytes: 1000 } }).issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_LARGE', message: expect.stringContaining('limits.maxInputBytes') })]);
  });

  it('limits.maxDocuments stops at the same document, with the same issue', () => {
    const text = many(40);
    const fast = loadManifests(text, { limits: { maxDocuments: 25 } });
    expect(fast.resources).toHaveLength(25);
    expect(fast.issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_TOO_MANY', document: 26, line: 25 * 5 })]);
    expect(fast).toEqual(exact(text, { limits: { maxDocuments: 25 } }));
  });

  it('a duplicate key in document 300 is a YAML error at its line', () => {
    const text = `${many(299)}---\n${svc('d', '  labels:\n    a: x\n    a: y\n')}`;
    const { issues } = loadManifests(text);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_YAML', document: 300, line: 299 * 5 + 7 })]);
    expect(issues[0]!.message).toContain('This key appears twice');
  });
});
