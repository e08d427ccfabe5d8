/**
 * RequestRedirect and URLRewrite (spec digest sections 7.3 and 7.4; GEP-726).
 */
import type * as IR from '../ir/types.js';

type PathModifier = IR.PathModifier;
type Redirect = Extract<IR.Filter, { type: 'RequestRedirect' }>;

/**
 * ReplacePrefixMatch (`HTTPPathModifier.ReplacePrefixMatch`): replaces the matched prefix,
 * element-wise, never producing "//". Reproduces the spec's table: `p` is the prefix without one
 * trailing slash ("/" counts as empty), `rest` the path after it, `r` the replacement without a
 * trailing slash; the result is `rest || "/"` when `r` is empty, else `r + rest`.
 */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const p = prefix === '/' ? '' : prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const rest = path.startsWith(p) ? path.slice(p.length) : path;
  const r = replacement.endsWith('/') ? replacement.slice(0, -1) : replacement;
  return r === '' ? rest || '/' : r + rest;
}

/** Applies a path modifier; `matchedPrefix` is the PathPrefix value of the match that matched. */
export function modifyPath(path: string, mod: PathModifier | undefined, matchedPrefix: string | null): string {
  if (!mod) return path;
  if (mod.type === 'ReplaceFullPath') return mod.value;
  if (matchedPrefix === null) return path; // validation guarantees a single PathPrefix match
  return replacePrefix(path, matchedPrefix, mod.value);
}

/** Splits `/a/b?x=1` into path and query (with its `?`, or ''). */
export function splitPath(pathWithQuery: string): [string, string] {
  const q = pathWithQuery.indexOf('?');
  return q < 0 ? [pathWithQuery, ''] : [pathWithQuery.slice(0, q), pathWithQuery.slice(q)];
}

const WELL_KNOWN: Record<string, number> = { http: 80, https: 443 };

/**
 * The Location of a RequestRedirect. Scheme defaults to the request's; hostname to the request
 * host without its port; port to the scheme's well-known port when the filter sets a scheme,
 * else to the listener's port (not the Host header's). The well-known port is omitted. The
 * query string is kept.
 */
export function redirectLocation(
  filter: Redirect,
  req: { scheme: 'http' | 'https'; host: string | undefined; path: string },
  listenerPort: number,
  matchedPrefix: string | null,
): string {
  const scheme = filter.scheme ?? req.scheme;
  const host = filter.hostname ?? stripPort(req.host) ?? 'localhost';
  const port = filter.port ?? (filter.scheme !== undefined ? WELL_KNOWN[scheme]! : listenerPort);
  const [path, query] = splitPath(req.path);
  const newPath = modifyPath(path, filter.path, matchedPrefix);
  const showPort = port !== WELL_KNOWN[scheme];
  return `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${showPort ? `:${port}` : ''}${newPath}${query}`;
}

/** Host without port; IPv6 literals keep their brackets. */
export function stripPort(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}
