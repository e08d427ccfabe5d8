/**
 * The fast way from YAML text to raw documents. The `yaml` package builds a node tree with
 * ranges for every document (exact positions, but about ten times the time and memory of a
 * plain parse), and positions are needed only for documents that have issues. So each
 * document is read by the block reader (plain.ts) when it is plain block YAML, else parsed with
 * `js-yaml` into plain values (strings copied out of js-yaml's text), and its `yaml` tree is
 * made only when an issue about it needs a line (see {@link YamlSource}).
 *
 * The fast path takes only documents whose values are certain to be what the exact path
 * (exact.ts) would give; from the first document it cannot take (and the one before it, which
 * `yaml` may blame for an error at the start of the next), the rest of the input goes through
 * the exact path, so every error, limit and position there is exactly the exact path's. It does
 * not take:
 * - text with features where js-yaml and `yaml` differ, or that need the exact path's alias
 *   budget: aliases, anchors, tags, directives, merge keys, explicit, null and flow keys, tabs,
 *   scalars and flow collections over several lines, indentation the scan cannot follow (a
 *   conservative scan, fast/needs-exact-path.ts; false alarms only cost speed; test/resources/
 *   fast-parse.test.ts compares both paths on generated texts);
 * - a document js-yaml refuses, for any reason (syntax, duplicate key, nesting);
 * - a document nested within DEPTH_MARGIN of `limits.maxDepth`, so that the exact path's token
 *   by token depth check decides every case near the limit;
 * - a document that would go over `limits.maxDocuments`.
 * js-yaml stops at `maxDepth` levels before its recursion could run deep, and a document
 * without aliases cannot expand, so every limit of exact.ts still holds on this path.
 */
import { FAILSAFE_SCHEMA, loadAll, Type, type LoadOptions } from 'js-yaml';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Issue } from '../../types.js';
import { isWithinInputLimit, NO_PREFIX, type ParseBudget, type RawDoc, type YamlSource, type YamlTree } from '../parse.js';
import { parseYamlExact } from './exact.js';
import { needsExactPath } from './fast/needs-exact-path.js';
import { ownStrings } from './own.js';
import { BlockReader } from './plain.js';
import { boolOf, floatOf, intOf, isBoolScalar, isFloatScalar, isIntScalar, isNullScalar } from './scalars.js';

/** js-yaml resolving plain scalars exactly as the `yaml` package does (scalars.ts). Only plain scalars are resolved implicitly; explicit tags never reach js-yaml. */
const scalarType = (tag: string, resolve: (s: string) => boolean, construct: (s: string) => unknown) => new Type(`tag:yaml.org,2002:${tag}`, { kind: 'scalar', resolve: (s: unknown) => typeof s === 'string' && resolve(s), construct });
const CORE_AS_YAML = FAILSAFE_SCHEMA.extend({
  implicit: [scalarType('null', isNullScalar, () => null), scalarType('bool', isBoolScalar, boolOf), scalarType('int', isIntScalar, intOf), scalarType('float', isFloatScalar, floatOf)],
});

/** A first chunk of blank and comment lines only: `yaml` counts no document there, js-yaml an empty one. */
const COMMENTS_ONLY = /^\uFEFF?(?:[ \t]*(?:#[^\n]*)?(?:\r?\n|$))*$/;

/** Documents nested this close to `limits.maxDepth` go through the exact path's depth check. */
const DEPTH_MARGIN = 3;

/**
 * Parses one YAML text into raw documents, within `budget`, with the same documents, values,
 * issues and positions as {@link parseYamlExact}, faster. Never throws on content.
 */
export function parseYaml(text: string, base: Partial<Issue>, budget: ParseBudget, issues: Issue[], emit: (doc: RawDoc) => void): void {
  const { limits } = budget;
  if (!isWithinInputLimit(text, base, limits, issues)) return;
  const maxDepth = limits.maxDepth - DEPTH_MARGIN;
  const reader = new BlockReader(text, maxDepth);
  let document = 0;
  let line = 0; // lines before `start`
  let counted = 0; // where `line` was counted to
  // The last chunk's documents wait for the next chunk: `yaml` reports some errors at the start
  // of a document (a stray `]`) on the document before, so the exact path must start there.
  let pending: { start: number; line: number; document: number; docs: RawDoc[]; count: number } | undefined;
  const source = new InputSource(text);
  // Documents start at a `---` line; the first one also at the start of the text.
  for (let start = 0; start < text.length; ) {
    const end = nextDocumentStart(text, start + 1);
    line += countLines(text, counted, start);
    counted = start;
    const taken = reader.read(start, end);
    const values = taken !== undefined ? [taken] : maxDepth >= 1 ? fastValues(text.slice(start, end), start === 0, maxDepth) : undefined;
    if (values === undefined || budget.documents + values.length > limits.maxDocuments) {
      const from = pending ?? { start, line, document };
      budget.documents -= pending?.count ?? 0;
      parseYamlExact(from.start === 0 ? text : text.slice(from.start), base, budget, issues, emit, from);
      return;
    }
    if (pending) for (const d of pending.docs) emit(d);
    if (start === 0 && values.length === 0) source.skip = 1; // the first chunk holds no document
    pending = { start, line, document, docs: [], count: values.length };
    for (const value of values) {
      document++;
      budget.documents++;
      // null: an empty document, e.g. after a trailing `---` (counted, as the exact path does)
      if (value !== null && value !== undefined) pending.docs.push({ value, base, document, yaml: source });
    }
    start = end;
  }
  if (pending) for (const d of pending.docs) emit(d);
}

/** The values of the documents in one chunk, or undefined when the exact path must take it. */
function fastValues(chunk: string, first: boolean, maxDepth: number): unknown[] | undefined {
  if (needsExactPath(chunk)) return undefined;
  let values: unknown[];
  try {
    values = loadAll(chunk, null, { schema: CORE_AS_YAML, maxDepth } as LoadOptions);
  } catch {
    return undefined; // a syntax error, a duplicate key, nesting over maxDepth, a stack overflow: the exact path says which
  }
  if (values.length === 1) {
    if (first && values[0] === null && COMMENTS_ONLY.test(chunk)) return [];
    ownStrings(values[0]);
    return values;
  }
  return values.length === 0 && first ? values : undefined; // several documents in a chunk (after `...`): leave them to the exact path
}

/** Offset of the next line that starts with a `---` marker at or after `from`, or the text's length. */
function nextDocumentStart(text: string, from: number): number {
  for (let i = text.indexOf('\n---', from - 1); i !== -1; i = text.indexOf('\n---', i + 1)) {
    const c = text.charCodeAt(i + 4);
    if (Number.isNaN(c) || c === 32 || c === 9 || c === 10 || c === 13) return i + 1;
  }
  return text.length;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Where the documents the fast path took from one input are, and their `yaml` trees, parsed on
 * first use: one object per input, shared by those documents. Each of them is one chunk of the
 * text (fast paths take no chunk with two), so a document's number says which chunk it is; the
 * chunks' offsets and lines are found again, in one pass, when a first tree is asked for (only
 * documents with issues, and duplicates, ask). Nothing is kept per document while the load runs:
 * an object per document here, kept by every checked document until the load ends, was about
 * 4 MB at 50,000 routes (issue 13, heap). js-yaml or the block reader has already read each
 * chunk within the depth limit and without aliases, so the `yaml` composer's recursion is bounded.
 */
class InputSource implements YamlSource {
  /** 1 when the first chunk held no document (blank or comment lines only): document d is chunk d - 1 + skip. */
  skip = 0;
  /** Start offset of each chunk, and the lines before it: made on the first tree asked for. */
  private starts: number[] | undefined;
  private lines: number[] | undefined;
  /** The trees asked for, by document number (null: `yaml` did not read the chunk as one document). */
  private readonly trees = new Map<number, YamlTree | null>();

  constructor(private readonly text: string) {}

  /** A top-level document: the empty path. */
  get prefix(): readonly (string | number)[] {
    return NO_PREFIX;
  }

  tree(document: number): YamlTree | undefined {
    let tree = this.trees.get(document);
    if (tree === undefined) {
      const { text } = this;
      if (this.starts === undefined) {
        // The chunks as parseYaml cut them: from the start of the text, at each `---` line.
        const starts: number[] = [];
        const lines: number[] = [];
        let line = 0;
        for (let start = 0; start < text.length; ) {
          const end = nextDocumentStart(text, start + 1);
          starts.push(start);
          lines.push(line);
          line += countLines(text, start, end);
          start = end;
        }
        this.starts = starts;
        this.lines = lines;
      }
      const chunk = document - 1 + this.skip;
      const start = this.starts[chunk]!;
      const end = chunk + 1 < this.starts.length ? this.starts[chunk + 1]! : text.length;
      const first = this.lines![chunk]!;
      const counter = new LineCounter();
      const docs = parseAllDocuments(text.slice(start, end), { lineCounter: counter, uniqueKeys: true, merge: true, prettyErrors: false });
      const doc = Array.isArray(docs) && docs.length === 1 ? docs[0]! : undefined;
      tree = doc
        ? {
            doc,
            pos: (offset) => {
              const p = counter.linePos(offset);
              return { line: p.line + first, column: p.col };
            },
          }
        : null;
      this.trees.set(document, tree);
    }
    return tree ?? undefined;
  }
}
