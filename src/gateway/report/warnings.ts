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
 * The warnings of one load: parentRefs to Gateways that are not in the manifests, backendRefs
 * with neither a Service nor a registered backend, and registered backends no backendRef uses.
 */
export function findWarnings(model: Model, resources: readonly Resource[], backendKeys: ReadonlySet<string> | undefined): Issue[] {
  const issues: Issue[] = [];
  const gateways = [...model.gateways.map((g) => g.key), ...model.foreignGateways.map((g) => g.key)];
  const known = new Set(gateways);
  const used = new Set<string>();
  const labels: string[] = [];
  for (const route of model.routes) {
    const object = { apiVersion: route.resource.apiVersion, kind: route.kind, namespace: route.namespace, name: route.name };
    (route.resource.spec.parentRefs ?? []).forEach((ref, i) => {
      if (ref.group !== GatewayGroup || ref.kind !== 'Gateway') return;
      const ns = ref.namespace ?? route.namespace;
      if (known.has(`${ns}/${ref.name}`)) return;
      const near = closest(ref.name, gateways.filter((k) => k.startsWith(`${ns}/`)).map((k) => k.slice(ns.length + 1)));
      issues.push({
        code: 'GW_MANIFEST_PARENT_NOT_FOUND',
        severity: 'warning',
        object,
        path: `spec.parentRefs[${i}].name`,
        message: `parentRef ${ns}/${ref.name} names a Gateway that is not in the manifests, so the route is not attached there${near ? `; did you mean ${near}?` : '.'}`,
      });
    });
    for (const rule of route.rules) {
      for (const b of [...rule.backends, ...rule.mirrors]) {
        labels.push(`${b.name}${b.port !== undefined ? `:${b.port}` : ''}`);
        if (b.registered !== undefined) used.add(b.registered);
      }
      rule.backends.forEach((b, j) => {
        if (b.reason !== 'BackendNotFound') return;
        const services = resources.filter((r) => r.kind === 'Service' && r.metadata.namespace === b.namespace).map((r) => r.metadata.name);
        const registered = [...(backendKeys ?? [])].map((k) => k.replace(/^[^/]*\//, '').replace(/:\d+$/, ''));
        const near = closest(b.name, [...services, ...registered].filter((n) => n !== b.name));
        issues.push({
          code: 'GW_MANIFEST_BACKEND_NOT_FOUND',
          severity: 'warning',
          object,
          path: `spec.rules[${rule.index}].backendRefs[${j}]`,
          message: `${b.message ?? `backendRef ${b.namespace}/${b.name} does not resolve`}${near ? `; did you mean ${near}?` : '.'}`.replace('.;', ';'),
        });
      });
    }
  }
  for (const key of backendKeys ?? []) {
    if (used.has(key)) continue;
    const near = closest(key, labels);
    issues.push({
      code: 'GW_OPTION_BACKEND_UNUSED',
      severity: 'warning',
      path: `backends['${key}']`,
      message: `The option backends has the key '${key}', which no backendRef uses${near ? `; did you mean '${near}'?` : '; keys are name, name:port or namespace/name:port of a backendRef.'}`,
    });
  }
  return issues;
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
