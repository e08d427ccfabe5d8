/**
 * YAML text to raw documents, within limits. Manifests can come from anyone who can write a file
 * or a ConfigMap, so every resource the parser could spend is bounded before it is spent: bytes
 * per input, nesting depth (the composer and `toJS` recurse, and a deep enough input would
 * exhaust the stack), documents, alias expansion and the size of each object. Nothing here
 * throws on content: every problem becomes an issue with its location.
 */
import { Composer, isAlias, LineCounter, Lexer, Parser, visit, type Document, type YAMLError } from 'yaml';
import { GatewayError } from '../errors.js';
import type { Issue } from '../types.js';

/** Bounds on what loadManifests accepts. Each has a documented default; see docs/routing.md, "Security". */
export interface ManifestLimits {
  /** Largest YAML text per input, in bytes (UTF-8). A larger input is not parsed. Default 64 MiB (67,108,864). */
  maxInputBytes?: number;
  /**
   * Largest object, in bytes of its JSON form. The API server refuses objects over about 1.5 MiB
   * (etcd's request limit), so a larger one could never be applied. Default 1,572,864 (1.5 MiB).
   */
  maxObjectBytes?: number;
  /** Deepest nesting of mappings and sequences in one document or object. Default 64. */
  maxDepth?: number;
  /** Most documents (and `kind: List` items) over all inputs; the rest are not loaded. Default 200,000. */
  maxDocuments?: number;
  /** Most routes (HTTPRoute, GRPCRoute, TLSRoute) over all inputs; the rest are not loaded. Default 100,000. */
  maxRoutes?: number;
  /**
   * Budget for YAML alias expansion per document (the `yaml` parser's `maxAliasCount`: aliases
   * resolved times the nodes they copy). Stops "billion laughs" expansion. Default 100.
   */
  maxAliases?: number;
}

/** The defaults of {@link ManifestLimits}. */
export const DEFAULT_LIMITS: Readonly<Required<ManifestLimits>> = Object.freeze({
  maxInputBytes: 64 * 1024 * 1024,
  maxObjectBytes: 1.5 * 1024 * 1024,
  maxDepth: 64,
  maxDocuments: 200_000,
  maxRoutes: 100_000,
  maxAliases: 100,
});

/** The limits to apply: the defaults, overridden by `given`. Throws GW_ERR_OPTIONS_INVALID for a bad value. */
export function resolveLimits(given: ManifestLimits | undefined): Required<ManifestLimits> {
  if (given === undefined) return DEFAULT_LIMITS;
  if (typeof given !== 'object' || given === null) throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option limits must be an object such as { maxDepth: 64 }, got ${String(given)}.`);
  const out: Required<ManifestLimits> = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(given)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, k)) {
      throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option limits has no key '${k}'; use one of: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`);
    }
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (k === 'maxAliases' ? -1 : 1)) {
      throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option limits.${k} must be a positive integer, got ${JSON.stringify(v)}.`);
    }
    out[k as keyof ManifestLimits] = v;
  }
  return out;
}

/** A YAML document with node ranges, and the line and column of an offset in it. */
export interface YamlTree {
  doc: Document;
  pos(offset: number): { line: number; column: number };
}

/** What locates paths inside a raw document that came from YAML text. */
export interface YamlSource {
  /**
   * The document's node tree. Documents parsed by `yaml` have it at hand; documents taken by the
   * fast path (parse-fast.ts) parse it on first use, so only documents with issues pay for it.
   */
  tree: () => YamlTree | undefined;
  /** The path of this object inside the document (for `kind: List` items). */
  prefix: (string | number)[];
}

/** A raw document: its value, where it came from, and what is needed to locate paths inside it. */
export interface RawDoc {
  value: unknown;
  /** File and input index shared by every issue about this document. */
  base: Partial<Issue>;
  /** 1-based document (or array element) number within its input. */
  document: number;
  yaml?: YamlSource;
}

/** Where a slice of a YAML text starts: documents and lines before it. */
export interface TextOffset {
  document: number;
  line: number;
}

/** State shared by every input of one load: the limits and the documents counted so far. */
export interface ParseBudget {
  limits: Required<ManifestLimits>;
  documents: number;
  /** Set once `maxDocuments` is reached: later documents and inputs are not loaded. */
  exhausted: boolean;
}

/** The issue for the first document over `maxDocuments`; marks the budget exhausted. */
export function tooManyDocuments(budget: ParseBudget, at: Partial<Issue>): Issue {
  budget.exhausted = true;
  return { ...at, code: 'GW_MANIFEST_TOO_MANY', severity: 'error', message: `More than ${budget.limits.maxDocuments} documents (limits.maxDocuments); this one and the rest are not loaded.` };
}

/** Whether `text` is within `limits.maxInputBytes`; if not, says so in an issue. */
export function isWithinInputLimit(text: string, base: Partial<Issue>, limits: Required<ManifestLimits>, issues: Issue[]): boolean {
  const bytes = text.length * 3 <= limits.maxInputBytes ? text.length : Buffer.byteLength(text, 'utf8'); // UTF-8 is at most 3 bytes per UTF-16 unit
  if (bytes <= limits.maxInputBytes) return true;
  issues.push({ ...base, code: 'GW_MANIFEST_TOO_LARGE', severity: 'error', message: `The input is ${bytes} bytes, over limits.maxInputBytes (${limits.maxInputBytes}); it is not parsed. Split it into several files or raise the limit.` });
  return false;
}

/**
 * Parses YAML text into raw documents with the `yaml` package, within `budget`: the exact path,
 * which every document the fast path (parse-fast.ts) does not take goes through. `from` says
 * where `text` starts inside its input, so that documents and lines are numbered as in the whole
 * input. Never throws: a syntax error, a limit exceeded or even an exception inside the parser
 * becomes an issue.
 */
export function parseYamlExact(text: string, base: Partial<Issue>, budget: ParseBudget, issues: Issue[], from: TextOffset = { document: 0, line: 0 }): RawDoc[] {
  const { limits } = budget;
  if (!isWithinInputLimit(text, base, limits, issues)) return [];
  const lines = new LineCounter();
  const pos = (offset: number) => {
    const p = lines.linePos(offset);
    return { line: p.line + from.line, column: p.col };
  };
  const out: RawDoc[] = [];
  let document = from.document;
  try {
    // The lexer and parser are iterative; the composer and toJS recurse. Lexing ourselves lets the
    // depth be checked after every token, before any recursion could run deep.
    const parser = new Parser(lines.addNewLine);
    const composer = new Composer({ prettyErrors: false, uniqueKeys: true, merge: true });
    const docs: Document[] = [];
    let started = from.document; // documents the parser has begun
    lines.addNewLine(0);
    const take = (tokens: Iterable<Parameters<Composer['next']>[0]>): boolean => {
      for (const token of tokens) {
        if (token.type === 'document' && (++started, ++budget.documents > limits.maxDocuments)) {
          issues.push(tooManyDocuments(budget, { ...base, document: started, ...pos(token.offset) }));
          return false;
        }
        for (const doc of composer.next(token)) docs.push(doc as Document);
      }
      return true;
    };
    let open = true;
    for (const lexeme of new Lexer().lex(text)) {
      if (!take(parser.next(lexeme))) {
        open = false;
        break;
      }
      // The parser's stack holds the document and every open collection, plus at most a few scalars.
      if (parser.stack.length > limits.maxDepth + 2) {
        issues.push({ ...base, code: 'GW_MANIFEST_TOO_DEEP', severity: 'error', document: started + 1, ...pos(tokenOffset(parser)), message: `Mappings and sequences are nested more than ${limits.maxDepth} levels deep (limits.maxDepth); this document and the rest of the input are not loaded.` });
        open = false;
        break;
      }
    }
    if (open) take(parser.end());
    for (const doc of composer.end()) docs.push(doc as Document); // the document the composer still holds
    for (const doc of docs) {
      document++;
      const tree: YamlTree = { doc, pos };
      const value = toValue(tree, { ...base, document }, limits, issues);
      if (value !== undefined) out.push({ value, base, document, yaml: { tree: () => tree, prefix: [] } });
    }
  } catch (e) {
    // The parser is third-party code: whatever it throws is a problem with this input, not a crash.
    issues.push({ ...base, code: 'GW_MANIFEST_YAML', severity: 'error', document: document + 1, message: `The YAML parser failed on this input: ${firstLine(e instanceof Error ? e.message : String(e))}.` });
  }
  return out;
}

function tokenOffset(parser: Parser): number {
  const top = parser.stack[parser.stack.length - 1];
  return top && 'offset' in top ? top.offset : 0;
}

/** The document's value, or undefined (with issues) when it has errors or is empty. */
function toValue(tree: YamlTree, at: Partial<Issue>, limits: Required<ManifestLimits>, issues: Issue[]): unknown {
  const { doc } = tree;
  if (doc.errors.length > 0) {
    for (const e of doc.errors) issues.push({ ...at, code: 'GW_MANIFEST_YAML', severity: 'error', ...tree.pos(e.pos[0]), message: yamlMessage(e) });
    return undefined;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliases });
  } catch (e) {
    const message = firstLine((e as Error).message);
    const plain = /alias count|resource exhaustion/i.test(message)
      ? `Aliases expand to more data than limits.maxAliases (${limits.maxAliases}) allows, as in a "billion laughs" attack. Write the values out instead.`
      : `An alias refers to an anchor that is not defined before it in this document.`;
    issues.push({ ...at, code: 'GW_MANIFEST_YAML', severity: 'error', ...aliasPosition(tree, (_, target) => target === undefined), message: `${plain} (YAML parser: ${message})` });
    return undefined;
  }
  return value ?? undefined; // null: an empty document, e.g. after a trailing `---`
}

/**
 * Where the first alias for which `pick(alias, target, ancestors)` holds is. Used only to
 * locate errors, so the walk's cost is paid on the error path alone.
 */
export function aliasPosition({ doc, pos }: YamlTree, pick: (alias: unknown, target: unknown, ancestors: readonly unknown[]) => boolean): { line?: number; column?: number } {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, node, path) {
      if (isAlias(node) && pick(node, node.resolve(doc), path) && node.range) {
        offset = node.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return offset === undefined ? {} : pos(offset);
}

/** Plain words for the parser's error codes, shown before the parser's own message. */
const PLAIN: Partial<Record<YAMLError['code'], string>> = {
  BAD_INDENT: 'The indentation is wrong here: a key or list item is indented more or less than its siblings.',
  TAB_AS_INDENT: 'A tab is used for indentation; YAML allows only spaces.',
  DUPLICATE_KEY: 'This key appears twice in the same mapping; Kubernetes refuses that ("mapping key already defined").',
  MISSING_CHAR: 'A closing character is missing: a `]`, `}` or quote is never closed.',
  MULTILINE_IMPLICIT_KEY: 'A key spans several lines; usually a line above is indented too deep or a `:` is missing.',
  BLOCK_AS_IMPLICIT_KEY: 'A block value is used as a key; usually a `:` is misplaced or a line is indented wrongly.',
  UNEXPECTED_TOKEN: 'Unexpected text here; check the indentation and the `:` and `-` around it.',
  BAD_ALIAS: 'An alias (`*name`) is invalid or refers to no anchor.',
  BAD_DQ_ESCAPE: 'A double-quoted string contains an invalid escape; use single quotes or escape the backslash.',
  BAD_SCALAR_START: 'A plain value cannot start with this character; quote the value.',
  BLOCK_IN_FLOW: 'A block value is inside a flow collection (`[...]` or `{...}`).',
  KEY_OVER_1024_CHARS: 'An implicit key is longer than 1024 characters.',
  MULTIPLE_ANCHORS: 'A node has more than one anchor.',
  MULTIPLE_TAGS: 'A node has more than one tag.',
  TAG_RESOLVE_FAILED: 'A tag (`!name`) is unknown or its value does not fit it.',
};

function yamlMessage(e: YAMLError): string {
  const parser = firstLine(e.message);
  if (/call stack/i.test(parser)) return `The document is nested too deeply for the YAML parser. (YAML parser: ${parser})`;
  const plain = e.code === 'BAD_INDENT' && /^Flow (sequence|map)/.test(parser) ? 'A `[` or `{` is never closed, or a line inside it is not indented more than its key.' : PLAIN[e.code];
  return plain ? `Invalid YAML. ${plain} (YAML parser: ${parser})` : `Invalid YAML: ${parser}`;
}

/** What {@link measureValue} found about one object. */
export interface Measured {
  /** Some mapping inside has a field set to null. */
  hasNullField: boolean;
  /** Set when a limit is exceeded; the walk stopped there. */
  exceeded?: 'depth' | 'bytes';
  /** The size of the object's JSON form, in bytes (an estimate: strings are counted in UTF-16 units). */
  bytes: number;
}

/**
 * Walks an object once, without recursion: its JSON size, its depth and whether any field is
 * null. Stops at the first limit exceeded, so the walk is bounded by `maxObjectBytes` even for
 * an object that refers to itself (a cycle exceeds the depth).
 */
export function measureValue(root: unknown, limits: Required<ManifestLimits>): Measured {
  const values: unknown[] = [root];
  const depths: number[] = [1];
  let bytes = 0;
  let hasNullField = false;
  // Hot at load time: every object passes here once, so plain loops and parallel stacks.
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === 'string') bytes += v.length + 2;
    else if (typeof v === 'object' && v !== null) {
      if (depth > limits.maxDepth) return { hasNullField, exceeded: 'depth', bytes };
      bytes += 2;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          values.push(v[i]);
          depths.push(depth + 1);
        }
        bytes += v.length;
      } else if (!(v instanceof Date)) {
        for (const k in v) {
          const x = (v as Record<string, unknown>)[k];
          if (x === null) hasNullField = true;
          bytes += k.length + 4;
          values.push(x);
          depths.push(depth + 1);
        }
      } else bytes += 24;
    } else bytes += v === undefined ? 0 : String(v).length;
    if (bytes > limits.maxObjectBytes) return { hasNullField, exceeded: 'bytes', bytes };
  }
  return { hasNullField, bytes };
}

export function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
