/**
 * The pieces that HTTPRoute and GRPCRoute share or that only their rules and backends hold: the
 * parentRefs and rule-name CEL checks, header matches, the filters (HTTPRoute's and GRPCRoute's,
 * with their CEL rules) and SessionPersistence. The route objects themselves are in
 * ../schemas-route.ts. Facts from `apis/v1/{httproute,grpcroute,shared}_types.go` and the CRDs.
 */
import { z } from 'zod';
import { refinement } from '../validate/refinement.js';
import { violate } from '../schemas-gateway.js';
import { BackendObjectReference, Duration, Group, HeaderName, HeaderValue, Kind, ObjectName, ParentReference, Patterns, PortNumber, PreciseHostname, checkUnique, int, str } from '../schemas-shared.js';

export const HTTPMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

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
export function checkParentRefs(refs: z.infer<typeof ParentReference>[], ctx: z.RefinementCtx): void {
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

/** Rule names must be unique within a route (HTTPRouteRule.Name, GRPCRouteRule.Name). */
export function checkRuleNames(rules: { name?: string | undefined }[], ctx: z.RefinementCtx): void {
  if (rules.length < 2) return;
  rules.forEach((r, i) => {
    if (r.name !== undefined && rules.findIndex((o) => o.name === r.name) !== i) {
      violate(ctx, 'Rule name must be unique within the route', ['rules', i, 'name']);
    }
  });
}

/** The key of lists keyed by name (headers, query params): one function for every check. */
export const byName = (e: { name: string }): string => e.name;

export const HeaderMatch = z.strictObject({
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
// HTTPRoute filters

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

export const HTTPFilterList = z
  .array(HTTPRouteFilterSchema)
  .max(16)
  .check(refinement((filters, ctx) => {
    const types = filters.map((f) => f.type);
    if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
      violate(ctx, 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both');
    }
    checkFilterRepeats(types, UniqueHTTPFilters, ctx, []);
  }));

// ---------------------------------------------------------------------------------------------
// GRPCRoute filters

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

export const GRPCFilterList = z
  .array(GRPCRouteFilterSchema)
  .max(16)
  .check(refinement((filters, ctx) => checkFilterRepeats(filters.map((f) => f.type), ['RequestHeaderModifier', 'ResponseHeaderModifier'], ctx, [])));

// ---------------------------------------------------------------------------------------------
// Session persistence (HTTPRoute and GRPCRoute rules)

/**
 * SessionPersistence (experimental, GEP-1619). Both shapes are accepted: v1.6.1
 * (`sessionName`, `cookieConfig`) and main (`cookie`, `header`).
 */
export const SessionPersistence = z
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
