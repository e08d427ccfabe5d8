/**
 * `check`: every problem of a set of manifests, located. Validation issues come from
 * loadManifests (each located in its file), status problems from the computed status (a route not Accepted, a
 * backend not resolved...), warnings from the gateway (item 5 of docs/cli.md). Each finding gets
 * `file:line:col`, a code frame and, for typos, a "did you mean".
 */
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Node } from 'yaml';
import { closest } from '../errors.js';
import { GatewayClassSchema, GatewaySchema, NamespaceSchema, ReferenceGrantSchema, SecretSchema, ServiceSchema } from '../resources/schemas-gateway.js';
import { GRPCRouteSchema, HTTPRouteSchema, TLSRouteSchema } from '../resources/schemas-route.js';
import { loadManifests, type Resource } from '../resources/load.js';
import type { Condition, StatusObject } from '../model/status.js';
import type { Issue, Severity } from '../types.js';
import { buildGateway, CommandError, gatewaysIn, type GatewayFlags, type ManifestFile, type Style } from './inputs.js';

/** One problem found by `check`: an Issue, or a status problem coded `status/<Reason>`. */
export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  path?: string;
  object?: Issue['object'];
  /** A likely fix, e.g. `did you mean "matches"?`. */
  hint?: string;
}

const SCHEMAS = [GatewayClassSchema, GatewaySchema, HTTPRouteSchema, GRPCRouteSchema, TLSRouteSchema, ReferenceGrantSchema, ServiceSchema, NamespaceSchema, SecretSchema];
const KIND_SCHEMAS = new Map<string, unknown>(SCHEMAS.map((s) => [(s.shape.kind as unknown as { value: string }).value, s]));

/** Every finding for the files: validation issues, then (when the manifests load) status problems and warnings. */
export function checkManifests(files: readonly ManifestFile[], flags: GatewayFlags): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (f: Finding) => {
    const key = `${f.code}|${f.path ?? ''}|${f.object?.kind ?? ''}/${f.object?.namespace ?? ''}/${f.object?.name ?? ''}|${f.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(f);
  };
  // `{ filename, text }` items: the loader locates each issue in its own file (file:line:col).
  const loaded = loadManifests(files);
  for (const issue of loaded.issues) add(toFinding(issue));
  if (findings.some((f) => f.severity === 'error')) return locateAll(findings, files);
  if (gatewaysIn(loaded.resources).length === 0) {
    if (loaded.resources.length > 0) add({ code: 'GW_CHECK_NO_GATEWAY', severity: 'info', message: 'The manifests hold no Gateway, so attachment and status were not checked.' });
    return locateAll(findings, files);
  }
  try {
    const gw = buildGateway(files, flags, true);
    for (const issue of gw.issues) {
      // A backendRef that does not resolve is also a status error (ResolvedRefs False), shown once.
      if (issue.code === 'GW_MANIFEST_BACKEND_NOT_FOUND') continue;
      add(toFinding(issue));
    }
    for (const item of gw.status.items) for (const f of statusFindings(item, loaded.resources)) add(f);
  } catch (e) {
    if (!(e instanceof CommandError)) throw e;
    add({ code: 'GW_CHECK_GATEWAY', severity: 'error', message: e.message });
  }
  return locateAll(findings, files);
}

/** An issue as a finding, with its "did you mean". The input index is left out: the file names the input. */
function toFinding(issue: Issue): Finding {
  const { input: _input, ...rest } = issue;
  return { ...rest, ...hintFor(issue) };
}

// ---------------------------------------------------------------------------------------------
// Status problems

/** Conditions whose `True` is the problem; for every other type, `False` is. */
const ABNORMAL_TRUE = new Set(['Conflicted', 'PartiallyInvalid', 'OverlappingTLSConfig']);
/** Problems that degrade rather than break: warnings. */
const WARNING_TYPES = new Set(['PartiallyInvalid', 'OverlappingTLSConfig']);

function problem(c: Condition): Severity | null {
  const bad = ABNORMAL_TRUE.has(c.type) ? c.status === 'True' : c.status === 'False';
  if (!bad) return null;
  return WARNING_TYPES.has(c.type) ? 'warning' : 'error';
}

/** Status conditions that say something is wrong, located at the spec field they concern. */
function statusFindings(item: StatusObject, resources: readonly Resource[]): Finding[] {
  const object = { kind: item.kind, name: item.metadata.name, ...(item.metadata.namespace !== undefined ? { namespace: item.metadata.namespace } : {}) };
  const who = `${item.kind} ${item.metadata.namespace ? `${item.metadata.namespace}/` : ''}${item.metadata.name}`;
  const out: Finding[] = [];
  const push = (c: Condition, where: string, path: string) => {
    const severity = problem(c);
    if (severity === null) return;
    out.push({ code: `status/${c.reason}`, severity, object, path, message: `${who}${where}: ${c.type} is ${c.status} (${c.reason}): ${c.message}` });
  };
  if (item.kind === 'GatewayClass') {
    for (const c of item.status.conditions) push(c, '', 'spec');
  } else if (item.kind === 'Gateway' || item.kind === 'ListenerSet') {
    for (const c of item.status.conditions) push(c, '', 'spec');
    item.status.listeners.forEach((l, i) => {
      for (const c of l.conditions) push(c, ` listener ${l.name}`, `spec.listeners[${i}]`);
    });
  } else if (item.kind !== 'BackendTLSPolicy') {
    const spec = resources.find((r) => r.kind === item.kind && r.metadata.name === item.metadata.name && r.metadata.namespace === item.metadata.namespace);
    const refs = ((spec as { spec?: unknown } | undefined)?.spec as { parentRefs?: { name: string; namespace?: string; sectionName?: string; port?: number }[] } | undefined)?.parentRefs ?? [];
    item.status.parents.forEach((p) => {
      const i = Math.max(0, refs.findIndex((r) => r.name === p.parentRef.name && r.sectionName === p.parentRef.sectionName && r.port === p.parentRef.port));
      for (const c of p.conditions) push(c, ` on parent ${p.parentRef.namespace ? `${p.parentRef.namespace}/` : ''}${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ''}`, `spec.parentRefs[${i}]`);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Did you mean

/** A "did you mean" for unknown kinds, fields and enum values. */
function hintFor(issue: Issue): { hint?: string } {
  if (issue.code === 'GW_MANIFEST_UNKNOWN_KIND' && !issue.message.includes('did you mean') && issue.object?.kind) {
    const near = closest(issue.object.kind, KIND_SCHEMAS.keys());
    return near ? { hint: `did you mean ${near}?` } : {};
  }
  if (issue.code === 'GW_MANIFEST_UNKNOWN_FIELD' && issue.path && issue.object?.kind) {
    const segments = splitPath(issue.path);
    const key = segments.pop();
    const keys = fieldsAt(KIND_SCHEMAS.get(issue.object.kind), segments);
    const near = typeof key === 'string' ? closest(key, keys) : undefined;
    return near ? { hint: `did you mean "${near}"?` } : {};
  }
  if (issue.code === 'GW_MANIFEST_ENUM') {
    const m = /^Unsupported value ("(?:[^"\\]|\\.)*"): must be one of (.*)\.$/.exec(issue.message);
    if (!m) return {};
    const values = [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((v) => v[1]!);
    const near = closest(JSON.parse(m[1]!) as string, values);
    return near ? { hint: `did you mean "${near}"?` } : {};
  }
  return {};
}

/** `spec.rules[1].matches` -> ['spec', 'rules', 1, 'matches'] */
function splitPath(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

interface ZodDefLike {
  _zod?: { def?: { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown; element?: unknown; options?: unknown[]; getter?: () => unknown; valueType?: unknown } };
}

/** The field names a zod schema allows at `path`, following optionals, defaults, pipes, arrays and unions. */
function fieldsAt(schema: unknown, path: readonly (string | number)[]): string[] {
  const unwrap = (s: unknown, depth = 0): unknown[] => {
    const def = (s as ZodDefLike | undefined)?._zod?.def;
    if (!def || depth > 20) return [];
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'nonoptional':
      case 'catch':
        return unwrap(def.innerType, depth + 1);
      case 'pipe':
        return unwrap(def.in, depth + 1);
      case 'lazy':
        return def.getter ? unwrap(def.getter(), depth + 1) : [];
      case 'union':
        return (def.options ?? []).flatMap((o) => unwrap(o, depth + 1));
      default:
        return [s];
    }
  };
  let current = unwrap(schema);
  for (const seg of path) {
    const next: unknown[] = [];
    for (const s of current) {
      const def = (s as ZodDefLike)._zod!.def!;
      if (typeof seg === 'number' && def.type === 'array') next.push(...unwrap(def.element));
      else if (typeof seg === 'string' && def.type === 'object' && def.shape && seg in def.shape) next.push(...unwrap(def.shape[seg]));
      else if (typeof seg === 'string' && def.type === 'record') next.push(...unwrap(def.valueType));
    }
    current = next;
  }
  return [...new Set(current.flatMap((s) => Object.keys((s as ZodDefLike)._zod?.def?.shape ?? {})))];
}

// ---------------------------------------------------------------------------------------------
// Locating findings in the files

interface ParsedFile {
  file: ManifestFile;
  lines: LineCounter;
  docs: ReturnType<typeof parseAllDocuments>;
}

/** Findings without a line (status problems, gateway warnings) are placed at their object's field. */
function locateAll(findings: Finding[], files: readonly ManifestFile[]): Finding[] {
  let parsed: ParsedFile[] | null = null;
  return findings.map((f) => {
    if (f.line !== undefined || !f.object?.kind || !f.object.name) return f;
    parsed ??= files.map((file) => {
      const lines = new LineCounter();
      return { file, lines, docs: parseAllDocuments(file.text, { lineCounter: lines, logLevel: 'error' }) };
    });
    return { ...f, ...locate(parsed, f.object, f.path) };
  });
}

/** The field of the object's last definition (the one in effect when an object is defined twice). */
function locate(files: ParsedFile[], object: NonNullable<Issue['object']>, path: string | undefined): Partial<Finding> {
  for (const { file, lines, docs } of [...files].reverse()) {
    for (const doc of [...docs].reverse()) {
      const v = doc.toJS({ maxAliasCount: 100 }) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
      const meta = v?.metadata;
      if (!v || !meta || v.kind !== object.kind || meta.name !== object.name) continue;
      if (object.namespace !== undefined && typeof meta.namespace === 'string' && meta.namespace !== object.namespace) continue;
      let node: unknown = doc.contents;
      let best: Node | null = (node as Node | null) ?? null;
      for (const seg of path ? splitPath(path) : ['metadata', 'name']) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
          if (!pair) break;
          node = pair.value;
        } else if (isSeq(node) && typeof seg === 'number') {
          node = node.items[seg];
        } else break;
        if (node && typeof node === 'object' && 'range' in node) best = node as Node;
        else break;
      }
      const offset = best?.range?.[0];
      if (offset === undefined) return { file: file.filename };
      const pos = lines.linePos(offset);
      return { file: file.filename, line: pos.line, column: pos.col };
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Output

/** Three lines of context around `line`, with a caret under `column`. */
export function codeFrame(text: string, line: number, column: number | undefined, style: Style): string {
  const all = text.split(/\r?\n/);
  const from = Math.max(1, line - 2);
  const to = Math.min(all.length, line + 1);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const gutter = `${n === line ? '>' : ' '} ${String(n).padStart(width)} | `;
    out.push(n === line ? `${style.bold(gutter)}${all[n - 1]}` : style.dim(`${gutter}${all[n - 1]}`));
    if (n === line && column !== undefined) out.push(`${' '.repeat(width + 3)}| ${' '.repeat(Math.max(0, column - 1))}${style.red('^')}`);
  }
  return out.join('\n');
}

/** `file:line:col`, or what is known of it. */
function where(f: Finding): string {
  return [f.file ?? '<input>', f.line, f.column].filter((x) => x !== undefined).join(':');
}

/** Findings as text: one block per finding with its code frame, then a summary line. */
export function formatText(findings: readonly Finding[], files: readonly ManifestFile[], style: Style): string {
  const texts = new Map(files.map((f) => [f.filename, f.text]));
  const blocks = findings.map((f) => {
    const sev = f.severity === 'error' ? style.red('error') : f.severity === 'warning' ? style.yellow('warning') : style.dim('info');
    const lines = [`${style.bold(where(f))} ${sev} ${f.message}${f.path ? style.dim(` (${f.path})`) : ''} ${style.dim(`[${f.code}]`)}`];
    if (f.hint) lines.push(`  ${style.green(f.hint)}`);
    const text = f.file !== undefined ? texts.get(f.file) : undefined;
    if (text !== undefined && f.line !== undefined) lines.push(codeFrame(text, f.line, f.column, style));
    return lines.join('\n');
  });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const summary = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}`;
  return [...blocks, errors > 0 ? style.red(summary) : warnings > 0 ? style.yellow(summary) : style.green(summary)].join('\n\n');
}

/** GitHub Actions workflow commands (`::error file=...,line=...::message`), one per finding. */
export function formatGithub(findings: readonly Finding[]): string {
  const data = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (s: string) => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return findings
    .map((f) => {
      const level = f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'notice';
      const props = [f.file !== undefined ? `file=${prop(f.file)}` : '', f.line !== undefined ? `line=${f.line}` : '', f.column !== undefined ? `col=${f.column}` : '', `title=${prop(f.code)}`].filter(Boolean).join(',');
      return `::${level} ${props}::${data(f.message + (f.hint ? ` (${f.hint})` : ''))}`;
    })
    .join('\n');
}
