/**
 * applyFilters: runs one list of HTTPRoute filters (a rule's, then the picked backend's) over
 * the request in the order listed (spec digest section 7.1). A filter may answer the request
 * itself (RequestRedirect, CORS preflight, an ExtensionRef); otherwise the request, the response
 * header operations and the mirrors accumulate.
 */
import type * as IR from '../ir/types.js';
import type { BackendTarget, ForwardedRequest, HeaderOps, MirrorTarget, RouteRef } from '../types.js';
import { applyHeaderOps } from './headers.js';
import { evaluateCors } from './cors.js';
import { modifyPath, redirectLocation, splitPath } from './url.js';

/** A registered ExtensionRef filter: may change the request (mutate it) or answer it. */
export type ExtensionFilter = (request: ForwardedRequest, context: ExtensionContext) => void | ExtensionAnswer;

export interface ExtensionContext {
  route: RouteRef;
  rule: { index: number; name?: string };
  filter: { group: string; kind: string; name: string };
}

/** What an ExtensionRef filter returns to answer the request itself. */
export interface ExtensionAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** The state filters work on. */
export interface FilterState {
  request: ForwardedRequest;
  responseHeaders: HeaderOps[];
  mirrors: MirrorTarget[];
}

export interface FilterContext {
  method: string;
  /** The original request's header by lower-case name. */
  header: (name: string) => string | undefined;
  listenerPort: number;
  /** PathPrefix value of the match that matched, for ReplacePrefixMatch. */
  matchedPrefix: string | null;
  extensions: Readonly<Record<string, ExtensionFilter>>;
  random: () => number;
  route: RouteRef;
  rule: { index: number; name?: string };
}

export type FilterResult =
  | { type: 'continue' }
  | { type: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string }
  | { type: 'respond'; status: number; reason: 'cors-preflight' | 'extension' | 'extension-unresolved' | 'extension-error'; message: string; headers?: Record<string, string>; body?: string };

/** Applies `filters` to `state` (which it updates). Never throws: a throwing extension answers 500. */
export function applyFilters(filters: readonly IR.Filter[], state: FilterState, ctx: FilterContext): FilterResult {
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i]!;
    switch (f.type) {
      case 'RequestHeaderModifier':
        state.request = { ...state.request, headers: applyHeaderOps(state.request.headers, f.ops) };
        break;
      case 'ResponseHeaderModifier':
        state.responseHeaders.push(f.ops);
        break;
      case 'URLRewrite': {
        const rw = f;
        const [path, query] = splitPath(state.request.path);
        state.request = {
          ...state.request,
          path: modifyPath(path, rw.path, ctx.matchedPrefix) + query,
          // Without a hostname the Host header is forwarded unmodified (HTTPURLRewriteFilter.Hostname);
          // with one, `host` and the `host` header both carry it.
          ...(rw.hostname !== undefined ? { host: rw.hostname, headers: { ...state.request.headers, host: rw.hostname } } : {}),
        };
        break;
      }
      case 'RequestRedirect': {
        const rd = f;
        // The redirect is the response: ResponseHeaderModifiers listed after it still apply to it.
        for (const later of filters.slice(i + 1)) if (later.type === 'ResponseHeaderModifier') state.responseHeaders.push(later.ops);
        return { type: 'redirect', status: rd.statusCode, location: redirectLocation(rd, state.request, ctx.listenerPort, ctx.matchedPrefix) };
      }
      case 'RequestMirror': {
        const target = f.backend;
        const share = f.share;
        if (target && target.state === 'ok' && share > 0 && (share >= 1 || ctx.random() < share)) {
          const backend: BackendTarget = { group: target.group, kind: target.kind, namespace: target.namespace, name: target.name, port: target.port };
          state.mirrors.push({ backend, ...(target.registered !== undefined ? { registered: target.registered } : {}), request: state.request });
        }
        break;
      }
      case 'CORS': {
        const outcome = evaluateCors(f, ctx.method, ctx.header);
        if (outcome.kind === 'preflight') {
          return { type: 'respond', status: 204, reason: 'cors-preflight', message: 'CORS preflight answered by the gateway.', headers: outcome.headers };
        }
        if (outcome.kind === 'actual') {
          // Vary is appended to, never replaced: the backend may vary on other headers too.
          const { vary, ...rest } = outcome.headers;
          state.responseHeaders.push({ set: Object.entries(rest), add: vary !== undefined ? [['vary', vary]] : [], remove: [] });
        }
        break;
      }
      case 'ExtensionRef': {
        const ref = f;
        const key = f.key;
        const ext = ctx.extensions[key];
        // An unresolvable ExtensionRef must not be skipped: the request gets a 5xx (HTTPRouteFilter.ExtensionRef).
        if (!ext) return { type: 'respond', status: 500, reason: 'extension-unresolved', message: `ExtensionRef filter ${key} is not registered; register it in the option extensions.` };
        let answer: void | ExtensionAnswer;
        const request = structuredClone(state.request);
        try {
          answer = ext(request, { route: ctx.route, rule: ctx.rule, filter: { group: ref.group, kind: ref.kind, name: ref.name } });
        } catch (e) {
          return { type: 'respond', status: 500, reason: 'extension-error', message: `ExtensionRef filter ${key} threw: ${(e as Error)?.message ?? String(e)}` };
        }
        if (answer && typeof answer === 'object' && typeof answer.status === 'number') {
          return { type: 'respond', status: answer.status, reason: 'extension', message: `Answered by ExtensionRef filter ${key}.`, ...(answer.headers ? { headers: answer.headers } : {}), ...(answer.body !== undefined ? { body: answer.body } : {}) };
        }
        state.request = request;
        break;
      }
      default:
        // ExternalAuth rules are dropped at attachment (PartiallyInvalid); nothing else reaches here.
        break;
    }
  }
  return { type: 'continue' };
}
