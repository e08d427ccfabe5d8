// Issue 13 item 5: the block reader (src/resources/yaml/plain.ts) reads the plain block YAML of
// most manifests straight into values. Whatever it takes must read exactly as the exact path
// (the `yaml` package) reads it; whatever it is unsure of, it must leave (undefined), so that
// js-yaml and then the exact path decide, with their issues and positions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateTable, type Shape } from '../../bench/tables.js';
import { toYaml } from '../../bench/yaml.js';
import { loadManifests } from '../../src/index.js';
import { loadManifestsWith } from '../../src/resources/load.js';
import { resolveLimits, type ParseBudget } from '../../src/resources/parse.js';
import { parseYamlExact } from '../../src/resources/yaml/exact.js';
import { BlockReader } from '../../src/resources/yaml/plain.js';

/** The exact path's documents and issues for one text. */
function exactly(text: string) {
  const budget: ParseBudget = { limits: resolveLimits(undefined), documents: 0, exhausted: false };
  const issues: unknown[] = [];
  const values: unknown[] = [];
  parseYamlExact(text, {}, budget, issues as never, (d) => values.push(d.value));
  return { values, issues, documents: budget.documents };
}

/** What the reader makes of a one-document text, or undefined when it leaves it. */
const read = (text: string, maxDepth = 61) => new BlockReader(text, maxDepth).read(0, text.length);

// Scalars and keys where YAML readers disagree, and lines the reader must leave alone.
const SCALARS = ['', 'x', 'gw', 'a b', 'PathPrefix', '/api/v1', 'http://x:80/y', 'gateway.networking.k8s.io/v1', 'a#b', 'x # c', 'x   ', "it's", 'a"b', 'a,b', 'a]', '[a]', '{a: 1}', '[]', '{}', 'a: b', 'a:', ':a', '-', '- x', '-x', '--x', '---', '...', '?x', '? x', '&a x', '*a', '!x', '|', '>', '%x', '@x', '`x', '"q"', '"q" # c', '"q"#c', "'s'", "'it''s'", "''", '""', '"a\\"b"', '"a\\tb"', '"x', "'x", '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'yes', 'no', 'on', 'y', '0', '-0', '+1', '8080', '007', '0o17', '0x1F', '0b101', '1_000', '1.5', '.5', '-.5', '1.', '1e3', '1E+3', '.inf', '-.Inf', '.NaN', 'nan', '2024-01-01', '12:30', '12345678901234567890', 'é', 'a\tb'];
const KEYS = ['name', 'kind', 'port', 'value', 'a b', 'a#b', '-a', 'true', 'null', '~', '1', '1.5', '0x1', '<<', '"q"', "'q'", '"a b"', '"true"', '__proto__', 'a"b', 'x]', '? k', 'k ', '&a k', 'é'];

type Tree = string | Tree[] | { [k: string]: Tree };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SCALARS),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { minKeys: 1, maxKeys: 4 }),
  ),
})).node;

/** Block YAML for a tree, with the layout choices people make: indentation, same-column sequences, comments, blank lines. */
function render(root: { [k: string]: Tree }, style: number[]): string {
  let s = 0;
  const pick = (n: number) => (style.length ? style[s++ % style.length]! % n : 0);
  const out: string[] = [];
  const extras = (indent: string) => {
    const e = pick(8);
    if (e === 0) out.push('');
    if (e === 1) out.push(`${indent}# a comment`);
    if (e === 2) out.push(`${' '.repeat(pick(6))}# elsewhere`);
  };
  const isBlock = (v: Tree) => typeof v === 'object';
  const writeMap = (m: { [k: string]: Tree }, indent: string, first?: string) => {
    let lead = first;
    for (const [k, v] of Object.entries(m)) {
      const head = lead ?? indent;
      lead = undefined;
      if (isBlock(v)) {
        out.push(`${head}${k}:${pick(5) === 0 ? ' # c' : ''}`);
        extras(indent);
        const step = Array.isArray(v) && pick(3) === 0 ? '' : ' '.repeat(1 + pick(3));
        writeValue(v, indent + step);
      } else {
        out.push(`${head}${k}: ${v}${pick(6) === 0 ? ' # c' : ''}`);
      }
      extras(indent);
    }
  };
  const writeValue = (v: Tree, indent: string): void => {
    if (!Array.isArray(v)) return writeMap(v as { [k: string]: Tree }, indent);
    for (const item of v) {
      const gap = ' '.repeat(1 + pick(2));
      if (typeof item === 'string') out.push(`${indent}-${gap}${item}`);
      else if (!Array.isArray(item) && pick(3) > 0) writeMap(item, indent + ' '.repeat(1 + gap.length), `${indent}-${gap}`);
      else {
        out.push(`${indent}-`);
        writeValue(item, `${indent}${' '.repeat(1 + pick(3))}`);
      }
      extras(indent);
    }
  };
  writeMap(root, '');
  return `${pick(3) === 0 ? '--- # doc\n' : ''}${out.join('\n')}\n`;
}

const documents = fc.tuple(fc.dictionary(fc.constantFrom(...KEYS), tree, { minKeys: 1, maxKeys: 5 }), fc.array(fc.nat(99), { minLength: 1, maxLength: 20 })).map(([root, style]) => render(root, style));

describe('the block reader reads what the exact path reads, or leaves the document', () => {
  it('on generated block documents with tricky keys, scalars and layouts (3,000 cases)', () => {
    let taken = 0;
    let cases = 0;
    fc.assert(
      fc.property(documents, (text) => {
        cases++;
        const value = read(text);
        if (value === undefined) return;
        taken++;
        const { values, issues, documents: count } = exactly(text);
        expect(issues).toEqual([]);
        expect(count).toBe(1);
        expect(value).toEqual(values[0]);
      }),
      { numRuns: 3000, seed: 13 },
    );
    // The generator must exercise the reader, not only its refusals (most tricky keys and scalars are refused).
    expect(taken).toBeGreaterThan(cases / 50);
  });

  it('on generated documents of plain keys and safe scalars, it takes every one', () => {
    const safeKeys = ['name', 'kind', 'port', 'a b', 'a#b', '-a', '"q"', "'r'", '"true"']; // no two that YAML reads as one key
    const safeScalars = ['', 'x', 'a b', '/api/v1', 'http://x:80/y', "it's", 'a"b', 'a,b', 'x # c', '"q"', "'it''s'", '[]', '{}', '~', 'null', 'True', 'no', '-0', '8080', '0o17', '0x1F', '0b101', '1.5', '1e3', '.inf', '.NaN', '2024-01-01', '12345678901234567890'];
    const safeTree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.constantFrom(...safeScalars), fc.array(tie('node'), { minLength: 1, maxLength: 3 }), fc.dictionary(fc.constantFrom(...safeKeys), tie('node'), { minKeys: 1, maxKeys: 4 })),
    })).node;
    const safe = fc.tuple(fc.dictionary(fc.constantFrom(...safeKeys), safeTree, { minKeys: 1, maxKeys: 5 }), fc.array(fc.nat(99), { minLength: 1, maxLength: 20 })).map(([root, style]) => render(root, style));
    fc.assert(
      fc.property(safe, (text) => {
        const value = read(text);
        expect(value, text).not.toBeUndefined();
        expect(value).toEqual(exactly(text).values[0]);
      }),
      { numRuns: 1000, seed: 5 },
    );
  });

  // Lines of random atoms: mostly invalid YAML, where a reader that guesses would go wrong.
  const ATOMS = ['a', 'b c', 'k: v', 'k:', '- ', '-', '- k: v', '"q"', "'s'", '1', 'true', '~', '#c', ' #c', ':', ': ', '[', ']', '{}', '[]', ',', '"', "'", '\\', '---', '...', '?', '&a', '*a', '!t', '|', '>', '\t', 'é', '  '];
  const line = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.array(fc.constantFrom(...ATOMS), { minLength: 1, maxLength: 4 })).map(([indent, parts]) => ' '.repeat(indent) + parts.join(''));
  const lines = fc.array(line, { minLength: 1, maxLength: 10 }).map((ls) => `${ls.join('\n')}\n`);

  it('on generated lines of YAML-ish atoms, mostly invalid (5,000 cases): never a value the exact path does not give', () => {
    fc.assert(
      fc.property(fc.oneof(lines, documents.map((d) => d.replace(/\n(?=.)/, '\n  '))), (text) => {
        const value = read(text);
        if (value === undefined) return;
        const { values, issues, documents: count } = exactly(text);
        expect(issues).toEqual([]);
        expect(count).toBe(1);
        expect(value).toEqual(values[0]);
      }),
      { numRuns: 5000, seed: 21 },
    );
  });

  it('leaves what it does not know: aliases, tags, block scalars, flow collections, continued lines, duplicates, odd indentation', () => {
    for (const text of ['a: *x\n', 'a: &x 1\n', 'a: !t 1\n', 'a: |\n  x\n', 'a: >\n  x\n', 'a: [1]\n', 'a: {b: 1}\n', 'a: x\n  y\n', 'a: 1\na: 2\n', 'a:\n  - 1\n - 2\n', 'a:\n    b: 1\n  c: 2\n', '<<: {}\n', '1: x\n', 'null: x\n', '? a\n: b\n', 'a: "x\\ty"\n', 'a: "x\n  y"\n', 'a:\tb\n', 'a: b\r\n', '\uFEFFa: b\n', 'a: é\n', '  a: b\n', '- a\n', 'a: b\n...\n', '%YAML 1.2\n---\na: b\n', 'a: b\n---\nc: d\n', '', '# only\n', '__proto__: x\n', 'a: - b\n', 'a: b: c\n']) {
      expect(read(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('reads the document between two markers and stops nesting at maxDepth', () => {
    const text = 'x: 0\n---\na:\n  b:\n    c: 1\n---\ny: 2\n';
    const start = text.indexOf('---');
    const end = text.lastIndexOf('---');
    expect(new BlockReader(text, 61).read(start, end)).toEqual({ a: { b: { c: 1 } } });
    expect(new BlockReader(text, 3).read(start, end)).toEqual({ a: { b: { c: 1 } } });
    expect(new BlockReader(text, 2).read(start, end)).toBeUndefined();
    expect(new BlockReader(text, 61).read(0, start)).toEqual({ x: 0 });
  });
});

describe('bench tables through the reader', () => {
  it.each(['services', 'one-vhost', 'deep-prefix', 'canary', 'weighted'] satisfies Shape[])('%s: loadManifests gives what the exact path gives', (shape) => {
    const text = toYaml(generateTable(200, shape).manifests);
    const fast = loadManifests(text);
    expect(fast.issues).toEqual([]);
    expect(fast).toEqual(loadManifestsWith(parseYamlExact, text));
    // ...and the reader took every document (the fast path's speed depends on it)
    const docs = text.split(/^---\n/m).filter(Boolean);
    expect(docs.every((d) => read(`---\n${d}`) !== undefined)).toBe(true);
  });
});
