/**
 * The compiled checks of a match (spec digest section 5): everything the path index does not
 * decide, that is a regular-expression path, the method, headers and query parameters. Each
 * check names itself, so that explain() says which condition failed with the words of the
 * check route() ran. Built once per match; only the conditions present are checked.
 */
import type * as IR from '../ir/types.js';
import type { RequestView } from './request.js';

/**
 * One compiled condition of a match, naming itself: `test` is what route() runs, `why` says
 * (for explain()) how a request that failed `test` failed it.
 */
export interface Check {
  test: (req: RequestView) => boolean;
  why: (req: RequestView) => string;
}

/**
 * Compiles a RegularExpression value (RE2 dialect, full match) to a test, or null when it does
 * not compile. The composition root passes resources/schemas-shared.ts's compileFullMatch: request-time code never
 * imports from resources/.
 */
export type RegexCompiler = (pattern: string) => ((input: string) => boolean) | null;

/** A compiler that always returns a test. */
export type Regex = (pattern: string) => (input: string) => boolean;

/**
 * The compiler the matcher uses: a pattern that is a plain literal or an alternation of
 * literals (`beta|internal`) becomes a Set probe; any other pattern goes to `regex`. A pattern
 * RE2 refuses has its rule dropped at build (PartiallyInvalid); should one still fail to compile
 * here, it never matches.
 */
export function regexOrNever(regex: RegexCompiler): Regex {
  // One test per pattern: the matches of a table repeat a few patterns, and a shared test stays
  // in cache where one per match would not.
  const tests = new Map<string, (input: string) => boolean>();
  return (pattern) => {
    let t = tests.get(pattern);
    if (t === undefined) tests.set(pattern, (t = lower(pattern, regex)));
    return t;
  };
}

function lower(pattern: string, regex: RegexCompiler): (input: string) => boolean {
  const literals = literalAlternatives(pattern);
  if (literals !== null) {
    if (literals.length === 1) {
      const only = literals[0]!;
      return (input) => input === only;
    }
    const set = new Set(literals);
    return (input) => set.has(input);
  }
  return regex(pattern) ?? NEVER;
}

/**
 * The strings a pattern fully matches when it is a literal or an alternation of literals (no
 * RE2 metacharacter other than `|`, and `\.`, `\-`, `\/` for those characters; printable ASCII),
 * else null. A full match of `a|b` is exactly "equals a or equals b", so the Set probe answers
 * what RE2 would; measured: re2js took about ten times find-my-way's whole lookup for
 * `beta|internal`.
 */
export function literalAlternatives(pattern: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '|') {
      out.push(cur);
      cur = '';
    } else if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '.' && next !== '-' && next !== '/') return null;
      cur += next;
      i++;
    } else if (META.has(c) || c < ' ' || c > '~') {
      // Printable ASCII only: RE2 reads input as code points, a Set compares UTF-16 units.
      return null;
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** RE2's metacharacters (`|` and the backslash are handled apart). */
const META = new Set(['.', '+', '*', '?', '(', ')', '[', ']', '{', '}', '^', '$']);

/**
 * What the lookup's scan tests for a candidate whose method is already known to match (the scan
 * of a candidate list is made per request method, see compile.ts): null, nothing left to test;
 * a HeaderCondition, the match's header conditions compared inline; otherwise the match's
 * whole test.
 * The first two need no call and no read of the candidate.
 */
export type ScanTest = null | HeaderCondition | ((req: RequestView) => boolean);

/**
 * Header conditions, inline: the header `name` equals `value`, or (`set` not null) is one of
 * `set`; and so does `next`, when not null (a match's header conditions, in order).
 */
export interface HeaderCondition {
  name: string;
  value: string | null;
  set: Set<string> | null;
  next: HeaderCondition | null;
}

/** True when the request passes a ScanTest. */
export function passes(t: ScanTest, req: RequestView): boolean {
  if (t === null) return true;
  if (typeof t === 'function') return t(req);
  const v = req.header(t.name);
  const set = t.set;
  if (set === null ? v !== t.value : v === undefined || !set.has(v)) return false;
  return t.next === null || morePass(t.next, req);
}

/** The rest of a HeaderCondition chain (a match with two or more header conditions). */
function morePass(t: HeaderCondition, req: RequestView): boolean {
  for (let h: HeaderCondition | null = t; h !== null; h = h.next) {
    const v = req.header(h.name);
    const set = h.set;
    if (set === null ? v !== h.value : v === undefined || !set.has(v)) return false;
  }
  return true;
}

/** A match's compiled checks, shared by every match with the same conditions. */
export interface CompiledChecks {
  /** The conditions, in the order `test` checks them (explain() names the failed one). */
  checks: readonly Check[];
  /** All of `checks` in one function. */
  test: (req: RequestView) => boolean;
  /** What the lookup's scan tests once the method matched. */
  scan: ScanTest;
}

/**
 * A compiler of matches' checks for one build: matches with the same conditions (the same
 * canary header on a thousand paths) share one CompiledChecks, so that the lookup runs a few
 * hot functions and reads a few hot objects instead of one cold closure per match.
 */
export function checkCompiler(regex: RegexCompiler): (m: IR.Match) => CompiledChecks {
  const re = regexOrNever(regex);
  const shared = new Map<string, CompiledChecks>();
  const sets = new Map<string, Set<string>>();
  return (m) => {
    const regexPath = m.path.type === 'RegularExpression';
    // Most matches check nothing beyond the path, or only the method: no key to build.
    if (!regexPath && m.headers.length === 0 && m.query.length === 0) return m.method === null ? NOTHING : methodOnly(m.method);
    let key = `${regexPath ? m.path.value : ''}\u0000${m.method ?? ''}`;
    for (const h of m.headers) key += `\u0000h${h.type}\u0001${h.name}\u0001${h.value}`;
    for (const q of m.query) key += `\u0000q${q.type}\u0001${q.name}\u0001${q.value}`;
    let c = shared.get(key);
    if (c === undefined) {
      const checks = compileChecks(m, re);
      const test = allOf(checks);
      // Header conditions only (the commonest): the scan compares them inline, as valueCheck does.
      const scan: ScanTest = !regexPath && m.query.length === 0 ? (inlineHeaders(m.headers, 0, sets) ?? test) : test;
      shared.set(key, (c = { checks, test, scan }));
    }
    return c;
  };
}

/**
 * The header conditions from `i` on as a HeaderCondition chain, or null when one of them is a
 * regular expression other than a literal alternation (then the scan calls the test).
 */
function inlineHeaders(headers: IR.Condition[], i: number, sets: Map<string, Set<string>>): HeaderCondition | null {
  const h = headers[i];
  if (h === undefined) return null;
  const literals = h.type === 'Exact' ? [h.value] : literalAlternatives(h.value);
  if (literals === null) return null;
  const next = i + 1 < headers.length ? inlineHeaders(headers, i + 1, sets) : null;
  if (next === null && i + 1 < headers.length) return null;
  if (literals.length === 1) return { name: h.name, value: literals[0]!, set: null, next };
  let set = sets.get(h.value);
  if (set === undefined) sets.set(h.value, (set = new Set(literals)));
  return { name: h.name, value: null, set, next };
}

const NOTHING: CompiledChecks = Object.freeze({ checks: Object.freeze([]) as readonly Check[], test: () => true, scan: null });

/** Per HTTP method, the checks of a match that checks only that method. */
const methodOnlyChecks = new Map<string, CompiledChecks>();

function methodOnly(method: string): CompiledChecks {
  let c = methodOnlyChecks.get(method);
  if (c === undefined) {
    const check = methodCheck(method);
    methodOnlyChecks.set(method, (c = Object.freeze({ checks: Object.freeze([check]), test: check.test, scan: null })));
  }
  return c;
}

/**
 * The per-candidate checks for everything the path index did not decide: a regex path, the
 * method, headers and query parameters. Built once; only the conditions present are checked.
 */
function compileChecks(m: IR.Match, compile: Regex): readonly Check[] {
  const checks: Check[] = [];
  if (m.path.type === 'RegularExpression') {
    const pattern = m.path.value;
    const re = compile(pattern);
    checks.push({ test: (req) => re(req.path), why: (req) => `path ${req.path} does not fully match regular expression ${pattern}` });
  }
  if (m.method !== null) checks.push(methodCheck(m.method));
  for (const h of m.headers) checks.push(valueCheck(h, 'header', '', (req, n) => req.header(n), compile));
  for (const q of m.query) checks.push(valueCheck(q, 'query parameter', ' (names are case-sensitive)', (req, n) => req.query(n), compile));
  return checks;
}

/** The checks as one test; one check is its own test. */
function allOf(checks: readonly Check[]): (req: RequestView) => boolean {
  if (checks.length === 1) return checks[0]!.test;
  const tests = checks.map((c) => c.test);
  return (req) => {
    for (const t of tests) if (!t(req)) return false;
    return true;
  };
}

/** A header or query condition: the value read by `read` must equal, or fully match, the condition's. */
function valueCheck(c: IR.Condition, what: string, absentNote: string, read: (req: RequestView, name: string) => string | undefined, compile: Regex): Check {
  const name = c.name;
  const value = c.value;
  const why = (req: RequestView) => {
    const v = read(req, name);
    if (v === undefined) return `${what} ${name} is absent${absentNote}`;
    return `${what} ${name}: ${JSON.stringify(v)} does not ${c.type === 'Exact' ? 'equal' : 'fully match'} ${JSON.stringify(value)}`;
  };
  if (c.type === 'Exact') return { test: (req) => read(req, name) === value, why };
  const re = compile(value);
  return {
    test: (req) => {
      const v = read(req, name);
      return v !== undefined && re(v);
    },
    why,
  };
}

/** One check per HTTP method, shared by every match on it. */
const methodChecks = new Map<string, Check>();

function methodCheck(method: string): Check {
  let c = methodChecks.get(method);
  if (c === undefined) methodChecks.set(method, (c = Object.freeze({ test: (req: RequestView) => req.method === method, why: (req: RequestView) => `method ${req.method} is not ${method}` })));
  return c;
}

const NEVER = (): boolean => false;
