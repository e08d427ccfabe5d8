/**
 * The issues of loading: zod's issues in this library's words, the object an issue names, and
 * where a field path lies in the YAML it came from (line and column). Built only for documents
 * that have issues; loadManifests (load.ts) decides which issues there are.
 */
import type { z } from 'zod';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { Issue, IssueCode } from '../../types.js';
import type { ManifestLimits, RawDoc, YamlSource } from '../parse.js';
import { aliasPosition } from '../yaml/exact.js';
import type { Resource } from '../load.js';

/** Where a document came from: what locates its issues, without its value (which need not stay alive). */
export interface Origin {
  base: Partial<Issue>;
  /** 1-based document (or array element) number within its input. */
  document: number;
  yaml?: YamlSource | undefined;
}

/** What issues say about the object, from whichever of its identifying fields are strings. Built only for issues. */
export function rawRef(obj: Record<string, unknown>): NonNullable<Issue['object']> {
  const { kind, apiVersion } = obj;
  const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
  return {
    ...(typeof apiVersion === 'string' ? { apiVersion } : {}),
    ...(typeof kind === 'string' ? { kind } : {}),
    ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
    ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
  };
}

/** The issue for an object over `maxDepth` or `maxObjectBytes`; a YAML alias inside its own anchor is named as such. */
export function limitIssue(raw: RawDoc, exceeded: 'depth' | 'bytes', limits: Required<ManifestLimits>, object: NonNullable<Issue['object']>): Issue {
  if (exceeded === 'bytes') {
    return { ...located(raw, []), code: 'GW_MANIFEST_TOO_LARGE', severity: 'error', object, message: `The object is larger than ${limits.maxObjectBytes} bytes as JSON (limits.maxObjectBytes); the Kubernetes API server refuses objects over about 1.5 MiB, so it could never be applied.` };
  }
  const yaml = raw.yaml;
  const tree = yaml?.tree(raw.document);
  const cycle = tree ? aliasPosition(tree, (_, target, ancestors) => target !== undefined && ancestors.includes(target)) : {};
  if (cycle.line !== undefined) {
    return { ...raw.base, document: raw.document, ...cycle, code: 'GW_MANIFEST_YAML', severity: 'error', object, message: 'An alias is used inside its own anchor, so the value would contain itself; Kubernetes refuses that. Write the value out instead.' };
  }
  return { ...located(raw, []), code: 'GW_MANIFEST_TOO_DEEP', severity: 'error', object, message: `The object is nested more than ${limits.maxDepth} levels deep (limits.maxDepth)${yaml ? '' : ', or refers to itself'}.` };
}

export function toIssues(zi: z.core.$ZodIssue, raw: RawDoc, object: Issue['object']): Issue[] {
  const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
  const mk = (code: IssueCode, message: string, at: (string | number)[] = path, extra: Partial<Issue> = {}): Issue => ({
    ...located(raw, at, code === 'GW_MANIFEST_UNKNOWN_FIELD'),
    code,
    severity: 'error',
    ...(object ? { object } : {}),
    path: formatPath(at),
    message,
    ...extra,
  });
  switch (zi.code) {
    case 'unrecognized_keys':
      return zi.keys.map((k) => mk('GW_MANIFEST_UNKNOWN_FIELD', `Unknown field "${k}"${path.length ? ` in ${formatPath(path)}` : ''}; check its spelling and indentation.`, [...path, k]));
    case 'invalid_type':
      if (zi.input === undefined) return [mk('GW_MANIFEST_REQUIRED', `Required field ${formatPath(path)} is missing.`)];
      return [mk('GW_MANIFEST_TYPE', `Expected ${zi.expected}, got ${describe(zi.input)}.`)];
    case 'invalid_value':
      return [mk('GW_MANIFEST_ENUM', `Unsupported value ${JSON.stringify(zi.input)}: must be one of ${zi.values.map((v) => JSON.stringify(v)).join(', ')}.`)];
    case 'invalid_format':
      return [mk('GW_MANIFEST_PATTERN', `Invalid value ${JSON.stringify(zi.input)}: ${zi.message}.`.replace('..', '.'))];
    case 'too_big':
    case 'too_small':
      return [mk('GW_MANIFEST_LIMIT', limitMessage(zi))];
    case 'invalid_key':
      return [mk('GW_MANIFEST_PATTERN', `Invalid key "${String(path[path.length - 1])}": ${zi.issues[0]?.message ?? 'invalid'}.`)];
    case 'custom': {
      const params = (zi.params ?? {}) as { rule?: string; code?: IssueCode };
      const code = params.code ?? 'GW_MANIFEST_RULE';
      return [mk(code, endWithPeriod(zi.message), path, params.rule ? { rule: params.rule } : {})];
    }
    default:
      return [mk('GW_MANIFEST_TYPE', endWithPeriod(zi.message))];
  }
}

function limitMessage(zi: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const big = zi.code === 'too_big';
  const bound = big ? (zi as z.core.$ZodIssueTooBig).maximum : (zi as z.core.$ZodIssueTooSmall).minimum;
  const what = zi.origin === 'string' ? 'characters' : zi.origin === 'array' ? 'items' : '';
  const input = zi.input;
  const got = typeof input === 'string' ? `${input.length} ${what}` : Array.isArray(input) ? `${input.length} ${what}` : JSON.stringify(input);
  if (what) return `Must have ${big ? 'at most' : 'at least'} ${String(bound)} ${what}, got ${got}.`;
  return `Must be ${big ? 'at most' : 'at least'} ${String(bound)}, got ${got}.`;
}

/** Line and column of `path` inside the raw document, when it came from YAML text. */
export function located(raw: Origin, path: (string | number)[], preferKey = false): Partial<Issue> {
  return { ...raw.base, document: raw.document, ...positionOf(raw, path, preferKey) };
}

export function positionOf(raw: Origin, path: (string | number)[], preferKey = false): { line?: number; column?: number } {
  const tree = raw.yaml?.tree(raw.document);
  if (!tree) return {};
  const { doc, pos } = tree;
  const prefix = raw.yaml!.prefix;
  let node: unknown = doc.contents;
  let best: Node | null = isNode(node) ? node : null;
  for (const [i, seg] of [...prefix, ...path].entries()) {
    const last = i === prefix.length + path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (last && preferKey && isNode(pair.key)) {
        best = pair.key;
        break;
      }
      node = pair.value;
      if (isNode(node)) best = node;
      else if (isNode(pair.key)) best = pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (!isNode(node)) break;
      best = node;
    } else {
      break;
    }
  }
  const offset = best?.range?.[0];
  return offset === undefined ? {} : pos(offset);
}

function isNode(n: unknown): n is Node {
  return typeof n === 'object' && n !== null && 'range' in n;
}

/** `spec.rules[1].matches[0].path.value` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

export function objectRef(r: Resource): NonNullable<Issue['object']> {
  return { apiVersion: r.apiVersion, kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function endWithPeriod(s: string): string {
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
