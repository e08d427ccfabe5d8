/**
 * Warnings: manifests and options that load but are likely mistakes, so that a typo does not
 * silently turn into 404s and 503s. They are issues with severity `warning` (docs/errors.md),
 * never errors: a cluster accepts the same objects.
 */
import { closest } from '../../errors.js';
import type { Issue } from '../../types.js';
import type { Model } from '../../model/attach.js';
import type { Resource } from '../../resources/load.js';
import { GatewayGroup } from '../../resources/schemas-shared.js';

/**
 * How many warnings of each code carry a "did you mean" (docs/errors.md). Each suggestion compares
 * the name with every candidate, so suggesting for every one of thousands of missing backends
 * (say 50,000 routes to missing Services among 12,500) would make a load quadratic; later warnings
 * of the code have the plain message.
 */
export const SUGGESTION_LIMIT = 100;

/**
 * The warnings of one load: parentRefs to Gateways that are not in the manifests, backendRefs
 * with neither a Service nor a registered backend, and registered backends no backendRef uses.
 */
export function findWarnings(model: Model, resources: readonly Resource[], backendKeys: ReadonlySet<string> | undefined): Issue[] {
  // Runs over every backendRef at every load, and most loads warn about nothing: the common
  // path allocates nothing per route. Labels, Service names and issue objects are built only
  // for what is reported.
  const issues: Issue[] = [];
  const gateways = [...model.gateways.map((g) => g.key), ...model.foreignGateways.map((g) => g.key)];
  let known: Set<string> | undefined; // for many Gateways; a few are compared in place (isKnown)
  const used = new Set<string>();
  const objectOf = (route: Model['routes'][number]) => ({ apiVersion: route.resource.apiVersion, kind: route.kind, namespace: route.namespace, name: route.name });
  let servicesByNs: Map<string, string[]> | undefined;
  let registered: string[] | undefined;
  let parentsLeft = SUGGESTION_LIMIT;
  let backendsLeft = SUGGESTION_LIMIT;
  let unusedLeft = SUGGESTION_LIMIT;
  const routes = model.routes;
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r]!;
    const refs = route.resource.spec.parentRefs ?? [];
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      if (ref.group !== GatewayGroup || ref.kind !== 'Gateway') continue;
      const ns = ref.namespace ?? route.namespace;
      if (gateways.length <= 8 ? isKnown(gateways, ns, ref.name) : (known ??= new Set(gateways)).has(`${ns}/${ref.name}`)) continue;
      const near = parentsLeft-- > 0 ? closest(ref.name, gateways.filter((k) => k.startsWith(`${ns}/`)).map((k) => k.slice(ns.length + 1))) : undefined;
      issues.push({
        code: 'GW_MANIFEST_PARENT_NOT_FOUND',
        severity: 'warning',
        object: objectOf(route),
        path: `spec.parentRefs[${i}].name`,
        message: `parentRef ${ns}/${ref.name} names a Gateway that is not in the manifests, so the route is not attached there${near ? `; did you mean ${near}?` : '.'}`,
      });
    }
    for (let k = 0; k < route.rules.length; k++) {
      const rule = route.rules[k]!;
      if (backendKeys !== undefined) {
        for (const b of rule.backends) if (b.registered !== undefined) used.add(b.registered);
        for (const b of rule.mirrors) if (b.registered !== undefined) used.add(b.registered);
      }
      for (let j = 0; j < rule.backends.length; j++) {
        const b = rule.backends[j]!;
        if (b.reason !== 'BackendNotFound') continue;
        let near: string | undefined;
        if (backendsLeft-- > 0) {
          servicesByNs ??= serviceNames(resources);
          registered ??= [...(backendKeys ?? [])].map((k) => k.replace(/^[^/]*\//, '').replace(/:\d+$/, ''));
          near = closest(b.name, [...(servicesByNs.get(b.namespace) ?? []), ...registered].filter((n) => n !== b.name));
        }
        issues.push({
          code: 'GW_MANIFEST_BACKEND_NOT_FOUND',
          severity: 'warning',
          object: objectOf(route),
          path: `spec.rules[${rule.index}].backendRefs[${j}]`,
          message: `${b.message ?? `backendRef ${b.namespace}/${b.name} does not resolve`}${near ? `; did you mean ${near}?` : '.'}`.replace('.;', ';'),
        });
      }
    }
  }
  let labels: string[] | undefined;
  for (const key of backendKeys ?? []) {
    if (used.has(key)) continue;
    labels ??= backendLabels(model);
    const near = unusedLeft-- > 0 ? closest(key, labels) : undefined;
    issues.push({
      code: 'GW_OPTION_BACKEND_UNUSED',
      severity: 'warning',
      path: `backends['${key}']`,
      message: `The option backends has the key '${key}', which no backendRef uses${near ? `; did you mean '${near}'?` : '; keys are name, name:port or namespace/name:port of a backendRef.'}`,
    });
  }
  return issues;
}

/** Service names by namespace, for "did you mean" (built once, on the first missing backend). */
function serviceNames(resources: readonly Resource[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of resources) {
    if (r.kind !== 'Service') continue;
    const ns = r.metadata.namespace!;
    const list = out.get(ns);
    if (list) list.push(r.metadata.name);
    else out.set(ns, [r.metadata.name]);
  }
  return out;
}

/** `name` or `name:port` of every backendRef and mirror, for "did you mean" on an unused backends key. */
function backendLabels(model: Model): string[] {
  const labels: string[] = [];
  for (const route of model.routes) {
    for (const rule of route.rules) {
      for (const b of rule.backends) labels.push(`${b.name}${b.port !== undefined ? `:${b.port}` : ''}`);
      for (const b of rule.mirrors) labels.push(`${b.name}${b.port !== undefined ? `:${b.port}` : ''}`);
    }
  }
  return labels;
}

/**
 * Warnings for option names a JavaScript caller passed that the function does not know (a typo
 * TypeScript would have caught), with the closest known name.
 */
export function unknownOptionWarnings(options: object, known: readonly string[], fn: string): Issue[] {
  return Object.keys(options)
    .filter((k) => !known.includes(k))
    .map((k) => {
      const near = closest(k, known);
      return { code: 'GW_OPTION_UNKNOWN', severity: 'warning', path: k, message: `${fn} has no option ${k}; it is ignored${near ? `. Did you mean ${near}?` : '.'}` } satisfies Issue;
    });
}

/**
 * Whether `namespace/name` is one of `keys` (a few Gateway keys). Compared in place, with no key
 * built per parentRef: this runs for every route at every load.
 */
function isKnown(keys: readonly string[], namespace: string, name: string): boolean {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k.length === namespace.length + 1 + name.length && k.startsWith(namespace) && k.charCodeAt(namespace.length) === 47 /* / */ && k.endsWith(name)) return true;
  }
  return false;
}
