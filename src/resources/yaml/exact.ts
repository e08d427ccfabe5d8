/**
 * The exact path from YAML text to raw documents: the `yaml` package, with the depth checked
 * token by token before the composer recurses, aliases budgeted by `limits.maxAliases`, and a
 * node tree with ranges for every document, so issues have exact lines and columns. Used for
 * what the fast path (fast.ts) does not take.
 */
import { Composer, isAlias, isCollection, LineCounter, Lexer, Parser, visit, type Document, type YAMLError } from 'yaml';
import type { Issue } from '../../types.js';
import { firstLine, isWithinInputLimit, NO_PREFIX, tooManyDocuments, type ManifestLimits, type ParseBudget, type RawDoc, type TextOffset, type YamlTree } from '../parse.js';

/**
 * Parses YAML text into raw documents with the `yaml` package, within `budget`: the exact path,
 * which every document the fast path (yaml/fast.ts) does not take goes through. `from` says
 * where `text` starts inside its input, so that documents and lines are numbered as in the whole
 * input. Never throws: a syntax error, a limit exceeded or even an exception inside the parser
 * becomes an issue.
 */
export function parseYamlExact(text: string, base: Partial<Issue>, budget: ParseBudget, issues: Issue[], emit: (doc: RawDoc) => void, from: TextOffset = { document: 0, line: 0 }): void {
  const { limits } = budget;
  if (!isWithinInputLimit(text, base, limits, issues)) return;
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
    // logLevel 'error': the parser never writes to the process's stderr (a warning is ours to report).
    const composer = new Composer({ prettyErrors: false, uniqueKeys: true, merge: true, logLevel: 'error' });
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
      const value = toValue(tree, text, { ...base, document }, limits, issues);
      if (value !== undefined) out.push({ value, base, document, yaml: { tree: () => tree, prefix: NO_PREFIX } });
    }
  } catch (e) {
    // The parser is third-party code: whatever it throws is a problem with this input, not a crash.
    issues.push({ ...base, code: 'GW_MANIFEST_YAML', severity: 'error', document: document + 1, message: `The YAML parser failed on this input: ${firstLine(e instanceof Error ? e.message : String(e))}.` });
  }
  for (const d of out) emit(d); // outside the try: an exception in what emit runs is not the parser's
}

function tokenOffset(parser: Parser): number {
  const top = parser.stack[parser.stack.length - 1];
  return top && 'offset' in top ? top.offset : 0;
}

/** The document's value, or undefined (with issues) when it has errors or is empty. */
function toValue(tree: YamlTree, text: string, at: Partial<Issue>, limits: Required<ManifestLimits>, issues: Issue[]): unknown {
  const { doc } = tree;
  if (doc.errors.length > 0) {
    for (const e of doc.errors) issues.push({ ...at, code: 'GW_MANIFEST_YAML', severity: 'error', ...tree.pos(e.pos[0]), message: yamlMessage(e) });
    return undefined;
  }
  const key = collectionKey(tree, text);
  if (key !== null) {
    issues.push({ ...at, code: 'GW_MANIFEST_YAML', severity: 'error', ...key, message: 'A mapping key is a sequence or a mapping. Kubernetes reads manifests as JSON, whose keys are strings, and refuses the document ("unsupported map key"); write the key as a string.' });
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
 * Where the document's first mapping key that is a sequence or a mapping (`[a]: 1`, `? {k: v}`)
 * is, or null when it has none. Such a key needs a flow collection or an explicit `?` key, so a
 * document with no `[`, `{` or `?` is not walked.
 */
function collectionKey({ doc, pos }: YamlTree, text: string): { line: number; column: number } | null {
  const range = doc.range ?? [0, text.length, text.length];
  let may = false;
  for (let i = range[0]; i < range[2] && !may; i++) {
    const c = text.charCodeAt(i);
    may = c === 91 /* [ */ || c === 123 /* { */ || c === 63 /* ? */;
  }
  if (!may) return null;
  let offset: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (!isCollection(key)) return undefined;
      offset = (pair.key as { range?: [number, number, number] | null }).range?.[0] ?? range[0];
      return visit.BREAK;
    },
  });
  return offset === undefined ? null : pos(offset);
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
