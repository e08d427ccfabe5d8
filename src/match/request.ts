/**
 * A request as the matcher reads it: path split from query, host normalised, headers and query
 * looked up lazily so that a table without header or query matches never pays for them.
 */
import { parse as parseQuery } from 'fast-querystring';
import type { HeaderMap, RouteRequest } from '../types.js';
import { normalizeRequestHost } from '../model/hostnames.js';
import { isNormalPath, isPlainQuery, normalizePath, normalizeQuery, type PathOptions } from './normalize.js';

export class RequestView {
  readonly method: string;
  /** The normalised path (see normalize.ts), without query string or fragment: what is matched. */
  readonly path: string;
  /** Raw query string without `?`, or ''. */
  readonly rawQuery: string;
  /** The normalised path plus `?` and the query when the request had one: what is forwarded. */
  readonly target: string;
  /** Why the request cannot be routed (bad path, Host or method): it gets 400. Null when fine. */
  readonly invalid: string | null = null;
  /** Host lower-cased, port and trailing dot stripped; undefined when absent. */
  readonly host: string | undefined;
  /** The Host as sent (validated), for the forwarded request; undefined when absent. */
  readonly rawHost: string | undefined;
  readonly scheme: 'http' | 'https';
  /** The request as given when it is an object, else an empty one: never throws on access. */
  readonly request: RouteRequest;
  /** The request's headers when every name is already lower-case (node's req.headers): read directly. */
  private direct: HeaderMap | undefined;
  /** True when `direct` holds only strings and string arrays (so it can be forwarded as is). */
  private directClean = false;
  private headerMap: Map<string, string> | undefined;
  private queryMap: Record<string, unknown> | undefined;

  constructor(request: RouteRequest, paths?: PathOptions) {
    // route() never throws: a request that is not an object, or has fields of the wrong type,
    // is read as far as it goes and then answered 400.
    const r: RouteRequest = typeof request === 'object' && request !== null ? request : ({} as RouteRequest);
    this.request = r;
    let invalid: string | null = typeof request === 'object' && request !== null ? null : 'The request is not an object.';
    const m: unknown = r.method;
    if (typeof m === 'string' && m !== '') this.method = isUpper(m) ? m : m.toUpperCase();
    else {
      this.method = '';
      invalid ??= 'The request has no method.';
    }
    const raw: unknown = r.path;
    let path = '';
    let query = '';
    let hasQuery = false;
    if (typeof raw !== 'string') invalid ??= 'The request path is not a string.';
    else {
      // Hot path: most paths have neither query nor fragment; slice only when needed. A
      // fragment is never matched nor forwarded (spec digest 11).
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
    }
    // Hot path: a path already in normal form (most are) is checked without allocating.
    let same = true;
    if (!isNormalPath(path, paths?.mergeSlashes === true)) {
      const np = normalizePath(path, paths);
      same = false;
      if (np.ok) path = np.path;
      else if (invalid === null && typeof raw === 'string') invalid = np.message;
    }
    if (hasQuery && !isPlainQuery(query)) {
      const nq = normalizeQuery(query);
      same = false;
      if (nq.ok) query = nq.query;
      else invalid ??= nq.message;
    }
    this.path = path;
    this.rawQuery = query;
    // Without a fragment and with nothing normalised, the target is the request's own string.
    this.target = same && typeof raw === 'string' && raw.length === path.length + (hasQuery ? query.length + 1 : 0) ? raw : hasQuery ? `${path}?${query}` : path;
    let hostHeader: unknown = r.host;
    if (hostHeader === undefined || hostHeader === null) hostHeader = this.header('host') ?? this.header(':authority');
    if (hostHeader === '') hostHeader = undefined;
    if (hostHeader !== undefined && hostHeader !== lastValidHost && !(typeof hostHeader === 'string' && isValidHost(hostHeader))) {
      invalid ??= `The Host ${JSON.stringify(String(hostHeader)).slice(0, 200)} is not a valid host[:port] (no userinfo, whitespace or other characters).`;
      hostHeader = undefined;
    }
    this.rawHost = hostHeader as string | undefined;
    this.host = normalizeRequestHost(hostHeader as string | undefined);
    this.scheme = r.scheme === 'https' || (r.scheme !== 'http' && typeof r.sni === 'string') ? 'https' : 'http';
    this.invalid = invalid;
  }

  /** The listener port the request arrived on, when given as an integer. */
  get port(): number | undefined {
    const p: unknown = this.request.port;
    return typeof p === 'number' && Number.isInteger(p) ? p : undefined;
  }

  /** The TLS server name, when given as a string. */
  get sni(): string | undefined {
    const s: unknown = this.request.sni;
    return typeof s === 'string' ? s : undefined;
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
    // fast-querystring returns an object without prototype; so is the empty one.
    if (!this.queryMap) this.queryMap = this.rawQuery === '' ? NO_QUERY : (parseQuery(this.rawQuery) as Record<string, unknown>);
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
    // node's req.headers are already lower-case: read them in place, no copy.
    let clean = true;
    for (const name in headers) {
      if (!isLower(name)) {
        this.headerMap = buildHeaderMap(headers);
        return;
      }
      const v = headers[name];
      if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) clean = false;
    }
    this.direct = headers;
    this.directClean = clean;
  }
}

const NO_HEADERS: HeaderMap = Object.freeze({}) as HeaderMap;
const NO_QUERY: Record<string, unknown> = Object.freeze(Object.create(null) as Record<string, unknown>);

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * A Host header value: a reg-name or bracketed IP literal, then an optional port. Userinfo
 * (`@`), whitespace, `/`, backslash, `%`, `,` and other characters are refused, so a Host is
 * safe to put in a redirect Location. Names are DNS-like: letters, digits, `-`, `.`, `_`, `~`.
 */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(?::[0-9]{0,5})?$/;

/** The last Host found valid: most requests repeat it, and then no regex runs. */
let lastValidHost: string | undefined;

function isValidHost(host: string): boolean {
  if (host.length > 1024 || !VALID_HOST.test(host)) return false;
  lastValidHost = host;
  return true;
}

function isUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) return false;
  }
  return true;
}

function isLower(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return false;
  }
  return true;
}

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
