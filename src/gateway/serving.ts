/**
 * The serving plan: what `listen()` opens for the served Gateway. Built with the snapshot, so a
 * reload yields a new plan and the servers see the change by identity.
 */
import type { RouteModel } from '../model/attach.js';
import type { GatewayModel } from '../model/gateways.js';
import { check } from '../model/conditions.js';
import { hostMatches, hostnameRank } from '../model/hostnames.js';
import type { FrontendValidation, ListenerModel, TLSVersions } from '../model/listeners.js';
import type { BackendTLS, BackendTLSPolicyModel } from '../model/references.js';
import type { Certificate } from '../model/refs/certificates.js';

export type { BackendTLS, Certificate, FrontendValidation };

/** A programmed listener as the servers open it. */
export interface ServedListener {
  name: string;
  port: number;
  protocol: string;
  /** Listener hostname; null means any host. */
  hostname: string | null;
  /** `namespace/name` of the ListenerSet that declares the listener; absent for the Gateway's own. */
  listenerSet?: string;
  /**
   * TLS settings (HTTPS and TLS listeners): the mode, the certificates of every certificateRef,
   * the client-certificate validation of the listener's port (GEP-91), if any, and the TLS
   * versions its `tls.options` allow.
   */
  tls: { mode: 'Terminate' | 'Passthrough'; certificates: Certificate[]; frontend: FrontendValidation | null; versions: TLSVersions } | null;
  /** TLSRoutes attached to a TLS listener, in precedence order (digest 5.4); empty for other protocols. */
  tlsRoutes: ServedTLSRoute[];
}

/** A TLSRoute as a TLS listener serves it: one entry per hostname it answers there. */
export interface ServedTLSRoute {
  /** The intersection of listener and route hostname; null for any server name. */
  hostname: string | null;
  namespace: string;
  name: string;
  createdAt: number;
  /**
   * Its backendRefs: the registered key (undefined when the ref did not resolve or nobody
   * registered it: its share is refused), whether the ref resolved (status ResolvedRefs), and the weight.
   */
  backends: { key: string | undefined; resolved: boolean; weight: number; service: { namespace: string; name: string; port: number | undefined } }[];
}

/** What `listen()` opens for the served Gateway: its programmed listeners with their TLS material. */
export interface ServingPlan {
  /** `namespace/name` of the Gateway. */
  gateway: string;
  /** Programmed listeners: the Gateway's own in spec order, then its ListenerSets' in merged order (spec digest 1.8). */
  listeners: ServedListener[];
  /**
   * BackendTLSPolicies in effect, by target: `namespace/name:port` for a policy whose targetRef
   * names a port (sectionName), `namespace/name` for one that covers every port. Null when no
   * policy applies (the proxy then reads nothing per request).
   */
  backendTLS: Record<string, BackendTLS> | null;
  /** The client certificate presented to backends under a BackendTLSPolicy (GEP-3155), if configured and resolved. */
  backendClientCertificate: Certificate | null;
}

/**
 * The serving plan of a Gateway model: its programmed listeners, its ListenerSets' included,
 * whose certificateRefs all resolved to usable certificates.
 */
export function buildServing(gw: GatewayModel, routes: readonly RouteModel[], policies: readonly BackendTLSPolicyModel[] = []): ServingPlan {
  const listeners: ServedListener[] = [];
  for (const l of gw.merged) {
    if (!l.programmed) continue;
    const served: ServedListener = { name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname ?? null, tls: l.tls, tlsRoutes: l.protocol === 'TLS' ? tlsRoutesOf(gw.key, l, routes) : [] };
    if (l.owner.kind === 'ListenerSet') served.listenerSet = l.owner.key;
    listeners.push(served);
  }
  // Conflicting policies were resolved in the model (GEP-713: oldest, then namespace/name); the
  // loser no longer lists the target it lost.
  const backendTLS: Record<string, BackendTLS> = {};
  for (const p of policies) {
    if (!p.tls) continue;
    for (const t of p.targets) {
      const k = t.port === undefined ? `${t.namespace}/${t.name}` : `${t.namespace}/${t.name}:${t.port}`;
      // A refused policy (no CA: requests fail) applies only where no accepted one does.
      const prior = backendTLS[k];
      if (prior === undefined || (prior.refused !== undefined && p.tls.refused === undefined)) backendTLS[k] = p.tls;
    }
  }
  return { gateway: gw.key, listeners, backendTLS: Object.keys(backendTLS).length > 0 ? backendTLS : null, backendClientCertificate: gw.backendClientCertificate };
}

/** The BackendTLSPolicy that applies to a backend, if any: one naming its port first, then one for every port. */
export function backendTLSFor(plan: ServingPlan, b: { namespace: string; name: string; port: number | undefined }): BackendTLS | undefined {
  const all = plan.backendTLS;
  if (all === null) return undefined;
  return (b.port !== undefined ? all[`${b.namespace}/${b.name}:${b.port}`] : undefined) ?? all[`${b.namespace}/${b.name}`];
}

/**
 * The TLSRoutes accepted on one listener, most specific hostname first: exact, then the longer
 * wildcard; equal hostnames by age, then namespace/name (spec digest 5.4).
 */
function tlsRoutesOf(gatewayKey: string, listener: ListenerModel, routes: readonly RouteModel[]): ServedTLSRoute[] {
  const out: ServedTLSRoute[] = [];
  /** `namespace/name` and hostname of the entries in `out`: a route listed twice (two parentRefs) is served once per hostname. */
  const listed = new Set<string>();
  for (const r of routes) {
    if (r.kind !== 'TLSRoute') continue;
    const backends = (r.rules[0]?.backends ?? []).map((b) => ({ key: b.state === 'ok' ? b.registered : undefined, resolved: b.state === 'ok', weight: b.weight, service: { namespace: b.namespace, name: b.name, port: b.port } }));
    for (const p of r.parents) {
      if (!p.accepted || p.gatewayKey !== gatewayKey) continue;
      for (const a of p.listeners) {
        if (a.listener !== listener) continue;
        for (const h of a.hostnames) {
          const key = `${r.namespace}/${r.name}\u0000${h ?? ''}\u0000${h === undefined ? 'any' : 'host'}`;
          if (!listed.has(key)) {
            listed.add(key);
            out.push({ hostname: h ?? null, namespace: r.namespace, name: r.name, createdAt: r.createdAt, backends });
          }
        }
      }
    }
  }
  const rank = (h: string | null) => (h === null ? 1_000_000 : h.startsWith('*.') ? 1000 - h.length : 0);
  return out.sort((a, b) => rank(a.hostname) - rank(b.hostname) || a.createdAt - b.createdAt || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** The most specific listener for a server name (undefined: the client sent no SNI), or null. */
export function chooseListener(listeners: readonly ServedListener[], serverName: string | undefined): ServedListener | null {
  let best: ServedListener | null = null;
  let rank = Infinity;
  for (const l of listeners) {
    const r = hostnameRank(l.hostname, serverName);
    if (r !== null && r < rank) {
      best = l;
      rank = r;
    }
  }
  return best;
}

/**
 * Routes a TLS connection by its server name (spec digest 9.2): the most specific listener, then
 * its first TLSRoute whose hostname matches, then a weighted pick among the route's backendRefs.
 * `backend` is the registered key, undefined when the picked share cannot be served; `picked`
 * the backendRef itself (its Service, for a BackendTLSPolicy). Null when
 * no listener or route serves the name: the connection is refused.
 */
export function routeTLS(listeners: readonly ServedListener[], serverName: string | null, random: () => number): { listener: ServedListener; route: ServedTLSRoute; backend: string | undefined; picked: ServedTLSRoute['backends'][number] | undefined } | null {
  const sni = serverName ?? undefined;
  const listener = chooseListener(listeners, sni);
  if (listener === null) return null;
  const route = listener.tlsRoutes.find((r) => r.hostname === null || (sni !== undefined && hostMatches(r.hostname, sni)));
  if (route === undefined) return null;
  let total = 0;
  for (const b of route.backends) total += b.weight;
  if (total === 0) return { listener, route, backend: undefined, picked: undefined };
  let draw = random() * total;
  for (const b of route.backends) {
    draw -= b.weight;
    if (draw < 0) return { listener, route, backend: b.key, picked: b };
  }
  const last = route.backends[route.backends.length - 1]!;
  return { listener, route, backend: last.key, picked: last };
}

/** Who terminates TLS for the Gateway's HTTPS and TLS listeners (GatewayOptions.tlsTermination). */
export type TLSTermination = 'listen' | 'external';

/**
 * The condition `gateway-api-router.dev/TLSEnforced` on every HTTPS and TLS listener: status
 * says whether the listener's certificates, client-certificate validation and TLSRoute
 * passthrough are enforced, and by whom. A handler behind the user's own server routes
 * requests but sees none of the TLS handshake, so without `listen()` or a declaration the
 * condition is False (docs/listeners.md).
 */
export function markTLSEnforcement(gateways: readonly GatewayModel[], mode: TLSTermination | undefined): void {
  const type = 'gateway-api-router.dev/TLSEnforced';
  const c =
    mode === 'listen'
      ? check(type, 'True', 'ServedByListen', 'listen() serves this listener: its certificates, client-certificate validation and TLSRoute passthrough are enforced')
      : mode === 'external'
        ? check(type, 'True', 'TerminatedExternally', 'TLS is declared terminated before this process (option tlsTermination: external); that terminator must apply this listener\'s certificates and client-certificate validation')
        : check(type, 'False', 'NotEnforced', "This process does not open this listener: the certificates, client-certificate validation and TLSRoute passthrough in effect are those of the server in front of the handler. Serve with listen(), or declare tlsTermination: 'external'");
  for (const g of gateways) {
    for (const l of g.merged) if (l.protocol === 'HTTPS' || l.protocol === 'TLS') l.checks.push(c);
  }
}
