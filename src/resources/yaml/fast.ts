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
 *   conservative scan, see needsExactPath; false alarms only cost speed; test/resources/
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
import { ownStrings } from './own.js';
import { BlockReader } from './plain.js';
import { boolOf, floatOf, intOf, isBoolScalar, isFloatScalar, isIntScalar, isNullScalar } from './scalars.js';

/** js-yaml resolving plain scalars exactly as the `yaml` package does (scalars.ts). Only plain scalars are resolved implicitly; explicit tags never reach js-yaml. */
const scalarType = (tag: string, resolve: (s: string) => boolean, construct: (s: string) => unknown) => new Type(`tag:yaml.org,2002:${tag}`, { kind: 'scalar', resolve: (s: unknown) => typeof s === 'string' && resolve(s), construct });
const CORE_AS_YAML = FAILSAFE_SCHEMA.extend({
  implicit: [scalarType('null', isNullScalar, () => null), scalarType('bool', isBoolScalar, boolOf), scalarType('int', isIntScalar, intOf), scalarType('float', isFloatScalar, floatOf)],
});

/**
 * Whether `text` has something the fast path leaves to the exact path. At the start of a node
 * (line start, or after `-`, `:`, `?`, `[`, `{` or `,` and blanks): an alias `*`, a tag `!`, an
 * explicit key `?`, an anchor `&`, or a flow collection (`[`, `{`) that does not close on its line.
 * A comment right after a quote or a bracket (`"x"#c`). A tab. A block scalar with an
 * indentation indicator (`|2`). A key that is null or empty (`~:`, `null:`, `: x`), which `yaml` names ""
 * and js-yaml "null". A merge key `<<`, a flow collection used as a key (`]:`, `}:`), a
 * directive (`%` at a line start), content after `---` on its line (`yaml` refuses `--- a: 1`,
 * js-yaml reads it), or a quoted scalar over several lines. Deliberately coarse: a match inside
 * a string or a comment sends a valid document to the exact path, which is only slower. One pass
 * that jumps from one interesting character to the next (a single regular expression with all
 * these alternatives costs several times more on megabytes).
 */
export function needsExactPath(text: string): boolean {
  const lines = new Indentation();
  if (!lines.next(text, 0)) return true;
  const next = INTERESTING;
  next.lastIndex = 0;
  while (next.test(text)) {
    const i = next.lastIndex - 1;
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x0a: // a new line
        if (!lines.next(text, i + 1)) return true;
        break;
      case 0x5d: // ]
      case 0x7d: // }
        if (isKeyIndicator(text, skipBlanks(text, i + 1))) return true; // `]:` `}:`
        break;
      case 0x22: // "
      case 0x27: // '
        if (isNodeStart(text, i)) {
          const end = quotedEnd(text, i);
          if (end < 0) return true;
          next.lastIndex = end + 1;
        }
        break;
      case 0x2a: // *
      case 0x26: // &
      case 0x21: // !
      case 0x3f: // ?
        if (isNodeStart(text, i)) return true;
        break;
      case 0x5b: // [
      case 0x7b: // {
        if (isNodeStart(text, i) && !isFlowOnOneLine(text, i)) return true;
        break;
      case 0x23: // #
        if (i > 0 && CLOSERS.includes(text.charCodeAt(i - 1))) return true; // `"x"#c`: `yaml` wants a blank before a comment
        break;
      case 0x3a: // :
        if (isKeyIndicator(text, i) && isNullKeyBefore(text, i)) return true;
        break;
      case 0x3c: // <
        if (text.charCodeAt(i + 1) === 0x3c) return true;
        break;
      case 0x25: // %
        if (i === 0 || text.charCodeAt(i - 1) === 0x0a) return true;
        break;
      case 0x7c: // |
      case 0x3e: // >
        if (isNodeStart(text, i)) {
          if (hasIndentationIndicator(text, i + 1)) return true;
          lines.blockScalar = true;
        }
        break;
      case 0x09: // a tab: where it may stand, js-yaml and `yaml` do not always agree
        return true;
      case 0x2d: // -
        if ((i === 0 || text.charCodeAt(i - 1) === 0x0a) && text.startsWith('--', i + 1) && hasContentAfterMarker(text, i + 3)) return true;
        break;
    }
  }
  return false;
}

/**
 * Where the quoted scalar opening at `i` closes, or -1 when it spans lines or never closes: the
 * indentation of continuation lines is a rule js-yaml does not enforce and `yaml` does.
 */
function quotedEnd(text: string, i: number): number {
  const q = text.charCodeAt(i);
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x0a || c === 0x0d) return -1;
    if (q === 0x22 && c === 0x5c) {
      const next = text.charCodeAt(++j); // an escape in "…"
      if (next === 0x0a || next === 0x0d) return -1;
    } else if (c === q) {
      if (q === 0x27 && text.charCodeAt(j + 1) === 0x27) j++; // '' in '…'
      else return j;
    }
  }
  return -1;
}

/** The characters needsExactPath looks at; a regular expression finds the next one natively (hot: megabytes of text). */
const INTERESTING = /["'*&!?:<%\-[\]{}|>#\t\n]/g;
const CLOSERS = [0x22, 0x27, 0x5d, 0x7d]; // " ' ] }

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function skipBlanks(text: string, i: number): number {
  while (isBlank(text.charCodeAt(i))) i++;
  return i;
}

/** Whether the first non-blank character before `i` on its line is a line start or one of `-:?[{,`. */
function isNodeStart(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && isBlank(text.charCodeAt(j))) j--;
  if (j < 0) return true;
  const p = text.charCodeAt(j);
  return p === 0x0a || p === 0x0d || p === 0x2d || p === 0x3a || p === 0x3f || p === 0x5b || p === 0x7b || p === 0x2c;
}

/** A `:` at `i` followed by a blank, a line break, a flow indicator or the end: a key ends here. */
function isKeyIndicator(text: string, i: number): boolean {
  if (text.charCodeAt(i) !== 0x3a) return false;
  const c = text.charCodeAt(i + 1);
  return Number.isNaN(c) || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2c || c === 0x5d || c === 0x7d;
}

/** The key before the `:` at `i` is empty, `~`, `null`, `Null` or `NULL`. Hot: once per key, so most keys leave at the first test. */
function isNullKeyBefore(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && isBlank(text.charCodeAt(j))) j--;
  const last = j < 0 ? 0x0a : text.charCodeAt(j);
  if (last === 0x7e) return isNodeStart(text, j); // ~
  if ((last === 0x6c || last === 0x4c) && j >= 3) {
    // l or L: null, Null or NULL?
    const word = text.slice(j - 3, j + 1);
    return (word === 'null' || word === 'Null' || word === 'NULL') && isNodeStart(text, j - 3);
  }
  return isNodeStart(text, j + 1); // an empty key: nothing but blanks since the node start
}

/**
 * The block structure, line by line, as far as it shows in indentation: the columns where the
 * open block nodes start. A line indented less than the line before must come back to one of
 * them; js-yaml accepts some lines that do not (`  - a` then ` - b`), `yaml` refuses them.
 * Block scalar content is skipped. Conservative like the rest of the scan: a valid document it
 * does not follow (a plain scalar continued at a smaller indentation) only goes the exact way.
 */
class Indentation {
  private columns: number[] = [];
  /** Set when the current line opens a block scalar (`|`, `>`): its content lines are skipped. */
  blockScalar = false;
  private scalarParent = -1;

  /** Takes the line starting at `i`; false when its indentation comes back to no open column. */
  next(text: string, i: number): boolean {
    if (this.blockScalar) {
      this.scalarParent = this.columns.length > 0 ? this.columns[this.columns.length - 1]! : 0;
      this.blockScalar = false;
    }
    let j = i;
    while (text.charCodeAt(j) === 0x20) j++;
    const c = text.charCodeAt(j);
    if (Number.isNaN(c) || c === 0x0a || c === 0x0d || c === 0x23) return true; // blank or comment
    const indent = j - i;
    if (this.scalarParent >= 0) {
      if (indent > this.scalarParent) return true; // block scalar content
      this.scalarParent = -1;
    }
    if (indent === 0 && (text.startsWith('---', j) || text.startsWith('...', j))) {
      this.columns.length = 0; // a document marker
      return true;
    }
    const cols = this.columns;
    let popped = false;
    while (cols.length > 0 && cols[cols.length - 1]! > indent) {
      cols.pop();
      popped = true;
    }
    const top = cols.length > 0 ? cols[cols.length - 1]! : -1;
    if (top !== indent) {
      if (popped) return false;
      cols.push(indent);
    }
    // `- ` entries open nodes further right on the same line (`- - x`, `- key: v`).
    while (text.charCodeAt(j) === 0x2d && (text.charCodeAt(j + 1) === 0x20 || text.charCodeAt(j + 1) === 0x0a)) {
      j += 1;
      while (text.charCodeAt(j) === 0x20) j++;
      if (text.charCodeAt(j) === 0x0a) break;
      cols.push(j - i);
    }
    return true;
  }
}

/**
 * Whether the flow collection opening at `i` closes on its line. Over several lines, the
 * indentation of its continuation lines is a rule js-yaml does not enforce and `yaml` does.
 */
function isFlowOnOneLine(text: string, i: number): boolean {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x0a || c === 0x0d) return false;
    if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) return true;
    } else if ((c === 0x22 || c === 0x27) && isNodeStart(text, j)) {
      j = quotedEnd(text, j);
      if (j < 0) return false;
    } else if (c === 0x23 && isBlank(text.charCodeAt(j - 1))) return false; // a comment before the close
  }
  return false;
}

/** A block scalar header with an indentation indicator (`|2`, `>-1`), read differently by js-yaml. */
function hasIndentationIndicator(text: string, i: number): boolean {
  let c = text.charCodeAt(i);
  if (c === 0x2b || c === 0x2d) c = text.charCodeAt(i + 1); // + or - chomping first
  return c >= 0x31 && c <= 0x39;
}

/** Content other than a comment after a `---` at a line start ending at `i` (`---x` included: js-yaml reads `---"x"` as a marker, `yaml` as a scalar). */
function hasContentAfterMarker(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (Number.isNaN(c) || c === 0x0a || c === 0x0d) return false;
  if (!isBlank(c)) return true;
  const j = skipBlanks(text, i);
  const d = text.charCodeAt(j);
  return !(Number.isNaN(d) || d === 0x0a || d === 0x0d || d === 0x23);
}

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
