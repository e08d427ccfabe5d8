/**
 * The request path normaliser (spec digest section 11). It runs once per request, before
 * matching, and its output is both what the rules see and what every backend receives: the
 * proxied upstream, an in-process handler's `req.url`, and each mirror. Nothing downstream
 * re-parses or re-resolves it, so a path cannot mean one thing to the gateway and another to a
 * backend.
 *
 * The Gateway API leaves request-path normalisation to implementations; this follows what
 * Envoy-based gateways do (RFC 3986 section 6.2.2 syntax-based normalisation before routing).
 */

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
const PLAIN = 1; // unreserved, sub-delims, ':' and '@' (RFC 3986 pchar without pct-encoded), and '/'
const UNRESERVED = 2; // ALPHA / DIGIT / "-" / "." / "_" / "~"
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9\-._~]/.test(ch)) CLASS[c] = PLAIN | UNRESERVED;
  else if (/[!$&'()*+,;=:@/]/.test(ch)) CLASS[c] = PLAIN;
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
  // normalPathEnd is the request hot path's scan (below), without its keys.
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

// ---------------------------------------------------------------------------------------------
// Path segments as numbers

/**
 * Path segments as numbers: the one pass over a request path that both checks its normal form
 * and turns its segments into the keys the segment trie (compile.ts) is probed with, so that the
 * lookup reads no character of the path again.
 *
 * A segment is cut into chunks of up to 4 characters; a chunk's key is its character codes as
 * base-128 digits, `key = key * 128 + code`, below 128^4 = 2^28: a small integer, stored
 * unboxed everywhere. Codes are 1 to 127 (a normalised path is ASCII without NUL), so the key of
 * a chunk is unique to it (a longer chunk has a larger key), and two segments are equal exactly
 * when their chunk keys are: comparing keys is comparing the characters, not a hash that could
 * collide.
 */

/** The segments of one path: segment `s` has the chunk keys `keys[starts[s]]` to `keys[starts[s + 1]] - 1`. */
export class PathKeys {
  keys: Int32Array;
  starts: Int32Array;
  /** How many segments ("/" is one empty segment; "/a/" is "a" and ""). */
  count = 0;
  /** True when the scan stopped at a `?` (a query follows the path), false at the end or a `#`. */
  query = false;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.keys = new Int32Array(capacity);
    this.starts = new Int32Array(capacity + 1);
  }

  /**
   * Makes room for a path of `length` characters (a path has at most `length` segments and
   * chunks). Buffers grown past KEEP_CAPACITY for a long path are dropped at the next short
   * one, so a hostile path costs memory only while it is looked up.
   */
  fit(length: number): void {
    const cap = this.keys.length;
    if (length < cap) {
      if (cap > KEEP_CAPACITY && length < DEFAULT_CAPACITY) {
        this.keys = new Int32Array(DEFAULT_CAPACITY);
        this.starts = new Int32Array(DEFAULT_CAPACITY + 1);
      }
      return;
    }
    let size = cap * 2;
    while (size <= length) size *= 2;
    this.keys = new Int32Array(size);
    this.starts = new Int32Array(size + 1);
  }
}

/** Paths shorter than this fit the buffers a view starts with. */
const DEFAULT_CAPACITY = 64;
/** Buffers up to this size, once grown, are kept for later requests. */
const KEEP_CAPACITY = 1024;

/** Segment characters: the path characters (PLAIN) other than "/", by code. */
const SEGMENT_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) if ((CLASS[c]! & PLAIN) !== 0 && c !== 47) SEGMENT_CHAR[c] = 1;

/**
 * The hot path of every request: where the path part of a request target ends (at its `?`, its
 * `#`, or the end) when that path is already in normal form, else -1 (the slow path then
 * decides). On success `out` holds the keys of the path's segments. One scan, no allocation.
 * Anything the scan does not accept (a `%`, a `\`, a control or non-ASCII character, a space, a
 * segment starting with `.` such as "/.well-known", and with merging an empty segment other
 * than the last) takes the slow path, which returns the same path when there was nothing to change.
 */
export function scanNormalPath(target: string, mergeSlashes: boolean, out: PathKeys): number {
  const n = target.length;
  if (n === 0 || target.charCodeAt(0) !== 47 /* / */) return -1;
  out.fit(n);
  const keys = out.keys;
  const starts = out.starts;
  let k = 0;
  let s = 0;
  let j = 1;
  for (;;) {
    // At the start of segment s, just after its "/".
    starts[s++] = k;
    if (j === n) break;
    let c = target.charCodeAt(j);
    if (c === 46 /* . */ || (c === 47 && mergeSlashes)) return -1;
    let key = 0;
    let digits = 0;
    while (c !== 47) {
      if (c >= 128 || SEGMENT_CHAR[c] === 0) {
        if (c !== 63 /* ? */ && c !== 35 /* # */) return -1;
        if (digits > 0) keys[k++] = key;
        starts[s] = k;
        out.count = s;
        out.query = c === 63;
        return j;
      }
      key = key * 128 + c;
      if (++digits === CHUNK) {
        keys[k++] = key;
        key = 0;
        digits = 0;
      }
      if (++j === n) {
        if (digits > 0) keys[k++] = key;
        starts[s] = k;
        out.count = s;
        out.query = false;
        return n;
      }
      c = target.charCodeAt(j);
    }
    if (digits > 0) keys[k++] = key;
    j++;
  }
  starts[s] = k;
  out.count = s;
  out.query = false;
  return n;
}

/** A scratch PathKeys for checks that want the end only (normalPathEnd). */
const scratch = new PathKeys();

/** scanNormalPath without keeping the keys. */
export function normalPathEnd(target: string, mergeSlashes: boolean): number {
  return scanNormalPath(target, mergeSlashes, scratch);
}

/**
 * The keys of the segments of `path[0, end)`, a path already normalised (a request's after the
 * slow path, or a configured value): what scanNormalPath computes for a path it accepts. A
 * character no normalised request path has (NUL, non-ASCII) makes its chunk key -1, which no
 * chunk of a request has: such a configured segment never matches, as no request path holds it.
 */
export function keysOf(path: string, end: number, out: PathKeys): void {
  out.fit(end);
  const keys = out.keys;
  const starts = out.starts;
  let k = 0;
  let s = 0;
  let key = 0;
  let digits = 0;
  starts[s++] = 0;
  for (let j = 1; j < end; j++) {
    const c = path.charCodeAt(j);
    if (c === 47 /* / */) {
      if (digits > 0) keys[k++] = key;
      key = 0;
      digits = 0;
      starts[s++] = k;
      continue;
    }
    key = c === 0 || c >= 128 || key < 0 ? -1 : key * 128 + c;
    if (++digits === CHUNK) {
      keys[k++] = key;
      key = 0;
      digits = 0;
    }
  }
  if (digits > 0) keys[k++] = key;
  starts[s] = k;
  out.count = end === 0 ? 0 : s;
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

/** Characters per chunk: 4 keeps a key below 2^28, a small integer. */
const CHUNK = 4;

/** A 30-bit hash of chunk keys `keys[from, to)` (FNV-1a over the keys): where the trie's table probes first. */
export function keysHash(keys: ArrayLike<number>, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ keys[i]!, 0x01000193);
  return h & 0x3fffffff;
}
