/**
 * Lowering: the rule fields requests need, from the manifests' form to the IR's runtime form
 * (durations in ms, header operations normalised, mirror shares as numbers, extension keys,
 * the session with its defaults). Runs once per load; request-time code reads only the result.
 */
import type { HeaderOps } from '../types.js';
import { durationMs, type HTTPRouteFilter, type HTTPRouteRule } from '../resources/schemas-route.js';
import type * as IR from './types.js';

/** A header modifier as plain data, names lower-cased and de-duplicated (first wins; HTTPHeaderFilter). */
export function headerOps(mod: { set?: { name: string; value: string }[] | undefined; add?: { name: string; value: string }[] | undefined; remove?: string[] | undefined }): HeaderOps {
  const first = <T>(xs: T[], name: (x: T) => string) => {
    const seen = new Set<string>();
    return xs.filter((x) => {
      const n = name(x).toLowerCase();
      if (seen.has(n)) return false;
      seen.add(n);
      return true;
    });
  };
  return {
    set: first(mod.set ?? [], (h) => h.name).map((h) => [h.name.toLowerCase(), h.value] as [string, string]),
    add: first(mod.add ?? [], (h) => h.name).map((h) => [h.name.toLowerCase(), h.value] as [string, string]),
    remove: first(mod.remove ?? [], (n) => n).map((n) => n.toLowerCase()),
  };
}

type SpecPathModifier = NonNullable<NonNullable<HTTPRouteFilter['urlRewrite']>['path']>;

function pathModifier(p: SpecPathModifier | undefined): IR.PathModifier | undefined {
  if (p === undefined) return undefined;
  return p.type === 'ReplaceFullPath' ? { type: 'ReplaceFullPath', value: p.replaceFullPath ?? '' } : { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch ?? '' };
}

/**
 * One filter in runtime form. `mirror` resolves a RequestMirror's backendRef (the model did, in
 * filter order). Returns null for a filter no request reaches (rules with ExternalAuth are dropped
 * at attachment).
 */
export function lowerFilter(f: HTTPRouteFilter, mirror: () => IR.Backend): IR.Filter | null {
  switch (f.type) {
    case 'RequestHeaderModifier':
      return { type: 'RequestHeaderModifier', ops: headerOps(f.requestHeaderModifier!) };
    case 'ResponseHeaderModifier':
      return { type: 'ResponseHeaderModifier', ops: headerOps(f.responseHeaderModifier!) };
    case 'URLRewrite': {
      const rw = f.urlRewrite!;
      const path = pathModifier(rw.path);
      return { type: 'URLRewrite', ...(rw.hostname !== undefined ? { hostname: rw.hostname } : {}), ...(path ? { path } : {}) };
    }
    case 'RequestRedirect': {
      const rd = f.requestRedirect!;
      const path = pathModifier(rd.path);
      return {
        type: 'RequestRedirect',
        statusCode: rd.statusCode,
        ...(rd.scheme !== undefined ? { scheme: rd.scheme } : {}),
        ...(rd.hostname !== undefined ? { hostname: rd.hostname } : {}),
        ...(rd.port !== undefined ? { port: rd.port } : {}),
        ...(path ? { path } : {}),
      };
    }
    case 'RequestMirror': {
      const m = f.requestMirror!;
      // percent or fraction; neither means 100% (HTTPRequestMirrorFilter).
      const share = m.percent !== undefined ? m.percent / 100 : m.fraction !== undefined ? m.fraction.numerator / m.fraction.denominator : 1;
      return { type: 'RequestMirror', share, backend: mirror() };
    }
    case 'CORS': {
      const c = f.cors!;
      return {
        type: 'CORS',
        allowOrigins: c.allowOrigins ?? [],
        allowMethods: c.allowMethods ?? [],
        allowHeaders: c.allowHeaders ?? [],
        exposeHeaders: c.exposeHeaders ?? [],
        allowCredentials: c.allowCredentials === true,
        maxAge: c.maxAge,
      };
    }
    case 'ExtensionRef': {
      const r = f.extensionRef!;
      return { type: 'ExtensionRef', key: `${r.group}/${r.kind}/${r.name}`, group: r.group, kind: r.kind, name: r.name };
    }
    default:
      return null;
  }
}

type SpecRule = Pick<HTTPRouteRule, 'timeouts' | 'retry' | 'sessionPersistence'>;

/** HTTPRouteTimeouts in ms; undefined when neither is set. */
export function lowerTimeouts(t: SpecRule['timeouts']): IR.Rule['timeouts'] {
  if (!t || (t.request === undefined && t.backendRequest === undefined)) return undefined;
  return {
    ...(t.request !== undefined ? { request: durationMs(t.request) } : {}),
    ...(t.backendRequest !== undefined ? { backendRequest: durationMs(t.backendRequest) } : {}),
  };
}

export function lowerRetry(r: SpecRule['retry']): IR.Rule['retry'] {
  if (!r) return undefined;
  return { codes: r.codes ?? [], ...(r.attempts !== undefined ? { attempts: r.attempts } : {}), ...(r.backoff !== undefined ? { backoffMs: durationMs(r.backoff) } : {}) };
}

/**
 * sessionPersistence (GEP-1619; both the v1.6.1 and the main shapes) with its defaults. Rules
 * must not share sessions: the default name is unique per route and rule.
 */
export function lowerSession(sp: SpecRule['sessionPersistence'], route: { namespace: string; name: string }, ruleIndex: number): IR.Session | undefined {
  if (!sp) return undefined;
  const fallback = `gw-session-${route.namespace}-${route.name}-${ruleIndex}`;
  if (sp.type === 'Header') return { type: 'Header', name: (sp.header?.name ?? sp.sessionName ?? fallback).toLowerCase() };
  const permanent = (sp.cookie?.lifetimeType ?? sp.cookieConfig?.lifetimeType) === 'Permanent' && sp.absoluteTimeout !== undefined;
  return {
    type: 'Cookie',
    name: sp.cookie?.name ?? sp.sessionName ?? fallback,
    path: sp.cookie?.path ?? '/',
    ...(permanent ? { maxAge: Math.floor(durationMs(sp.absoluteTimeout!) / 1000) } : {}),
  };
}
