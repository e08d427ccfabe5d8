/**
 * Errors thrown by gateway-api-router.
 *
 * There is one base class, {@link GatewayError}, with a stable `code`. Switch on `code`, not on
 * the message or the class: a process can hold two copies of the library, and
 * {@link isGatewayError} recognises errors from either. Every code is documented in
 * `docs/errors.md`.
 */
import type { Issue } from './types.js';

/** Every error code the library throws, with a one-line meaning. Kept equal to docs/errors.md. */
export const ErrorCodes = {
  GW_ERR_CONFIG_INVALID: 'The manifests given to createGateway or reload contain errors.',
  GW_ERR_OPTIONS_INVALID: 'An option passed to a library function has the wrong type or value.',
  GW_ERR_GATEWAY_NOT_FOUND: 'The Gateway this process should serve is not in the manifests.',
  GW_ERR_GATEWAY_AMBIGUOUS: 'The manifests hold several Gateways and the option `gateway` does not say which to serve.',
  GW_ERR_GATEWAY_NOT_OURS: 'The Gateway to serve belongs to a GatewayClass that another controller owns.',
  GW_ERR_BODY_CONSUMED: 'A request to forward had its body read before the gateway (a body parser ran first).',
  GW_ERR_INTERNAL: 'Loading the manifests failed on an unexpected exception: a bug in gateway-api-router.',
  GW_ERR_LISTEN_FAILED: 'listen() could not open a listener port (in use, or not permitted).',
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ErrorCodes;

const kGatewayError = Symbol.for('gateway-api-router.error');

/** Base class of every error the library throws. */
export class GatewayError extends Error {
  /** Stable code, `GW_ERR_<AREA>_<WHAT>`; see docs/errors.md. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
    Object.defineProperty(this, kGatewayError, { value: true });
  }
}

/**
 * Thrown by `createGateway` and `gw.reload` when the manifests contain error issues.
 * `issues` lists every problem found (errors and warnings), each with its location.
 */
export class GatewayConfigError extends GatewayError {
  /** Every issue found while loading, errors first. */
  readonly issues: readonly Issue[];

  constructor(issues: readonly Issue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    const shown = errors.slice(0, 5).map((i) => `  - ${formatIssue(i)}`);
    const more = errors.length > 5 ? [`  ... and ${errors.length - 5} more`] : [];
    super(
      'GW_ERR_CONFIG_INVALID',
      [`The manifests have ${errors.length} error(s):`, ...shown, ...more].join('\n'),
    );
    this.name = 'GatewayConfigError';
    this.issues = [...errors, ...issues.filter((i) => i.severity !== 'error')];
  }
}

/** True for any error thrown by any copy of gateway-api-router. */
export function isGatewayError(value: unknown): value is GatewayError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kGatewayError] === true;
}

/** `file:line:col (document n) path: message [code]`, the way compilers print diagnostics; `<input n>` names an unnamed input. */
export function formatIssue(issue: Issue): string {
  const where = [issue.file ?? (issue.input !== undefined ? `<input ${issue.input}>` : '<input>'), issue.line, issue.column].filter((x) => x !== undefined).join(':');
  const doc = issue.document !== undefined ? ` (document ${issue.document})` : '';
  const path = issue.path ? ` ${issue.path}` : '';
  return `${where}${doc}${path}: ${issue.message} [${issue.code}]`;
}

/** A broken internal invariant: a bug in this library, never a user error. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`gateway-api-router internal error: ${message}`);
}

/**
 * The candidate closest to `word` (case-insensitive edit distance), when it is close enough to be
 * a likely typo: at most a third of the word's length, and at least 1. For "did you mean" hints.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const lower = c.toLowerCase();
    // Cheap lower bounds of the distance (length, letters) skip most candidates without computing it.
    if (Math.abs(lower.length - w.length) >= bestDistance || letterDifference(w, lower) >= bestDistance) continue;
    const d = editDistance(w, lower);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Letter counts for letterDifference, zero between calls. */
const letterCounts = new Int32Array(128);

/**
 * A lower bound of editDistance: the letters one string has more of than the other (an insertion,
 * deletion or substitution changes that by at most one, a transposition not at all). ASCII only;
 * 0 (no bound) otherwise.
 */
function letterDifference(a: string, b: string): number {
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) >= 128) return 0;
  for (let i = 0; i < b.length; i++) if (b.charCodeAt(i) >= 128) return 0;
  for (let i = 0; i < a.length; i++) letterCounts[a.charCodeAt(i)]!++;
  for (let i = 0; i < b.length; i++) letterCounts[b.charCodeAt(i)]!--;
  let extra = 0;
  let missing = 0;
  for (const s of [a, b]) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const n = letterCounts[c]!;
      if (n > 0) extra += n;
      else if (n < 0) missing -= n;
      letterCounts[c] = 0;
    }
  }
  return Math.max(extra, missing);
}

/** Levenshtein distance with transpositions counted as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
