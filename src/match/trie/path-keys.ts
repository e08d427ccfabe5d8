/**
 * Path segments as numbers: the one pass over a request path that both checks its normal form
 * and turns its segments into the keys the segment trie (match/compile.ts, trie/slots.ts) is
 * probed with, so that the lookup reads no character of the path again. Part of the path
 * normaliser (match/normalize.ts): this scan is its fast path, and whatever it does not accept
 * goes the normaliser's slow way.
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

/**
 * Segment characters, by code below 128: RFC 3986 pchar other than pct-encoded (unreserved,
 * sub-delims, ':' and '@'). What a path in normal form holds raw between its "/"s; the
 * normaliser (normalize.ts) percent-encodes every other character.
 */
export const SEGMENT_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/[A-Za-z0-9\-._~!$&'()*+,;=:@]/.test(String.fromCharCode(c))) SEGMENT_CHAR[c] = 1;

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

/** Characters per chunk: 4 keeps a key below 2^28, a small integer. */
const CHUNK = 4;

/** A 30-bit hash of chunk keys `keys[from, to)` (FNV-1a over the keys): where the trie's table probes first. */
export function keysHash(keys: ArrayLike<number>, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ keys[i]!, 0x01000193);
  return h & 0x3fffffff;
}
