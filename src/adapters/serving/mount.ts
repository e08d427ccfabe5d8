/**
 * Mount points: which requests a gateway mounted under a path prefix takes. One home for the rule,
 * used by Express (`app.use('/api', mw)`: `req.baseUrl`) and Fastify (`{ prefix }`).
 */
import { normalizePath } from '../../match/normalize.js';

/** The path options a prefix check normalises with (the gateway's own, when given as options). */
export type MountPathOptions = Parameters<typeof normalizePath>[1];

/** The gateway's path options among adapter options (with a `router` given, its defaults apply: only dot segments matter here). */
export function mountPathOptions(options: object): MountPathOptions {
  const gateway = options as { escapedSlashes?: 'keep' | 'decode' | 'reject'; mergeSlashes?: boolean };
  return { ...(gateway.escapedSlashes !== undefined ? { escapedSlashes: gateway.escapedSlashes } : {}), ...(gateway.mergeSlashes !== undefined ? { mergeSlashes: gateway.mergeSlashes } : {}) };
}

/** `/api/` and `api` become `/api`; no prefix (or `/`) is ''. */
export function prefixOf(prefix: string | undefined): string {
  if (prefix === undefined) return '';
  const p = prefix.replace(/\/+$/, '');
  return p === '' ? '' : p.startsWith('/') ? p : `/${p}`;
}

/**
 * Whether a request target is the prefix or under it, segment-wise (`/api` takes `/api`,
 * `/api/x` and `/api?q`, not `/apix`). The normalised path decides, the one the gateway routes
 * and forwards: `/api/../admin` is `/admin`, outside `/api`. A path that cannot be normalised is
 * judged as received (under the prefix, the gateway answers it 400).
 */
export function isUnder(url: string, prefix: string, paths: MountPathOptions): boolean {
  if (prefix === '') return true;
  const end = url.search(/[?#]/);
  const raw = end < 0 ? url : url.slice(0, end);
  const n = normalizePath(raw, paths);
  const path = n.ok ? n.path : raw;
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f /* / */);
}
