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
  return (pattern) => {
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
  };
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
 * The per-candidate checks for everything the path index did not decide: a regex path, the
 * method, headers and query parameters. Built once; only the conditions present are checked.
 */
export function compileChecks(m: IR.Match, compile: Regex): readonly Check[] {
  // Most matches check nothing beyond the path, or only the method: those share their checks.
  const regexPath = m.path.type === 'RegularExpression';
  if (!regexPath && m.headers.length === 0 && m.query.length === 0) return m.method === null ? NO_CHECKS : [methodCheck(m.method)];
  const checks: Check[] = [];
  if (regexPath) {
    const pattern = m.path.value;
    const re = compile(pattern);
    checks.push({ test: (req) => re(req.path), why: (req) => `path ${req.path} does not fully match regular expression ${pattern}` });
  }
  if (m.method !== null) checks.push(methodCheck(m.method));
  for (const h of m.headers) checks.push(valueCheck(h, 'header', '', (req, n) => req.header(n), compile));
  for (const q of m.query) checks.push(valueCheck(q, 'query parameter', ' (names are case-sensitive)', (req, n) => req.query(n), compile));
  return checks;
}

const NO_CHECKS: readonly Check[] = Object.freeze([]);
const ALWAYS = (): boolean => true;

/** The checks as one test; one check is its own test, none is ALWAYS. */
export function allOf(checks: readonly Check[]): (req: RequestView) => boolean {
  if (checks.length === 0) return ALWAYS;
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
