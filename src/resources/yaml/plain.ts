/**
 * The quickest way from YAML text to values, for the YAML most manifests are written in: block
 * mappings and sequences of one-line scalars. It reads one document straight from the input
 * text into plain values, in one pass, with no tokens, no node tree and no copy of the text,
 * and it takes a document only when every line is of a form it knows; otherwise it returns
 * undefined and the document goes the js-yaml way, then the exact way (fast.ts, exact.ts), so
 * a document it does not take costs only the part of a pass it made.
 *
 * It takes (anything else is left to the other paths, valid or not):
 * - printable ASCII only (no tab, no CR, no BOM, no control or non-ASCII character);
 * - a root mapping at column 0, after an optional `---` line (with at most a comment);
 * - block mappings whose keys are plain strings (not null, bool or number as `yaml` resolves
 *   them, not `<<`, not `__proto__`, no flow indicator, no blank before the `:`) or one-line
 *   quoted strings, each key once;
 * - block sequences (`- `), as a mapping value at the mapping's column or deeper, whose entries
 *   are scalars, nested blocks on the next lines, or compact mappings (`- key: value`);
 * - scalars on one line: plain (resolved as `yaml` resolves them: scalars.ts), single-quoted,
 *   double-quoted without escapes, and the empty flow collections `[]` and `{}`;
 * - comments after a blank, and comment and blank lines anywhere;
 * - nesting up to the `maxDepth` it is given (the caller keeps a margin below the limit).
 * Deliberately strict: a continued line, an indentation that comes back to no open column, a
 * `: ` or a bracket inside a plain scalar, a second document marker all leave the
 * document to the other paths. test/resources/plain-reader.test.ts compares it with the exact
 * path on generated documents, valid and invalid.
 *
 * Strings of 13 characters or more are copied out (own.ts): V8 makes such slices views of the
 * whole input, which would keep the text alive as long as the resources.
 */
import { own } from './own.js';
import { isStringScalar, resolvePlain } from './scalars.js';

/** Thrown (and caught in {@link BlockReader.read}) when a document is not one the reader takes. */
const NOT_TAKEN = Symbol('not taken');

/** Any character other than printable ASCII and the line feed. */
const UNUSUAL = /[^\x20-\x7e\n]/g;

/** Sizes of the key and value tables (powers of two), and the longest text they keep. */
const KEYS = 1024;
const VALUES = 4096;
const CACHED = 64;

// Keys seen, by hash: most keys of a manifest are the same few dozen words. Plain scalars seen,
// by hash, and their values (strings, numbers, booleans, null: immutable, so shared by every
// input and load; `[]` and `{}` are not plain scalars). Module-wide, so that loads of many small
// inputs do not each make tables; bounded by their sizes and CACHED.
const keys: (string | undefined)[] = new Array(KEYS);
const raws: (string | undefined)[] = new Array(VALUES);
const values: unknown[] = new Array(VALUES);

const SP = 0x20;
const LF = 0x0a;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const DQ = 0x22;
const SQ = 0x27;

/** Whether `text` holds `s`, of length `length`, at `i`. (startsWith is slow on the cons strings that joined texts are.) */
function isAt(text: string, i: number, s: string, length: number): boolean {
  if (s.length !== length) return false;
  for (let k = 0; k < length; k++) if (text.charCodeAt(i + k) !== s.charCodeAt(k)) return false;
  return true;
}

/** `[ ] { } ,`: flow indicators, refused inside plain keys, and all but `,` inside plain scalars. */
function isFlowIndicator(c: number): boolean {
  return c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2c;
}

/** Whether a plain scalar may start with `c` followed by `next`: no indicator, `-` only before a non-blank. */
function isPlainStart(c: number, next: number): boolean {
  switch (c) {
    case DASH:
      return next !== SP && next !== LF && next === next; // not before a blank, a line end or the end
    case 0x3f: // ?
    case COLON:
    case 0x2c: // ,
    case 0x5b: // [
    case 0x5d: // ]
    case 0x7b: // {
    case 0x7d: // }
    case HASH:
    case 0x26: // &
    case 0x2a: // *
    case 0x21: // !
    case 0x7c: // |
    case 0x3e: // >
    case SQ:
    case DQ:
    case 0x25: // %
    case 0x40: // @
    case 0x60: // `
    case SP:
    case LF:
      return false;
    default:
      return c === c; // not NaN (the end)
  }
}

/**
 * Reads the documents of one input that it takes. One reader per input text: it remembers
 * where the next unusual character is, so that checking every document costs one pass in all.
 */
export class BlockReader {
  private i = 0;
  /** Indentation of the line at `i`, -1 at the end of the document. */
  private indent = -1;
  private end = 0;
  /** Offset of the next character outside printable ASCII and LF at or after the last start; -1 when none is left. */
  private unusualAt = -2;
  private lastStart = 0;
  /** Hash of the last key found by keyColon. */
  private hash = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  /** The value of the document `text[start, end)` (a mapping), or undefined when it is not one this reader takes. */
  read(start: number, end: number): Record<string, unknown> | undefined {
    if (this.maxDepth < 1 || this.hasUnusual(start, end)) return undefined;
    this.i = start;
    this.end = end;
    try {
      const { text } = this;
      if (text.startsWith('---', start)) {
        this.i = start + 3;
        this.restOfLine();
      }
      this.nextLine();
      if (this.indent !== 0) return undefined; // empty, or indented: the other paths count and read it
      const value = this.map(0, 1);
      return this.i >= end ? value : undefined; // map() returns at the end or at a line that does not belong to it
    } catch (e) {
      if (e === NOT_TAKEN) return undefined;
      throw e;
    }
  }

  private hasUnusual(start: number, end: number): boolean {
    if (this.unusualAt === -2 || start < this.lastStart || (this.unusualAt !== -1 && this.unusualAt < start)) {
      UNUSUAL.lastIndex = start;
      this.unusualAt = UNUSUAL.test(this.text) ? UNUSUAL.lastIndex - 1 : -1;
    }
    this.lastStart = start;
    return this.unusualAt !== -1 && this.unusualAt < end;
  }

  /** From a line start at `i`, past blank and comment lines, to the first character of the next line with content. */
  private nextLine(): void {
    const { text, end } = this;
    let i = this.i;
    while (i < end) {
      let j = i;
      while (j < end && text.charCodeAt(j) === SP) j++;
      if (j >= end) break;
      const c = text.charCodeAt(j);
      if (c === LF) {
        i = j + 1;
      } else if (c === HASH) {
        const nl = text.indexOf('\n', j);
        i = nl < 0 || nl >= end ? end : nl + 1;
      } else {
        if (j === i && (c === DASH || c === 0x2e) && (text.startsWith('---', j) || text.startsWith('...', j))) throw NOT_TAKEN; // a marker, or text that starts like one
        this.i = j;
        this.indent = j - i;
        return;
      }
    }
    this.i = end;
    this.indent = -1;
  }

  /** After a value: blanks, then a comment after a blank, then the line end. Leaves `i` at the next line's start. */
  private restOfLine(): void {
    const { text, end } = this;
    let i = this.i;
    while (i < end && text.charCodeAt(i) === SP) i++;
    if (i < end) {
      const c = text.charCodeAt(i);
      if (c === HASH && text.charCodeAt(i - 1) === SP) {
        const nl = text.indexOf('\n', i);
        i = nl < 0 || nl >= end ? end : nl;
      } else if (c !== LF) throw NOT_TAKEN;
      if (i < end) i++;
    }
    this.i = i;
  }

  /** A line at `indent` that opens a sequence entry (`- ` or `-` at the line end). */
  private isEntry(): boolean {
    const { text, i } = this;
    if (text.charCodeAt(i) !== DASH) return false;
    const c = text.charCodeAt(i + 1);
    return c === SP || c === LF || i + 1 >= this.end;
  }

  private map(indent: number, depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) throw NOT_TAKEN;
    const obj: Record<string, unknown> = {};
    for (;;) {
      if (this.isEntry()) throw NOT_TAKEN; // an entry where a key belongs
      const key = this.key();
      if (key === '__proto__' || Object.hasOwn(obj, key)) throw NOT_TAKEN;
      obj[key] = this.value(indent, depth, true);
      if (this.indent !== indent) {
        if (this.indent < indent) return obj;
        throw NOT_TAKEN; // deeper: a continued scalar or an error
      }
    }
  }

  /** Entries of a sequence whose `-` stand at `indent`; `inMap`: it is a mapping's value at the mapping's own column. */
  private seq(indent: number, depth: number, inMap: boolean): unknown[] {
    if (depth > this.maxDepth) throw NOT_TAKEN;
    const arr: unknown[] = [];
    const { text } = this;
    for (;;) {
      const lineStart = this.i - indent;
      let i = this.i + 1; // past `-`
      while (i < this.end && text.charCodeAt(i) === SP) i++;
      this.i = i;
      const c = text.charCodeAt(i);
      if (i >= this.end || c === LF || c === HASH) {
        arr.push(this.below(indent, depth, false));
      } else if (this.isEntry()) {
        throw NOT_TAKEN; // `- - x`
      } else if (this.keyColon(i) >= 0) {
        this.indent = i - lineStart; // a compact mapping: its keys stand where the first one does
        arr.push(this.map(this.indent, depth + 1));
      } else {
        arr.push(this.scalar());
        this.restOfLine();
        this.nextLine();
      }
      if (this.indent !== indent) {
        if (this.indent < indent) return arr;
        throw NOT_TAKEN;
      }
      if (!this.isEntry()) {
        if (inMap) return arr; // the mapping's next key
        throw NOT_TAKEN;
      }
    }
  }

  /** The value after `key:` or `- `, with `i` at its first character; leaves `i` at the next line with content. */
  private value(indent: number, depth: number, inMap: boolean): unknown {
    const { text } = this;
    let i = this.i;
    while (i < this.end && text.charCodeAt(i) === SP) i++;
    this.i = i;
    const c = text.charCodeAt(i);
    if (i >= this.end || c === LF || c === HASH) return this.below(indent, depth, inMap);
    const v = this.scalar();
    this.restOfLine();
    this.nextLine();
    return v;
  }

  /** A value on the lines below (`key:` or `-` alone on its line): a nested block, or null. */
  private below(indent: number, depth: number, inMap: boolean): unknown {
    this.restOfLine();
    this.nextLine();
    if (this.indent > indent) return this.isEntry() ? this.seq(this.indent, depth + 1, false) : this.map(this.indent, depth + 1);
    if (inMap && this.indent === indent && this.isEntry()) return this.seq(indent, depth + 1, true);
    return null;
  }

  /** The offset of the `:` that ends a key on the line from `i`, or -1 when the line holds no key. */
  private keyColon(i: number): number {
    const { text, end } = this;
    const c = text.charCodeAt(i);
    if (c === DQ || c === SQ) {
      const close = this.quoteEnd(i);
      return text.charCodeAt(close + 1) === COLON && this.isBlankOrEnd(close + 2) ? close + 1 : -1;
    }
    let h = 0;
    for (let j = i; j < end; j++) {
      const d = text.charCodeAt(j);
      if (d === LF) return -1;
      if (d === COLON && this.isBlankOrEnd(j + 1)) {
        this.hash = h;
        return j;
      }
      if (d === HASH && text.charCodeAt(j - 1) === SP) return -1;
      h = (Math.imul(h, 31) + d) | 0;
    }
    return -1;
  }

  private isBlankOrEnd(i: number): boolean {
    const c = this.text.charCodeAt(i);
    return i >= this.end || c === SP || c === LF;
  }

  /** A mapping key and its `:`; leaves `i` after the `:`. */
  private key(): string {
    const { text } = this;
    const i = this.i;
    const colon = this.keyColon(i);
    if (colon < 0) throw NOT_TAKEN;
    const c = text.charCodeAt(i);
    let key: string;
    if (c === DQ || c === SQ) {
      key = this.quoted(i, colon - 1);
    } else {
      // Keys come from a small vocabulary: the table answers most without a slice, a check or an internalisation.
      const slot = this.hash & (KEYS - 1);
      const known = keys[slot];
      if (known !== undefined && isAt(text, i, known, colon - i)) {
        key = known;
      } else {
        if (!isPlainStart(c, text.charCodeAt(i + 1)) || colon - i > 1000 || text.charCodeAt(colon - 1) === SP) throw NOT_TAKEN;
        for (let j = i; j < colon; j++) if (isFlowIndicator(text.charCodeAt(j))) throw NOT_TAKEN;
        key = own(text.slice(i, colon));
        if (key === '<<' || !isStringScalar(key)) throw NOT_TAKEN;
        if (key.length <= CACHED) keys[slot] = key;
      }
    }
    this.i = colon + 1;
    return key;
  }

  /** A scalar on one line, from `i`; leaves `i` after it. */
  private scalar(): unknown {
    const { text, end } = this;
    const i = this.i;
    const c = text.charCodeAt(i);
    if (c === DQ || c === SQ) {
      const close = this.quoteEnd(i);
      this.i = close + 1;
      return own(this.quoted(i, close));
    }
    if (c === 0x5b || c === 0x7b) {
      if (text.charCodeAt(i + 1) !== c + 2) throw NOT_TAKEN; // `[]` and `{}` only
      this.i = i + 2;
      return c === 0x5b ? [] : {};
    }
    if (!isPlainStart(c, text.charCodeAt(i + 1))) throw NOT_TAKEN;
    let j = i;
    let last = i; // after the last non-blank
    let h = 0;
    let hashed = i; // the hash covers text[i, hashed)
    for (; j < end; j++) {
      const d = text.charCodeAt(j);
      if (d === LF) break;
      if (d === SP) continue;
      if (d === HASH && text.charCodeAt(j - 1) === SP) break;
      if ((d === COLON && this.isBlankOrEnd(j + 1)) || (isFlowIndicator(d) && d !== 0x2c)) throw NOT_TAKEN; // a `,` is text in a block scalar
      for (; hashed <= j; hashed++) h = (Math.imul(h, 31) + text.charCodeAt(hashed)) | 0;
      last = j + 1;
    }
    this.i = j;
    // Values repeat too (kinds, groups, types, ports, names): a hit costs no string and no resolution.
    const slot = h & (VALUES - 1);
    const known = raws[slot];
    if (known !== undefined && isAt(text, i, known, last - i)) return values[slot];
    const raw = own(text.slice(i, last));
    const v = resolvePlain(raw);
    if (raw.length <= CACHED) {
      raws[slot] = raw;
      values[slot] = v;
    }
    return v;
  }

  /** Where the quoted scalar opening at `i` closes on its line; throws for an escape, a line end or no close. */
  private quoteEnd(i: number): number {
    const { text, end } = this;
    const q = text.charCodeAt(i);
    for (let j = i + 1; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c === LF || (c === 0x5c && q === DQ)) throw NOT_TAKEN;
      if (c === q) {
        if (q === SQ && text.charCodeAt(j + 1) === SQ) j++;
        else return j;
      }
    }
    throw NOT_TAKEN;
  }

  /** The content of the quoted scalar from `open` to `close` (its quotes). */
  private quoted(open: number, close: number): string {
    const s = this.text.slice(open + 1, close);
    return this.text.charCodeAt(open) === SQ && s.includes("''") ? s.replaceAll("''", "'") : s;
  }
}
