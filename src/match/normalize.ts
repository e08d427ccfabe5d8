/**
 * The request path normaliser (spec digest section 11). It runs once per request, before
 * matching, and its output is both what the rules see and what every backend receives: the
 * proxied upstream, an in-process handler's `req.url`, and each mirror. Nothing downstream
 * re-parses or re-resolves it, so a path cannot mean one thing to the gateway and another to a
 * backend.
 *
 * The Gateway API leaves request-path normalisation to implementations; this follows what
 * Envoy-based gateways do (RFC 3986 section 6.2.2 syntax-based normalisation before routing).
 * Its fast path, the scan that also keys the path's segments for the trie, is trie/path-keys.ts.
 */
import { keysOf, normalPathEnd, scanNormalPath, SEGMENT_CHAR, type PathKeys } from './trie/path-keys.js';

/** How a request path is normalised before matching (part of createGateway's options). */
export interface PathOptions {
  /** Collapse runs of `/` into one (`/a//b` => `/a/b`). Default false: `//` is kept, as RFC 3986 does. */
  mergeSlashes?: boolean;
  /**
   * What to do with `%2F`, `%5C` and a raw `\`: `keep` (default) keeps them encoded, as data
   * that is never a segment separator (a raw `\` is sent as `%5C`); `decode` turns all three
   * into `/` separators before dot segments are removed; `reject` answers 400.
   */
  escapedSlashes?: 'keep' | 'decode' | 'reject';
}

/** A normalised path, or why the path cannot be normalised (the request gets 400). */
export type NormalizedPath = { ok: true; path: string } | { ok: false; message: string };

// Character classes, by code point below 128.
const PLAIN = 1; // unreserved, sub-delims, ':' and '@' (RFC 3986 pchar without pct-encoded: SEGMENT_CHAR), and '/'
const UNRESERVED = 2; // ALPHA / DIGIT / "-" / "." / "_" / "~"
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(c))) CLASS[c] = PLAIN | UNRESERVED;
  else if (SEGMENT_CHAR[c] === 1 || c === 47 /* / */) CLASS[c] = PLAIN;
}

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Percent-encoded byte sequences that are overlong UTF-8 for ASCII (e.g. `%C0%AE` for `.`): never valid, a classic filter bypass. */
const OVERLONG = /%C[01]%[89AB][0-9A-F]|%E0%[89][0-9A-F]|%F0%8[0-9A-F]/;

/**
 * Normalises the path part of a request target (no query, no fragment):
 * 1. It must start with `/`; a NUL (raw or `%00`), another control character, an invalid
 *    percent-escape, an overlong UTF-8 escape or an unpaired surrogate makes it invalid.
 * 2. Percent-encoded unreserved characters are decoded (`%7E` => `~`, `%2e` => `.`); every
 *    other escape gets upper-case hex (`%2f` => `%2F`); `%25` is never decoded, so a
 *    double-encoded `%252e` stays data.
 * 3. Characters outside RFC 3986's path characters are percent-encoded (UTF-8).
 * 4. `%2F`, `%5C` and a raw `\` follow `escapedSlashes`; runs of `/` merge when `mergeSlashes`.
 * 5. Dot segments are removed (RFC 3986 section 5.2.4); a `..` above the root is dropped.
 * The result is a fixed point: normalising it again returns it unchanged.
 */
export function normalizePath(path: string, options: PathOptions = {}): NormalizedPath {
  if (path.charCodeAt(0) !== 47 /* / */) return { ok: false, message: `The request path ${JSON.stringify(path)} does not start with "/".` };
  const mergeSlashes = options.mergeSlashes === true;
  if (isNormalPath(path, mergeSlashes)) return { ok: true, path };
  return normalizeSlow(path, options.escapedSlashes ?? 'keep', mergeSlashes);
}

/**
 * The full normaliser, without the fast path: what normalizePath computes for a path that is not
 * already normal. Exported so that tests can hold the fast path to it.
 */
export function normalizePathFully(path: string, options: PathOptions = {}): NormalizedPath {
  if (path.charCodeAt(0) !== 47 /* / */) return { ok: false, message: `The request path ${JSON.stringify(path)} does not start with "/".` };
  return normalizeSlow(path, options.escapedSlashes ?? 'keep', options.mergeSlashes === true);
}

/**
 * True when `path` is already in normal form: it starts with `/`, has plain characters only,
 * and no dot segment or (with `mergeSlashes`) "//" to act on. No allocation.
 */
export function isNormalPath(path: string, mergeSlashes: boolean): boolean {
  // normalPathEnd is the request hot path's scan (trie/path-keys.ts), without its keys.
  return normalPathEnd(path, mergeSlashes) === path.length && path.length > 0;
}

function normalizeSlow(path: string, escapedSlashes: 'keep' | 'decode' | 'reject', mergeSlashes: boolean): NormalizedPath {
  const fail = (why: string): NormalizedPath => ({ ok: false, message: `The request path ${JSON.stringify(path)} ${why}.` });
  let s = '';
  let escapes = false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return fail('has an invalid percent-escape');
      const b = hi * 16 + lo;
      i += 2;
      if (b === 0) return fail('contains an encoded NUL (%00)');
      if (b < 128 && (CLASS[b]! & UNRESERVED) !== 0) {
        s += String.fromCharCode(b);
      } else if (b === 0x2f || b === 0x5c) {
        if (escapedSlashes === 'reject') return fail(`contains an encoded ${b === 0x2f ? 'slash (%2F)' : 'backslash (%5C)'}, which this gateway rejects (option escapedSlashes)`);
        s += escapedSlashes === 'decode' ? '/' : b === 0x2f ? '%2F' : '%5C';
      } else {
        s += `%${HEX[hi]}${HEX[lo]}`;
        escapes = true;
      }
      continue;
    }
    if (c < 0x20 || c === 0x7f) return fail(c === 0 ? 'contains a NUL character' : 'contains a control character');
    if (c === 92 /* \ */) {
      // A raw backslash is a separator to WHATWG URL parsers and some servers, data to others:
      // it is never passed on raw.
      if (escapedSlashes === 'reject') return fail('contains a backslash, which this gateway rejects (option escapedSlashes)');
      s += escapedSlashes === 'decode' ? '/' : '%5C';
      continue;
    }
    if (c < 128) {
      s += (CLASS[c]! & PLAIN) !== 0 ? path[i] : `%${HEX[c >> 4]}${HEX[c & 15]}`;
      continue;
    }
    // Non-ASCII (only route() callers can pass it; node refuses it on the wire): UTF-8 escapes.
    const cp = path.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (cp >= 0xd800 && cp <= 0xdfff) return fail('contains an unpaired surrogate');
    s += encodeURIComponent(ch);
    i += ch.length - 1;
  }
  if (escapes && OVERLONG.test(s)) return fail('contains an overlong UTF-8 percent-encoding');
  return { ok: true, path: removeDotSegments(s, mergeSlashes) };
}

/**
 * RFC 3986 section 5.2.4 on an absolute path: `.` segments go, `..` removes the segment before
 * it (none above the root), and a final `.` or `..` leaves a trailing `/`. With `mergeSlashes`,
 * empty segments (from `//`) go too, except the last (a trailing `/` is kept).
 */
function removeDotSegments(path: string, mergeSlashes: boolean): string {
  const segs = path.split('/');
  const out: string[] = [];
  const last = segs.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = segs[i]!;
    if (seg === '.' || seg === '..') {
      if (seg === '..') out.pop();
      if (i === last) out.push('');
    } else if (seg === '' && mergeSlashes && i !== last) {
      continue;
    } else {
      out.push(seg);
    }
  }
  return `/${out.join('/')}`;
}

/** True when the query string (or its part from `from` to `to`) has only printable ASCII other than space (the common case). */
export function isPlainQuery(query: string, from = 0, to = query.length): boolean {
  for (let i = from; i < to; i++) {
    const c = query.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * Where the plain part of a query that starts at `from` ends: at the first character that is
 * not printable ASCII other than space, or at `#` (which ends the query), or at the end; the
 * query is plain up to a `#` or the end when it stops there. (A loop: measured cheaper than a
 * sticky regular expression on the short queries of most requests.)
 */
export function plainQueryEnd(target: string, from: number): number {
  const n = target.length;
  let i = from;
  for (; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 35 /* # */) break;
  }
  return i;
}

/**
 * The query string (without `?`) as it is forwarded: control characters make it invalid (400),
 * characters no request line may carry (space, non-ASCII from route() callers) are
 * percent-encoded, everything else is kept as sent.
 */
export function normalizeQuery(query: string): { ok: true; query: string } | { ok: false; message: string } {
  if (isPlainQuery(query)) return { ok: true, query };
  let s = '';
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return { ok: false, message: 'The query string contains a control character.' };
    if (c === 0x20) s += '%20';
    else if (c < 0x7f) s += query[i];
    else {
      const cp = query.codePointAt(i)!;
      if (cp >= 0xd800 && cp <= 0xdfff) return { ok: false, message: 'The query string contains an unpaired surrogate.' };
      const ch = String.fromCodePoint(cp);
      s += encodeURIComponent(ch);
      i += ch.length - 1;
    }
  }
  return { ok: true, query: s };
}

/**
 * A configured Exact or PathPrefix value in the form requests are matched in. Validation
 * already refuses `//`, dot segments and `%2F` in values, so only escapes change.
 */
export function canonicalPathValue(value: string): string {
  // (Most configured values are normal already: no result object for them.)
  if (value.charCodeAt(0) === 47 /* / */ && isNormalPath(value, false)) return value;
  const n = normalizePath(value);
  return n.ok ? n.path : value;
}

/**
 * The keys of a configured Exact (`prefix` false) or PathPrefix value, in the form requests are
 * matched in (canonicalPathValue), into `out`: what keysOf gives for the canonical value, with one
 * scan for a value already normal (most are). A PathPrefix "/abc/" is the segments of "/abc"
 * (element-wise matching) and "/" has none.
 */
export function configuredPathKeys(value: string, prefix: boolean, out: PathKeys): void {
  let v = value;
  if (scanNormalPath(value, false, out) !== value.length) {
    v = canonicalPathValue(value);
    keysOf(v, v.length, out);
  }
  if (!prefix) return;
  // The scan (like keysOf) gives a value ending in "/" a last empty segment: a prefix drops it,
  // and a prefix of one segment ("/", or "a" if validation let it through) is the root.
  const length = v.length;
  const end = length > 1 && v.charCodeAt(length - 1) === 47 /* / */ ? length - 1 : length;
  if (end === 1) out.count = 0;
  else if (end !== length) out.count--;
}
