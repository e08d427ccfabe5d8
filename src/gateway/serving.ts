/**
 * The serving plan: what `listen()` opens for the served Gateway. Built with the snapshot, so a
 * reload yields a new plan and the servers see the change by identity.
 */
import type { GatewayModel } from '../model/gateways.js';
import type { FrontendValidation } from '../model/listeners.js';
import type { Certificate } from '../model/references.js';

export type { Certificate, FrontendValidation };

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
   * and the client-certificate validation of the listener's port (GEP-91), if any.
   */
  tls: { mode: 'Terminate' | 'Passthrough'; certificates: Certificate[]; frontend: FrontendValidation | null } | null;
}

/** What `listen()` opens for the served Gateway: its programmed listeners with their TLS material. */
export interface ServingPlan {
  /** `namespace/name` of the Gateway. */
  gateway: string;
  /** Programmed listeners: the Gateway's own in spec order, then its ListenerSets' in merged order (spec digest 1.8). */
  listeners: ServedListener[];
}

/**
 * The serving plan of a Gateway model: its programmed listeners, its ListenerSets' included,
 * whose certificateRefs all resolved to usable certificates.
 */
export function buildServing(gw: GatewayModel): ServingPlan {
  const listeners: ServedListener[] = [];
  for (const l of gw.merged) {
    if (!l.programmed) continue;
    const served: ServedListener = { name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname ?? null, tls: l.tls };
    if (l.owner.kind === 'ListenerSet') served.listenerSet = l.owner.key;
    listeners.push(served);
  }
  return { gateway: gw.key, listeners };
}
