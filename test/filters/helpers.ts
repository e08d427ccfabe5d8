// Shared manifest builders for the filter tests (spec digest sections 7 and 8). Everything is
// plain objects handed to createGateway; nothing here reaches into src/ internals.
import { createGateway, type Decision, type ForwardDecision, type GatewayOptions, type GatewayRouter, type RedirectDecision, type RespondDecision } from '../../src/index.js';
import { seeded } from '../support/random.js';
import { fixedTLSData } from '../support/fixed-cert.js';

export type Obj = Record<string, unknown>;
export const G = 'gateway.networking.k8s.io';

/** The Services every test may reference, all in `default` and listening on 8080. */
export const SERVICES = ['web', 'web-2', 'stable', 'canary', 'mirror-1', 'mirror-2', 'mirror-3'] as const;

export const service = (name: string, port = 8080): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port }] } });

export const secret = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/tls', data: fixedTLSData() });

export const httpListener = (port = 80, name = `http-${port}`): Obj => ({ name, port, protocol: 'HTTP' });
export const httpsListener = (port = 443, name = `https-${port}`): Obj => ({ name, port, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }] } });

export function gatewayObj(listeners: Obj[]): Obj {
  return { apiVersion: `${G}/v1`, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'router', listeners } };
}

export function routeObj(rules: Obj[], o: { name?: string; hostnames?: string[] } = {}): Obj {
  return {
    apiVersion: `${G}/v1`,
    kind: 'HTTPRoute',
    metadata: { name: o.name ?? 'filters', namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], ...(o.hostnames ? { hostnames: o.hostnames } : {}), rules },
  };
}

/** Manifests: one Gateway (HTTP :80 unless told), the shared Services, a TLS Secret, and the route. */
export function manifests(rules: Obj[], o: { listeners?: Obj[]; routeName?: string; hostnames?: string[] } = {}): Obj[] {
  return [
    gatewayObj(o.listeners ?? [httpListener(80)]),
    secret('cert'),
    ...SERVICES.map((s) => service(s)),
    routeObj(rules, { ...(o.routeName !== undefined ? { name: o.routeName } : {}), ...(o.hostnames ? { hostnames: o.hostnames } : {}) }),
  ];
}

/** createGateway over {@link manifests}; extra options (random, sticky, extensions...) pass through. */
export function gw(rules: Obj[], o: { listeners?: Obj[]; hostnames?: string[] } & Omit<GatewayOptions, 'manifests'> = {}): GatewayRouter {
  const { listeners, hostnames, ...options } = o;
  return createGateway({
    ...options,
    manifests: manifests(rules, { ...(listeners ? { listeners } : {}), ...(hostnames ? { hostnames } : {}) }),
  });
}

/** A backendRef to one of the shared Services. */
export const ref = (name: string, extra: Obj = {}): Obj => ({ name, port: 8080, ...extra });

export const prefix = (value: string): Obj => ({ path: { type: 'PathPrefix', value } });


export function asForward(d: Decision): ForwardDecision {
  if (d.type !== 'forward') throw new Error(`expected a forward decision, got ${d.type} ${'status' in d ? d.status : ''} ${'reason' in d ? `${d.reason}: ${d.message}` : ''}`);
  return d;
}

export function asRedirect(d: Decision): RedirectDecision {
  if (d.type !== 'redirect') throw new Error(`expected a redirect decision, got ${d.type} ${'reason' in d ? `${d.reason}: ${d.message}` : ''}`);
  return d;
}

export function asRespond(d: Decision): RespondDecision {
  if (d.type !== 'respond') throw new Error(`expected a respond decision, got ${d.type}`);
  return d;
}

export { seeded };
