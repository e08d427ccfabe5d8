/**
 * A request as the matcher reads it: path split from query, host normalised, headers and query
 * looked up lazily so that a table without header or query matches never pays for them.
 */
import { parse as parseQuery } from 'fast-querystring';
import type { HeaderMap, RouteRequest } from '../types.js';
import { hostOf, isLowerName, isUpper, lowerNamesSeen, SEEN_LIMIT } from './memo/names.js';
import { isPlainQuery, normalizePath, normalizeQuery, plainQueryEnd, type PathOptions } from './normalize.js';
import { keysOf, PathKeys, scanNormalPath } from './trie/path-keys.js';

export class RequestView {
  method = '';
  /**
   * The string whose first `pathEnd` characters are the normalised path: the request's own path
   * string when it was already in normal form (most are), so that no path is sliced or copied.
   */
  pathSource = '';
  pathEnd = 0;
  /** The keys of the normalised path's segments, what the segment trie is probed with (trie/path-keys.ts). */
  readonly segments = new PathKeys();
  /** The normalised path plus `?` and the query when the request had one: what is forwarded. */
  target = '';
  /** Why the request cannot be routed (bad path, Host or method): it gets 400. Null when fine. */
  invalid: string | null = null;
  /** Host lower-cased, port and trailing dot stripped; undefined when absent. */
  host: string | undefined = undefined;
  /** The Host as sent (validated), for the forwarded request; undefined when absent. */
  rawHost: string | undefined = undefined;
  scheme: 'http' | 'https' = 'http';
  /** The listener port the request arrived on, when given as an integer. */
  port: number | undefined = undefined;
  /** The TLS server name, when given as a string. */
  sni: string | undefined = undefined;
  /** The request as given when it is an object, else an empty one: never throws on access. */
  request: RouteRequest = NO_REQUEST;
  /** `path`, once sliced; null until something other than the lookup asks for it. */
  private pathText: string | null = null;
  /** The raw query (without `?`), once sliced or normalised; null: `querySource` from `queryStart` to `queryEnd`. */
  private queryText: string | null = '';
  private querySource = '';
  private queryStart = 0;
  private queryEnd = 0;
  /** The request's headers when every name is already lower-case (node's req.headers): read directly. */
  private direct: HeaderMap | undefined = undefined;
  /** True when `direct` holds only strings and string arrays (so it can be forwarded as is). */
  private directClean = false;
  private headerMap: Map<string, string> | undefined = undefined;
  private queryMap: Record<string, unknown> | undefined = undefined;

  constructor(request?: RouteRequest, paths?: PathOptions) {
    if (request !== undefined) this.reset(request, paths);
    else this.invalid = 'The request is not an object.';
  }

  /**
   * Reads `request` into this view, replacing what it held. route() keeps one view and resets it
   * per call (see gateway/route.ts), so that a decision allocates only what the caller keeps.
   */
  reset(request: RouteRequest, paths?: PathOptions): void {
    // route() never throws: a request that is not an object, or has fields of the wrong type,
    // is read as far as it goes and then answered 400.
    const isObject = typeof request === 'object' && request !== null;
    const r: RouteRequest = isObject ? request : NO_REQUEST;
    this.request = r;
    // What is read lazily starts unread; every other field is written below.
    this.pathText = null;
    this.direct = undefined;
    this.directClean = false;
    this.headerMap = undefined;
    this.queryMap = undefined;
    let invalid: string | null = isObject ? null : 'The request is not an object.';
    const m: unknown = r.method;
    // Hot path: node's methods are upper-case constants; the two commonest are compared first.
    if (m === 'GET' || m === 'POST') this.method = m;
    else if (typeof m === 'string' && m !== '') this.method = isUpper(m) ? m : m.toUpperCase();
    else {
      this.method = '';
      invalid ??= 'The request has no method.';
    }
    const raw: unknown = r.path;
    const mergeSlashes = paths !== undefined && paths.mergeSlashes === true;
    // Hot path: a path already in normal form (most are) is found by one scan, which also finds
    // where the query starts and keys the segments for the trie; nothing is sliced, and the
    // target is the request's own string.
    const end = typeof raw === 'string' ? scanNormalPath(raw, mergeSlashes, this.segments) : -1;
    if (end >= 0 && (end === (raw as string).length || this.segments.query)) {
      const text = raw as string;
      this.pathSource = text;
      this.pathEnd = end;
      if (end === text.length) {
        this.queryText = '';
        this.querySource = '';
        this.target = text;
      } else {
        // A fragment is never matched nor forwarded (spec digest 11). Hot path: one sticky scan
        // finds where a plain query ends, at its `#` or the end.
        const stop = plainQueryEnd(text, end + 1);
        let qEnd = stop;
        if (stop !== text.length && text.charCodeAt(stop) !== 35 /* # */) {
          qEnd = text.indexOf('#', stop);
          if (qEnd < 0) qEnd = text.length;
        }
        this.queryStart = end + 1;
        this.queryEnd = qEnd;
        this.querySource = text;
        this.queryText = null;
        if (stop === qEnd) this.target = qEnd === text.length ? text : text.slice(0, qEnd);
        else invalid = this.slowQuery(text.slice(end + 1, qEnd), text.slice(0, end), invalid);
      }
    } else {
      invalid = this.slowPath(raw, paths, invalid);
    }
    let hostHeader: unknown = r.host;
    if (hostHeader === undefined || hostHeader === null) hostHeader = this.header('host') ?? this.header(':authority');
    if (hostHeader === '') hostHeader = undefined;
    let host: string | undefined;
    if (hostHeader !== undefined) {
      host = typeof hostHeader === 'string' ? hostOf(hostHeader) : undefined;
      if (host === undefined) {
        invalid ??= `The Host ${JSON.stringify(String(hostHeader)).slice(0, 200)} is not a valid host[:port] (no userinfo, whitespace or other characters).`;
        hostHeader = undefined;
      }
    }
    this.rawHost = hostHeader as string | undefined;
    this.host = host;
    const p: unknown = r.port;
    this.port = typeof p === 'number' && Number.isInteger(p) ? p : undefined;
    const sni: unknown = r.sni;
    this.sni = typeof sni === 'string' ? sni : undefined;
    const scheme: unknown = r.scheme;
    this.scheme = scheme === 'https' || (scheme !== 'http' && this.sni !== undefined) ? 'https' : 'http';
    this.invalid = invalid;
  }

  /**
   * Lets go of the request (its headers may be large), once a decision is made. Only what holds
   * on to the request is dropped; reset() writes every field again.
   */
  release(): void {
    this.request = NO_REQUEST;
    this.pathSource = '';
    this.pathText = null;
    this.querySource = '';
    this.queryText = '';
    this.target = '';
    this.rawHost = undefined;
    this.direct = undefined;
    this.headerMap = undefined;
    this.queryMap = undefined;
  }

  /** The normalised path (see normalize.ts), without query string or fragment: what is matched. */
  get path(): string {
    return (this.pathText ??= this.pathEnd === this.pathSource.length ? this.pathSource : this.pathSource.slice(0, this.pathEnd));
  }

  /** Raw query string without `?`, or ''. */
  get rawQuery(): string {
    return (this.queryText ??= this.querySource.slice(this.queryStart, this.queryEnd));
  }

  /** The path that is not in normal form (or not a string): split, normalised or refused. */
  private slowPath(raw: unknown, paths: PathOptions | undefined, invalid: string | null): string | null {
    let path = '';
    let query = '';
    let hasQuery = false;
    if (typeof raw !== 'string') invalid ??= 'The request path is not a string.';
    else {
      let end = raw.indexOf('#');
      if (end < 0) end = raw.length;
      const q = raw.indexOf('?');
      if (q >= 0 && q < end) {
        path = raw.slice(0, q);
        query = raw.slice(q + 1, end);
        hasQuery = true;
      } else {
        path = end === raw.length ? raw : raw.slice(0, end);
      }
      const np = normalizePath(path, paths);
      if (np.ok) path = np.path;
      else invalid ??= np.message;
    }
    this.pathSource = path;
    this.pathEnd = path.length;
    this.pathText = path;
    keysOf(path, invalid === null ? path.length : 0, this.segments);
    if (!hasQuery) {
      this.queryText = '';
      this.target = path;
      return invalid;
    }
    return this.slowQuery(query, path, invalid);
  }

  /** A query that is not plain: normalised (or refused); the target is rebuilt from both parts. */
  private slowQuery(query: string, path: string, invalid: string | null): string | null {
    if (!isPlainQuery(query, 0, query.length)) {
      const nq = normalizeQuery(query);
      if (nq.ok) query = nq.query;
      else invalid ??= nq.message;
    }
    this.queryText = query;
    this.target = `${path}?${query}`;
    return invalid;
  }

  /**
   * A header's value by lower-case name. Repeated values are combined with "," (RFC 7230
   * section 3.2.2), as Envoy does before matching.
   */
  header(lowerName: string): string | undefined {
    if (this.direct === undefined && this.headerMap === undefined) this.indexHeaders();
    if (this.direct !== undefined) {
      const v = this.direct[lowerName];
      // Hot path: a string is always an own header (Object.prototype has no string properties);
      // anything else is read only when own, so `constructor` or `toString` never match.
      if (typeof v === 'string') return v;
      if (v === undefined || v === null || !hasOwn(this.direct, lowerName)) return undefined;
      return Array.isArray(v) ? v.map(String).join(',') : String(v);
    }
    return this.headerMap!.get(lowerName);
  }

  /** The first value of a query parameter (names are case-sensitive), or undefined. */
  query(name: string): string | undefined {
    if (!this.queryMap) {
      // Hot path: a query with nothing to decode (no `%`, no `+`) is searched in place for its
      // first `name=` pair, as fast-querystring would read it, without parsing the whole query.
      const text = this.queryText ?? this.querySource;
      const from = this.queryText === null ? this.queryStart : 0;
      const to = this.queryText === null ? this.queryEnd : text.length;
      if (from === to) return undefined;
      if (plainPairs(text, from, to)) return firstValue(text, from, to, name);
      // fast-querystring returns an object without prototype; so is the empty one.
      this.queryMap = parseQuery(this.rawQuery) as Record<string, unknown>;
    }
    const v = hasOwn(this.queryMap, name) ? this.queryMap[name] : undefined;
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) ? String(v[0]) : String(v);
  }

  /**
   * The headers with lower-case names, repeated ones as arrays, for the forwarded request. The
   * request's own object is returned when it is already in that form (node's req.headers).
   */
  lowerCaseHeaders(): Record<string, string | string[]> {
    if (this.direct === undefined && this.headerMap === undefined) this.indexHeaders();
    if (this.direct !== undefined && this.directClean) return this.direct as Record<string, string | string[]>;
    const out: Record<string, string | string[]> = {};
    const headers = this.request.headers;
    if (!headers || typeof headers !== 'object') return out;
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined || v === null) continue;
      const key = k.toLowerCase();
      const prev = hasOwn(out, key) ? out[key] : undefined;
      const value = Array.isArray(v) ? v.map(String) : String(v);
      // defineProperty: a header named `__proto__` must stay a header, not set a prototype.
      Object.defineProperty(out, key, { value: prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(value) ? value : [value])], enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  private indexHeaders(): void {
    const headers = this.request.headers;
    if (!headers || typeof headers !== 'object') {
      this.direct = NO_HEADERS;
      this.directClean = true;
      return;
    }
    // node's req.headers are already lower-case: read them in place, no copy. Hot path: the
    // names repeat the previous requests' names in the same order (node adds them as they
    // arrive), so that one pointer compare per name answers (see lowerNamesSeen).
    let clean = true;
    let k = 0;
    for (const name in headers) {
      if (k < SEEN_LIMIT && lowerNamesSeen[k] === name) k++;
      else if (!isLowerName(name)) {
        this.headerMap = buildHeaderMap(headers);
        return;
      } else if (k < SEEN_LIMIT) lowerNamesSeen[k++] = name;
      const v = headers[name];
      if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) clean = false;
    }
    this.direct = headers;
    this.directClean = clean;
  }
}

/** True when `text[from, to)` has neither `%` nor `+`: query pairs that fast-querystring would not decode. */
function plainPairs(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */ || c === 43 /* + */) return false;
  }
  return true;
}

/**
 * The value of the first pair named `name` in the query `text[from, to)` (no `%`, no `+`), as
 * fast-querystring's parse reads it: pairs split at `&`, a pair's name ends at its first `=`,
 * a pair without `=` has the value '', and an empty pair is no pair.
 */
function firstValue(text: string, from: number, to: number, name: string): string | undefined {
  for (let i = from; i <= to; ) {
    let end = text.indexOf('&', i);
    if (end < 0 || end > to) end = to;
    if (end > i) {
      let eq = text.indexOf('=', i);
      if (eq < 0 || eq > end) eq = end;
      if (eq - i === name.length && text.startsWith(name, i)) return eq === end ? '' : text.slice(eq + 1, end);
    }
    i = end + 1;
  }
  return undefined;
}

const NO_HEADERS: HeaderMap = Object.freeze({}) as HeaderMap;
const NO_REQUEST: RouteRequest = Object.freeze({}) as RouteRequest;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function buildHeaderMap(headers: HeaderMap): Map<string, string> {
  const map = new Map<string, string>();
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined || v === null) continue;
    const value = Array.isArray(v) ? v.map(String).join(',') : String(v);
    const key = name.toLowerCase();
    const prev = map.get(key);
    map.set(key, prev === undefined ? value : `${prev},${value}`);
  }
  return map;
}
