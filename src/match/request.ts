/**
 * A request as the matcher reads it: path split from query, host normalised, headers and query
 * looked up lazily so that a table without header or query matches never pays for them.
 */
import { parse as parseQuery } from 'fast-querystring';
import type { HeaderMap, RouteRequest } from '../types.js';
import { normalizeRequestHost } from '../model/hostnames.js';

export class RequestView {
  readonly method: string;
  /** Path without query string or fragment. */
  readonly path: string;
  /** Raw query string without `?`, or ''. */
  readonly rawQuery: string;
  /** Host lower-cased, port and trailing dot stripped; undefined when absent. */
  readonly host: string | undefined;
  readonly scheme: 'http' | 'https';
  /** The request's headers when every name is already lower-case (node's req.headers): read directly. */
  private direct: HeaderMap | undefined;
  /** True when `direct` holds only strings and string arrays (so it can be forwarded as is). */
  private directClean = false;
  private headerMap: Map<string, string> | undefined;
  private queryMap: Record<string, unknown> | undefined;

  constructor(readonly request: RouteRequest) {
    const m = request.method;
    this.method = typeof m === 'string' ? (isUpper(m) ? m : m.toUpperCase()) : '';
    const raw = typeof request.path === 'string' ? request.path : '';
    // Hot path: most paths have neither query nor fragment; slice only when needed.
    let end = raw.indexOf('#');
    if (end < 0) end = raw.length;
    const q = raw.indexOf('?');
    if (q >= 0 && q < end) {
      this.path = raw.slice(0, q);
      this.rawQuery = raw.slice(q + 1, end);
    } else {
      this.path = end === raw.length ? raw : raw.slice(0, end);
      this.rawQuery = '';
    }
    const hostHeader = request.host ?? this.header('host') ?? this.header(':authority');
    this.host = normalizeRequestHost(typeof hostHeader === 'string' ? hostHeader : undefined);
    this.scheme = request.scheme ?? (request.sni !== undefined ? 'https' : 'http');
  }

  /**
   * A header's value by lower-case name. Repeated values are combined with "," (RFC 7230
   * section 3.2.2), as Envoy does before matching.
   */
  header(lowerName: string): string | undefined {
    if (this.direct === undefined && this.headerMap === undefined) this.indexHeaders();
    if (this.direct !== undefined) {
      const v = this.direct[lowerName];
      return v === undefined || v === null ? undefined : typeof v === 'string' ? v : Array.isArray(v) ? v.map(String).join(',') : String(v);
    }
    return this.headerMap!.get(lowerName);
  }

  /** The first value of a query parameter (names are case-sensitive), or undefined. */
  query(name: string): string | undefined {
    if (!this.queryMap) this.queryMap = this.rawQuery === '' ? {} : (parseQuery(this.rawQuery) as Record<string, unknown>);
    const v = this.queryMap[name];
    if (v === undefined) return undefined;
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
      const prev = out[key];
      const value = Array.isArray(v) ? v.map(String) : String(v);
      out[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(value) ? value : [value])];
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
