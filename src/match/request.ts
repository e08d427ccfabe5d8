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
  private headerMap: Map<string, string> | undefined;
  private queryMap: Record<string, unknown> | undefined;

  constructor(readonly request: RouteRequest) {
    this.method = typeof request.method === 'string' ? request.method.toUpperCase() : '';
    const raw = typeof request.path === 'string' ? request.path : '';
    const hash = raw.indexOf('#');
    const noFragment = hash >= 0 ? raw.slice(0, hash) : raw;
    const q = noFragment.indexOf('?');
    this.path = q >= 0 ? noFragment.slice(0, q) : noFragment;
    this.rawQuery = q >= 0 ? noFragment.slice(q + 1) : '';
    const hostHeader = request.host ?? this.header('host') ?? this.header(':authority');
    this.host = normalizeRequestHost(typeof hostHeader === 'string' ? hostHeader : undefined);
    this.scheme = request.scheme ?? (request.sni !== undefined ? 'https' : 'http');
  }

  /**
   * A header's value by lower-case name. Repeated values are combined with "," (RFC 7230
   * section 3.2.2), as Envoy does before matching.
   */
  header(lowerName: string): string | undefined {
    if (!this.headerMap) this.headerMap = buildHeaderMap(this.request.headers);
    return this.headerMap.get(lowerName);
  }

  /** The first value of a query parameter (names are case-sensitive), or undefined. */
  query(name: string): string | undefined {
    if (!this.queryMap) this.queryMap = this.rawQuery === '' ? {} : (parseQuery(this.rawQuery) as Record<string, unknown>);
    const v = this.queryMap[name];
    if (v === undefined) return undefined;
    return Array.isArray(v) ? String(v[0]) : String(v);
  }
}

function buildHeaderMap(headers: HeaderMap | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (!headers || typeof headers !== 'object') return map;
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
