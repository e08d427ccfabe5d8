/**
 * HTTPRoute, GRPCRoute and TLSRoute, with every CRD default and CEL rule.
 * Facts from `apis/v1/{httproute,grpcroute,tlsroute,shared}_types.go` and the CRDs (v1.6.1 and
 * main); the spec digest sections 1.4 to 1.6, 7 and 8 summarise them. Filters, header matches,
 * SessionPersistence and the parentRefs/rule-name checks are in schemas/route-parts.ts.
 */
import { z } from 'zod';
import { refinement } from './validate/refinement.js';
import { violate } from './schemas-gateway.js';
import { AnyStatus, compileFullMatch, backendReference, Duration, HeaderName, Hostname, ParentReference, Patterns, SectionName, Weight, int, metadata, checkUnique, str } from './schemas-shared.js';
import { GRPCFilterList, HTTPFilterList, HTTPMethods, HeaderMatch, SessionPersistence, byName, checkParentRefs, checkRuleNames } from './schemas/route-parts.js';

// The filters live with the other route parts; they are part of this module's public face.
export { GRPCRouteFilterSchema, HTTPRouteFilterSchema, type HTTPRouteFilter } from './schemas/route-parts.js';

/** A RegularExpression value RE2 refuses, where it is in the route, and why. */
export interface RefusedRegex {
  /** Index of the rule that holds it. */
  rule: number;
  /** Field path from the object root, e.g. `spec.rules[1].matches[0].path.value` as segments. */
  path: (string | number)[];
  pattern: string;
  reason: string;
}

/**
 * The RegularExpression values of a route that RE2 cannot run. The CRD admits any string there,
 * so the API server accepts the route; the controller drops the rules that hold them and marks
 * the route PartiallyInvalid (spec digest 10.5). The one home of this rule: loadManifests turns
 * the result into warnings, the model into dropped rules.
 */
export function refusedRegexes(route: HTTPRoute | GRPCRoute): RefusedRegex[] {
  // Runs twice for every route at every load (loadManifests, then the model), in the
  // interpreter on a first load; most routes have no regex at all. Index loops, no closure and
  // no stand-in empty lists: nothing is allocated for a route whose patterns all compile.
  let out: RefusedRegex[] | undefined;
  const rules = route.spec.rules;
  if (rules === undefined) return NO_REFUSED;
  for (let i = 0; i < rules.length; i++) {
    const matches = rules[i]!.matches;
    if (matches === undefined) continue;
    for (let j = 0; j < matches.length; j++) {
      const m = matches[j]! as { path?: { type: string; value: string }; method?: unknown; headers?: { type: string; value: string }[]; queryParams?: { type: string; value: string }[] };
      if (m.path !== undefined && m.path.type === 'RegularExpression') out = refused(out, m.path.value, i, j, 'path', 'value');
      const method = m.method as { type?: string; service?: string; method?: string } | undefined;
      if (typeof method === 'object' && method.type === 'RegularExpression') {
        if (method.service !== undefined) out = refused(out, method.service, i, j, 'method', 'service');
        if (method.method !== undefined) out = refused(out, method.method, i, j, 'method', 'method');
      }
      const headers = m.headers;
      if (headers !== undefined) for (let k = 0; k < headers.length; k++) if (headers[k]!.type === 'RegularExpression') out = refused(out, headers[k]!.value, i, j, 'headers', k, 'value');
      const query = m.queryParams;
      if (query !== undefined) for (let k = 0; k < query.length; k++) if (query[k]!.type === 'RegularExpression') out = refused(out, query[k]!.value, i, j, 'queryParams', k, 'value');
    }
  }
  return out ?? NO_REFUSED;
}

/** What refusedRegexes returns for a route without refused patterns: one frozen list. */
const NO_REFUSED: RefusedRegex[] = Object.freeze([]) as unknown as RefusedRegex[];

/** `out` with `pattern` added when RE2 refuses it (a new list on the first refusal). */
function refused(out: RefusedRegex[] | undefined, pattern: string, rule: number, match: number, ...field: (string | number)[]): RefusedRegex[] | undefined {
  const r = compileFullMatch(pattern);
  if (r.ok) return out;
  (out ??= []).push({ rule, path: ['spec', 'rules', rule, 'matches', match, ...field], pattern, reason: r.reason });
  return out;
}

/** Whether some backendRef has filters (a loop: rule checks run for every rule at every load). */
function someFiltered(refs: readonly { filters?: unknown }[] | undefined): boolean {
  if (refs !== undefined) for (let i = 0; i < refs.length; i++) if (refs[i]!.filters !== undefined) return true;
  return false;
}

// Checked for every path match: the lists are made once.
const PATH_MUST_NOT_CONTAIN = ['//', '/./', '/../', '%2f', '%2F', '#'];
const PATH_MUST_NOT_END_WITH = ['/..', '/.'];

const PathMatch = z
  .strictObject({
    type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
    value: z.string().max(1024).default('/'),
  })
  .check(refinement((p, ctx) => {
    if (p.type === 'RegularExpression') return; // any string: RE2 refusals drop the rule (refusedRegexes)
    // Path-value CEL for Exact and PathPrefix (spec digest section 1.4).
    // (Index loops: this runs for every path match at every load, in the interpreter at first.)
    const v = p.value;
    // Most values pass every rule below: three scans and the pattern show it (each forbidden
    // substring and ending contains '//', '/.' or '%2', and '#' is outside the pattern).
    if (v.charCodeAt(0) === 0x2f && !v.includes('//') && !v.includes('/.') && !v.includes('%2') && Patterns.pathValue.test(v)) return;
    const types = "when type one of ['Exact', 'PathPrefix']";
    if (!v.startsWith('/')) violate(ctx, `value must be an absolute path and start with '/' ${types}`, ['value']);
    for (let i = 0; i < PATH_MUST_NOT_CONTAIN.length; i++) {
      const bad = PATH_MUST_NOT_CONTAIN[i]!;
      if (v.includes(bad)) violate(ctx, `must not contain '${bad}' ${types}`, ['value']);
    }
    for (let i = 0; i < PATH_MUST_NOT_END_WITH.length; i++) {
      const bad = PATH_MUST_NOT_END_WITH[i]!;
      if (v.endsWith(bad)) violate(ctx, `must not end with '${bad}' ${types}`, ['value']);
    }
    if (!Patterns.pathValue.test(v)) {
      violate(ctx, `must only contain valid characters (matching ${Patterns.pathValue.source}) for types ['Exact', 'PathPrefix']`, ['value']);
    }
  }));

const DefaultPathMatch = { type: 'PathPrefix', value: '/' } as const;

export const HTTPRouteMatchSchema = z.strictObject({
  path: PathMatch.prefault(DefaultPathMatch),
  headers: z.array(HeaderMatch).max(16).check(refinement((l, ctx) => checkUnique(l, ctx, byName))).optional(),
  queryParams: z
    .array(
      z
        .strictObject({ type: z.enum(['Exact', 'RegularExpression']).default('Exact'), name: HeaderName, value: str(1, 1024) }),
    )
    .max(16)
    .check(refinement((l, ctx) => checkUnique(l, ctx, byName)))
    .optional(),
  method: z.enum(HTTPMethods).optional(),
});
export type HTTPRouteMatch = z.infer<typeof HTTPRouteMatchSchema>;

export const HTTPBackendRefSchema = backendReference({ weight: Weight, filters: HTTPFilterList.optional() });
export type HTTPBackendRef = z.infer<typeof HTTPBackendRefSchema>;

const Timeouts = z
  .strictObject({ request: Duration.optional(), backendRequest: Duration.optional() })
  .check(refinement((t, ctx) => {
    if (t.request !== undefined && t.backendRequest !== undefined) {
      const req = durationMs(t.request);
      if (req !== 0 && durationMs(t.backendRequest) > req) violate(ctx, 'backendRequest timeout cannot be longer than request timeout', ['backendRequest']);
    }
  }));

const Retry = z.strictObject({
  codes: z
    .array(int(400, 599))
    .optional()
    .check(refinement((codes, ctx) => {
      if (codes && new Set(codes).size !== codes.length) violate(ctx, 'codes must be unique');
    })),
  attempts: int(1).optional(),
  backoff: Duration.optional(),
});

export const HTTPRouteRuleSchema = z
  .strictObject({
    name: SectionName.optional(),
    // "If no matches are specified, the default is a prefix path match on /" (HTTPRouteRule.Matches):
    // an empty list is treated like an absent one.
    matches: z
      .array(HTTPRouteMatchSchema)
      .max(64)
      .prefault([{ path: DefaultPathMatch }])
      .transform((m) => (m.length > 0 ? m : [{ path: { ...DefaultPathMatch } }])),
    filters: HTTPFilterList.optional(),
    backendRefs: z.array(HTTPBackendRefSchema).max(16).optional(),
    timeouts: Timeouts.optional(),
    retry: Retry.optional(),
    sessionPersistence: SessionPersistence.optional(),
  })
  .check(refinement((rule, ctx) => {
    // Every rule is checked at every load, and most have no filters at all: then none of these
    // rules can be broken, and nothing is allocated to find that out.
    if (rule.filters === undefined && !someFiltered(rule.backendRefs)) return;
    if ((rule.backendRefs ?? []).length > 0 && (rule.filters ?? []).some((f) => f.requestRedirect !== undefined)) {
      violate(ctx, 'RequestRedirect filter must not be used together with backendRefs');
    }
    const singlePrefix = rule.matches.length === 1 && rule.matches[0]!.path.type === 'PathPrefix';
    if (!singlePrefix) {
      const f = rule.filters ?? [];
      if (f.some((x) => x.requestRedirect?.path?.type === 'ReplacePrefixMatch')) {
        violate(ctx, 'When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified');
      }
      if (f.some((x) => x.urlRewrite?.path?.type === 'ReplacePrefixMatch')) {
        violate(ctx, 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified');
      }
      const backendFilters = (rule.backendRefs ?? []).flatMap((b) => b.filters ?? []);
      if (backendFilters.some((x) => x.requestRedirect?.path?.type === 'ReplacePrefixMatch')) {
        violate(ctx, 'Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified');
      }
      if (backendFilters.some((x) => x.urlRewrite?.path?.type === 'ReplacePrefixMatch')) {
        violate(ctx, 'Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified');
      }
    }
  }));
export type HTTPRouteRule = z.infer<typeof HTTPRouteRuleSchema>;

const DefaultHTTPRule = { matches: [{ path: DefaultPathMatch }] };

export const HTTPRouteSpecSchema = z
  .strictObject({
    parentRefs: z.array(ParentReference).max(32).optional(),
    hostnames: z.array(Hostname).max(16).optional(),
    rules: z.array(HTTPRouteRuleSchema).min(1).max(16).prefault([DefaultHTTPRule]),
    useDefaultGateways: z.enum(['All', 'None']).optional(),
  })
  .check(refinement((spec, ctx) => {
    if (spec.parentRefs !== undefined) checkParentRefs(spec.parentRefs, ctx);
    checkRuleNames(spec.rules, ctx);
    let total = 0;
    for (let i = 0; i < spec.rules.length; i++) total += spec.rules[i]!.matches.length;
    if (total > 128) {
      violate(ctx, 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128', ['rules']);
    }
  }));

export const HTTPRouteSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('HTTPRoute'),
  metadata: metadata(),
  spec: HTTPRouteSpecSchema,
  status: AnyStatus,
});
export type HTTPRoute = z.infer<typeof HTTPRouteSchema>;
/** What a user writes: the HTTPRoute before defaults are applied. */
export type HTTPRouteInput = z.input<typeof HTTPRouteSchema>;

// ---------------------------------------------------------------------------------------------
// GRPCRoute

const GRPCMethodMatch = z
  .strictObject({
    type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
    service: z.string().max(1024).optional(),
    method: z.string().max(1024).optional(),
  })
  .check(refinement((m, ctx) => {
    if (m.service === undefined && m.method === undefined) violate(ctx, "One or both of 'service' or 'method' must be specified");
    if (m.type === 'Exact' && m.service !== undefined && !/^\.?[a-zA-Z_][a-zA-Z_0-9]*(\.[a-zA-Z_][a-zA-Z_0-9]*)*$/.test(m.service)) {
      violate(ctx, 'service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)', ['service']);
    }
    if (m.type === 'Exact' && m.method !== undefined && !/^[A-Za-z_][A-Za-z_0-9]*$/.test(m.method)) {
      violate(ctx, 'method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)', ['method']);
    }
  }));

export const GRPCRouteMatchSchema = z.strictObject({
  method: GRPCMethodMatch.optional(),
  headers: z.array(HeaderMatch).max(16).check(refinement((l, ctx) => checkUnique(l, ctx, byName))).optional(),
});

export const GRPCBackendRefSchema = backendReference({ weight: Weight, filters: GRPCFilterList.optional() });

export const GRPCRouteRuleSchema = z.strictObject({
  name: SectionName.optional(),
  matches: z.array(GRPCRouteMatchSchema).max(64).optional(),
  filters: GRPCFilterList.optional(),
  backendRefs: z.array(GRPCBackendRefSchema).max(16).optional(),
  sessionPersistence: SessionPersistence.optional(),
});

export const GRPCRouteSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('GRPCRoute'),
  metadata: metadata(),
  spec: z
    .strictObject({
      parentRefs: z.array(ParentReference).max(32).optional(),
      hostnames: z.array(Hostname).max(16).optional(),
      rules: z.array(GRPCRouteRuleSchema).max(16).optional(),
      useDefaultGateways: z.enum(['All', 'None']).optional(),
    })
    .check(refinement((spec, ctx) => {
      checkParentRefs(spec.parentRefs ?? [], ctx);
      checkRuleNames(spec.rules ?? [], ctx);
      const total = (spec.rules ?? []).reduce((n, r) => n + (r.matches ?? []).length, 0);
      if (total > 128) {
        violate(ctx, 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128', ['rules']);
      }
    })),
  status: AnyStatus,
});
export type GRPCRoute = z.infer<typeof GRPCRouteSchema>;

// ---------------------------------------------------------------------------------------------
// TLSRoute (v1; v1alpha2/v1alpha3 allow optional hostnames and up to 16 rules)

const TLSRuleSchema = z.strictObject({
  name: SectionName.optional(),
  backendRefs: z
    .array(backendReference({ weight: Weight }))
    .min(1)
    .max(16),
});

function tlsRouteSpec(version: 'v1' | 'v1alpha') {
  // v1 (and v1alpha3) forbid IPs by CEL; v1alpha2 only applies the Hostname pattern.
  const hostnames = z.array(Hostname).max(version === 'v1' ? 1024 : 16).check(refinement((hs, ctx) => {
    if (version !== 'v1') return;
    hs.forEach((h, i) => {
      if (/^\d+\.\d+\.\d+\.\d+$/.test(h)) violate(ctx, 'Hostnames cannot contain an IP', [i]);
    });
  }));
  return z
    .strictObject({
      parentRefs: z.array(ParentReference).max(32).optional(),
      hostnames: version === 'v1' ? hostnames.min(1) : hostnames.optional(),
      rules: z.array(TLSRuleSchema).min(1).max(version === 'v1' ? 1 : 16),
      useDefaultGateways: z.enum(['All', 'None']).optional(),
    })
    .check(refinement((spec, ctx) => {
      checkParentRefs(spec.parentRefs ?? [], ctx);
      checkRuleNames(spec.rules, ctx);
    }));
}

export const TLSRouteSchema = z.strictObject({
  apiVersion: z.string(),
  kind: z.literal('TLSRoute'),
  metadata: metadata(),
  spec: tlsRouteSpec('v1'),
  status: AnyStatus,
});
export const TLSRouteV1Alpha2Schema = TLSRouteSchema.extend({ spec: tlsRouteSpec('v1alpha') });
export type TLSRoute = z.infer<typeof TLSRouteSchema>;

// ---------------------------------------------------------------------------------------------
// Durations (GEP-2257)

/** Milliseconds in a GEP-2257 duration (`1h30m`, `500ms`); NaN if it does not parse. */
export function durationMs(d: string): number {
  if (!Patterns.duration.test(d)) return Number.NaN;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const m of d.matchAll(/(\d+)(ms|h|m|s)/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}
