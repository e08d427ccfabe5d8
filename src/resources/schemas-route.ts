/**
 * HTTPRoute, GRPCRoute and TLSRoute, with every CRD default and CEL rule.
 * Facts from `apis/v1/{httproute,grpcroute,tlsroute,shared}_types.go` and the CRDs (v1.6.1 and
 * main); the spec digest sections 1.4 to 1.6, 7 and 8 summarise them.
 */
import { z } from 'zod';
import { refinement } from './validate/refinement.js';
import { violate } from './schemas-gateway.js';
import {
  AnyStatus,
  compileFullMatch,
  BackendObjectReference,
  backendReference,
  Duration,
  HeaderName,
  HeaderValue,
  Hostname,
  Kind,
  Group,
  ObjectName,
  ParentReference,
  Patterns,
  PortNumber,
  PreciseHostname,
  SectionName,
  Weight,
  int,
  metadata,
  checkUnique,
  str,
} from './schemas-shared.js';

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

const HTTPMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

// ---------------------------------------------------------------------------------------------
// Shared route pieces

/**
 * parentRefs CEL, standard channel (`CommonRouteSpec.ParentRefs` in apis/v1/shared_types.go;
 * digest 2.1). Refs name the same parent when group, kind, name and namespace are equal (an
 * empty or absent namespace being one value). Among them: (1) either all set a sectionName or
 * none does; (2) each sectionName (absent counting as one value) appears once. `port` takes no
 * part: the experimental channel's variant over (sectionName, port) is not applied, so refs
 * `a` and `b` with a port are valid and two refs that differ only by port are not.
 */
function checkParentRefs(refs: z.infer<typeof ParentReference>[], ctx: z.RefinementCtx): void {
  if (refs.length < 2) return; // the usual single parentRef has nothing to clash with
  const parentKey = (p: z.infer<typeof ParentReference>) => `${p.group}/${p.kind}/${p.namespace ?? ''}/${p.name}`;
  refs.forEach((p1, i) => {
    for (const [j, p2] of refs.entries()) {
      if (j === i || parentKey(p1) !== parentKey(p2)) continue;
      if ((p1.sectionName === undefined) !== (p2.sectionName === undefined)) {
        violate(ctx, 'sectionName must be specified when parentRefs includes 2 or more references to the same parent', ['parentRefs', i]);
        return;
      }
      if (j < i && p1.sectionName === p2.sectionName) {
        violate(ctx, 'sectionName must be unique when parentRefs includes 2 or more references to the same parent', ['parentRefs', i]);
        return;
      }
    }
  });
}

/** The key of lists keyed by name (headers, query params): one function for every check. */
const byName = (e: { name: string }): string => e.name;

/** Whether some backendRef has filters (a loop: rule checks run for every rule at every load). */
function someFiltered(refs: readonly { filters?: unknown }[] | undefined): boolean {
  if (refs !== undefined) for (let i = 0; i < refs.length; i++) if (refs[i]!.filters !== undefined) return true;
  return false;
}

/** Rule names must be unique within a route (HTTPRouteRule.Name, GRPCRouteRule.Name). */
function checkRuleNames(rules: { name?: string | undefined }[], ctx: z.RefinementCtx): void {
  // Index loops: every route is checked at every load, most with unnamed rules.
  for (let i = 1; i < rules.length; i++) {
    const name = rules[i]!.name;
    if (name === undefined) continue;
    for (let j = 0; j < i; j++) {
      if (rules[j]!.name === name) {
        violate(ctx, 'Rule name must be unique within the route', ['rules', i, 'name']);
        break;
      }
    }
  }
}

const HeaderMatch = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: HeaderName,
  value: HeaderValue,
});

/** Header modifier (`HTTPHeaderFilter`): set, add, remove. */
const HTTPHeader = z.strictObject({ name: HeaderName, value: HeaderValue });
const HTTPHeaderFilter = z.strictObject({
  set: z.array(HTTPHeader).max(16).check(refinement((l, ctx) => checkUnique(l, ctx, byName))).optional(),
  add: z.array(HTTPHeader).max(16).check(refinement((l, ctx) => checkUnique(l, ctx, byName))).optional(),
  remove: z.array(z.string()).max(16).check(refinement((l, ctx) => checkUnique(l, ctx))).optional(),
});

const MirrorFilter = z
  .strictObject({
    backendRef: BackendObjectReference,
    percent: int(0, 100).optional(),
    fraction: z
      .strictObject({ numerator: int(0), denominator: int(1).default(100) })
      .check(refinement((f, ctx) => {
        if (f.numerator > f.denominator) violate(ctx, 'numerator must be less than or equal to denominator');
      }))
      .optional(),
  })
  .check(refinement((m, ctx) => {
    if (m.percent !== undefined && m.fraction !== undefined) {
      violate(ctx, 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter');
    }
  }));

const LocalObjectReference = z.strictObject({ group: Group, kind: Kind, name: ObjectName });

/** Checks that a filter carries exactly the member its `type` names (filter CEL rules). */
function checkFilterMember(f: Record<string, unknown> & { type: string }, members: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const [type, member] of Object.entries(members)) {
    const has = f[member] !== undefined;
    if (has && f.type !== type) violate(ctx, `filter.${member} must be nil if the filter.type is not ${type}`, [member]);
    if (!has && f.type === type) violate(ctx, `filter.${member} must be specified for ${type} filter.type`, [member]);
  }
}

/** The filter kinds that cannot repeat in one list. */
function checkFilterRepeats(types: string[], unique: readonly string[], ctx: z.RefinementCtx, path: (string | number)[]): void {
  for (const t of unique) {
    if (types.filter((x) => x === t).length > 1) violate(ctx, `${t} filter cannot be repeated`, path);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTPRoute

const HTTPPathModifier = z
  .strictObject({
    type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch']),
    replaceFullPath: z.string().max(1024).optional(),
    replacePrefixMatch: z.string().max(1024).optional(),
  })
  .check(refinement((p, ctx) => {
    if (p.type === 'ReplaceFullPath' && p.replaceFullPath === undefined) violate(ctx, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'");
    if (p.replaceFullPath !== undefined && p.type !== 'ReplaceFullPath') violate(ctx, "type must be 'ReplaceFullPath' when replaceFullPath is set");
    if (p.type === 'ReplacePrefixMatch' && p.replacePrefixMatch === undefined) violate(ctx, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'");
    if (p.replacePrefixMatch !== undefined && p.type !== 'ReplacePrefixMatch') violate(ctx, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set");
  }));

const RequestRedirect = z.strictObject({
  scheme: z.enum(['http', 'https']).optional(),
  hostname: PreciseHostname.optional(),
  path: HTTPPathModifier.optional(),
  port: PortNumber.optional(),
  statusCode: z.literal([301, 302, 303, 307, 308]).default(302),
});

const URLRewrite = z.strictObject({
  hostname: PreciseHostname.optional(),
  path: HTTPPathModifier.optional(),
});

const CORSFilter = z
  .strictObject({
    allowOrigins: z.array(str(1, 253, Patterns.corsOrigin, 'CORS origin')).max(64).optional(),
    allowCredentials: z.boolean().optional(),
    allowMethods: z.array(z.enum([...HTTPMethods, '*'])).max(9).optional(),
    allowHeaders: z.array(HeaderName).max(64).optional(),
    exposeHeaders: z.array(HeaderName).max(64).check(refinement((l, ctx) => checkUnique(l, ctx))).optional(),
    maxAge: int(1).default(5),
  })
  .check(refinement((c, ctx) => {
    for (const [field, what] of [['allowOrigins', 'origins'], ['allowMethods', 'methods'], ['allowHeaders', 'methods']] as const) {
      const list = (c[field] ?? []) as string[];
      if (list.includes('*') && list.length > 1) {
        const name = field[0]!.toUpperCase() + field.slice(1);
        violate(ctx, `${name} cannot contain '*' alongside other ${what}`, [field]);
      }
      if (new Set(list).size !== list.length) violate(ctx, `${field} entries must be unique`, [field]);
    }
  }));

const ExternalAuth = z
  .strictObject({
    protocol: z.enum(['HTTP', 'GRPC']),
    backendRef: BackendObjectReference,
    grpc: z.strictObject({ allowedHeaders: z.array(z.string()).max(64).optional() }).optional(),
    http: z
      .strictObject({
        path: z.string().max(1024).regex(Patterns.pathValue).optional(),
        allowedHeaders: z.array(z.string()).max(64).optional(),
        allowedResponseHeaders: z.array(z.string()).max(64).optional(),
      })
      .optional(),
    forwardBody: z.strictObject({ maxSize: int(0).optional() }).optional(),
  })
  .check(refinement((a, ctx) => {
    if (a.protocol === 'GRPC' && a.grpc === undefined) violate(ctx, "grpc must be specified when protocol is set to 'GRPC'");
    if (a.grpc !== undefined && a.protocol !== 'GRPC') violate(ctx, "protocol must be 'GRPC' when grpc is set");
    if (a.protocol === 'HTTP' && a.http === undefined) violate(ctx, "http must be specified when protocol is set to 'HTTP'");
    if (a.http !== undefined && a.protocol !== 'HTTP') violate(ctx, "protocol must be 'HTTP' when http is set");
  }));

const HTTPFilterMembers = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
} as const;

export const HTTPRouteFilterSchema = z
  .strictObject({
    type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS', 'ExternalAuth']),
    requestHeaderModifier: HTTPHeaderFilter.optional(),
    responseHeaderModifier: HTTPHeaderFilter.optional(),
    requestMirror: MirrorFilter.optional(),
    requestRedirect: RequestRedirect.optional(),
    urlRewrite: URLRewrite.optional(),
    extensionRef: LocalObjectReference.optional(),
    cors: CORSFilter.optional(),
    externalAuth: ExternalAuth.optional(),
  })
  .check(refinement((f, ctx) => checkFilterMember(f, HTTPFilterMembers, ctx)));
export type HTTPRouteFilter = z.infer<typeof HTTPRouteFilterSchema>;

const UniqueHTTPFilters = ['CORS', 'RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite'] as const;

const HTTPFilterList = z
  .array(HTTPRouteFilterSchema)
  .max(16)
  .check(refinement((filters, ctx) => {
    const types = filters.map((f) => f.type);
    if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
      violate(ctx, 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both');
    }
    checkFilterRepeats(types, UniqueHTTPFilters, ctx, []);
  }));

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

/**
 * SessionPersistence (experimental, GEP-1619). Both shapes are accepted: v1.6.1
 * (`sessionName`, `cookieConfig`) and main (`cookie`, `header`).
 */
const SessionPersistence = z
  .strictObject({
    type: z.enum(['Cookie', 'Header']).default('Cookie'),
    absoluteTimeout: Duration.optional(),
    // v1.6.1 shape
    sessionName: z.string().max(128).optional(),
    idleTimeout: Duration.optional(),
    cookieConfig: z.strictObject({ lifetimeType: z.enum(['Permanent', 'Session']).default('Session') }).optional(),
    // main shape
    cookie: z
      .strictObject({
        name: HeaderName.optional(),
        path: z.string().max(1024).default('/'),
        lifetimeType: z.enum(['Permanent', 'Session']).default('Session'),
      })
      .optional(),
    header: z.strictObject({ name: HeaderName }).optional(),
  })
  .check(refinement((s, ctx) => {
    const oldShape = s.sessionName !== undefined || s.cookieConfig !== undefined;
    const newShape = s.cookie !== undefined || s.header !== undefined;
    if (oldShape && newShape) violate(ctx, 'use either sessionName/cookieConfig (v1.6.1) or cookie/header (main), not both');
    const lifetime = s.cookie?.lifetimeType ?? s.cookieConfig?.lifetimeType;
    if (lifetime === 'Permanent' && s.absoluteTimeout === undefined) violate(ctx, 'AbsoluteTimeout must be specified when cookie lifetimeType is Permanent');
    if (s.cookieConfig !== undefined && s.type !== 'Cookie') violate(ctx, 'cookieConfig can only be set with type Cookie');
    if (s.cookie !== undefined && s.type !== 'Cookie') violate(ctx, 'cookie must be nil if type is not Cookie');
    if (s.header !== undefined && s.type !== 'Header') violate(ctx, 'header must be nil if type is not Header');
    if (newShape && s.type === 'Header' && s.header === undefined) violate(ctx, 'header must be specified for Header type');
  }));

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
    const filtered = rule.filters !== undefined || someFiltered(rule.backendRefs);
    if (!filtered) return;
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

const GRPCFilterMembers = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
} as const;

export const GRPCRouteFilterSchema = z
  .strictObject({
    type: z.enum(['ResponseHeaderModifier', 'RequestHeaderModifier', 'RequestMirror', 'ExtensionRef']),
    requestHeaderModifier: HTTPHeaderFilter.optional(),
    responseHeaderModifier: HTTPHeaderFilter.optional(),
    requestMirror: MirrorFilter.optional(),
    extensionRef: LocalObjectReference.optional(),
  })
  .check(refinement((f, ctx) => checkFilterMember(f, GRPCFilterMembers, ctx)));

const GRPCFilterList = z
  .array(GRPCRouteFilterSchema)
  .max(16)
  .check(refinement((filters, ctx) => checkFilterRepeats(filters.map((f) => f.type), ['RequestHeaderModifier', 'ResponseHeaderModifier'], ctx, [])));

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
