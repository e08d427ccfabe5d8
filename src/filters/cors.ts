/**
 * The CORS filter (`HTTPCORSFilter`, GEP-1767; spec digest section 7.6). The gateway answers
 * preflight requests itself and adds the response headers to actual requests.
 */
import type * as IR from '../ir/types.js';

type CORS = Extract<IR.Filter, { type: 'CORS' }>;

/** What the CORS filter does with a request. */
export type CorsOutcome =
  | { kind: 'none' }
  | { kind: 'preflight'; headers: Record<string, string> }
  | { kind: 'actual'; headers: Record<string, string> };

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' };

/** Parses an origin (`https://a.b:8443`) into scheme, host and effective port. */
function parseOrigin(origin: string): { scheme: string; host: string; port: string } | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/:?#]+|\[[^\]]+\])(?::(\d+))?\/?$/i.exec(origin);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  return { scheme, host: m[2]!.toLowerCase(), port: m[3] ?? DEFAULT_PORT[scheme] ?? '' };
}

/**
 * True when `origin` is allowed by one of `allowed`. Scheme must match; default ports are
 * implied; `*` in the host matches greedily to the left across any number of labels
 * (`https://*.bar.com` matches `https://www.bar.com` and `https://xpto.www.bar.com`).
 */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  if (allowed.includes('*')) return true;
  const o = parseOrigin(origin);
  if (!o) return false;
  return allowed.some((pattern) => {
    const p = /^(https?):\/\/(.+?)(?::(\d+))?$/.exec(pattern);
    if (!p) return false;
    if (p[1] !== o.scheme) return false;
    if ((p[3] ?? DEFAULT_PORT[p[1]!]) !== o.port) return false;
    const host = p[2]!.toLowerCase();
    if (host === '*') return true;
    if (host.startsWith('*.')) return o.host.endsWith(host.slice(1)) && o.host.length > host.length - 1;
    return host === o.host;
  });
}

/**
 * Evaluates CORS for a request. `header` reads a request header by lower-case name.
 * With `allowCredentials`, wildcards are never emitted: the Origin, the requested method and the
 * requested headers are echoed instead (and an allow header is omitted if there is nothing to echo).
 */
export function evaluateCors(cors: CORS, method: string, header: (name: string) => string | undefined): CorsOutcome {
  const origin = header('origin');
  if (origin === undefined) return { kind: 'none' };
  const requestedMethod = header('access-control-request-method');
  const preflight = method === 'OPTIONS' && requestedMethod !== undefined;
  const credentials = cors.allowCredentials;
  // GEP-1767: a credentialed request to a filter without allowCredentials gets no CORS headers.
  const credentialed = header('cookie') !== undefined || header('authorization') !== undefined;
  if (!originAllowed(origin, cors.allowOrigins) || (!preflight && credentialed && !credentials)) {
    return preflight ? { kind: 'preflight', headers: {} } : { kind: 'none' };
  }
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (credentials) headers['access-control-allow-credentials'] = 'true';
  const expose = cors.exposeHeaders;
  if (expose.length > 0 && !(credentials && expose.includes('*'))) headers['access-control-expose-headers'] = expose.join(', ');
  if (!preflight) return { kind: 'actual', headers };

  const methods = cors.allowMethods;
  if (methods.includes('*')) headers['access-control-allow-methods'] = credentials ? requestedMethod : '*';
  else if (methods.length > 0) headers['access-control-allow-methods'] = methods.join(', ');
  const allowHeaders = cors.allowHeaders;
  const requestedHeaders = header('access-control-request-headers');
  if (allowHeaders.includes('*')) {
    if (!credentials) headers['access-control-allow-headers'] = '*';
    else if (requestedHeaders !== undefined) headers['access-control-allow-headers'] = requestedHeaders;
  } else if (allowHeaders.length > 0) {
    headers['access-control-allow-headers'] = allowHeaders.join(', ');
  }
  headers['access-control-max-age'] = String(cors.maxAge);
  return { kind: 'preflight', headers };
}
