/**
 * TLS to backends: BackendTLSPolicy (GEP-1897), verified as the policy says (the policy's
 * hostname as SNI, its CA bundle or the system CAs, its hostname or subjectAltNames, and the
 * Gateway's client certificate when it has one, GEP-3155), and the backends that need TLS.
 */
import { createHash } from 'node:crypto';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { backendTLSFor, type BackendTLS, type Certificate, type ServingPlan } from '../../gateway/serving.js';
import type { ForwardDecision } from '../../types.js';
import type { UpstreamOptions } from './pool.js';

/** The Service appProtocol of WebSocket over TLS (GEP-1911): the upstream is reached with `wss`. */
const WSS_APP_PROTOCOL = 'kubernetes.io/wss';

/** How a forward reaches its backend: under a BackendTLSPolicy (`policy`), or refused. */
export type BackendTLSChoice = { refused?: undefined; policy: BackendTLS | undefined } | { refused: string };

/**
 * The TLS a forward to its registered `url` must use: the BackendTLSPolicy that applies to the
 * backend, if any. A policy that cannot verify the backend (no caCertificateRef resolves) refuses
 * it. A backend that needs TLS (a policy applies, or its Service port's appProtocol
 * is `kubernetes.io/wss`) registered with a URL that is not `https:` is refused: sending in
 * clear what the manifests say is encrypted would ignore them. Every protocol (HTTP/1.1 requests,
 * upgrades) asks here.
 */
export function backendTLSOf(serving: ServingPlan, d: Pick<ForwardDecision, 'backend'>, url: string): BackendTLSChoice {
  const policy = backendTLSFor(serving, d.backend);
  const b = d.backend;
  // A policy that cannot verify its backend (no CA resolves) fails the request, never sends it unverified.
  if (policy?.refused !== undefined) return { refused: `BackendTLSPolicy ${policy.policy} applies to ${b.namespace}/${b.name} but cannot verify it: ${policy.refused}` };
  if (url.startsWith('https:')) return { policy };
  if (policy !== undefined) return { refused: `BackendTLSPolicy ${policy.policy} applies to ${b.namespace}/${b.name} but its registered URL is not https` };
  if (b.appProtocol === WSS_APP_PROTOCOL) return { refused: `${b.namespace}/${b.name} has appProtocol ${WSS_APP_PROTOCOL} (WebSocket over TLS) but its registered URL is not https` };
  return { policy };
}

/**
 * TLS client options for a backend under a BackendTLSPolicy: the policy's hostname as SNI, its CA
 * bundle (or the system CAs), its hostname or subjectAltNames checked, and the Gateway's client
 * certificate when it has one (GEP-3155).
 */
export function backendTLSOptions(tls: BackendTLS, clientCertificate: Certificate | null): ConnectionOptions & { servername: string } {
  return {
    ...(tls.ca !== null ? { ca: tls.ca } : {}),
    // GEP-3155: the Gateway's client certificate, for backends that ask for one.
    ...(clientCertificate !== null ? { cert: clientCertificate.cert, key: clientCertificate.key } : {}),
    rejectUnauthorized: true,
    servername: tls.hostname,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => verifyBackendIdentity(tls, cert),
  };
}

/**
 * The identity of the TLS settings a connection to a backend is made under: the policy (name,
 * CA bundle, hostname, subjectAltNames) and the client certificate, by content. A reload makes
 * new policy objects; one whose settings did not change keeps the same id, so its connections
 * (and long gRPC streams) survive the reload, and only replaced settings retire theirs.
 */
export function backendTLSId(tls: BackendTLS, clientCertificate: Certificate | null): string {
  const cached = ids.get(tls);
  if (cached !== undefined && cached.cert === clientCertificate) return cached.id;
  const content = JSON.stringify([tls.policy, tls.ca, tls.hostname, tls.subjectAltNames, tls.refused ?? null, clientCertificate?.cert ?? null, clientCertificate?.key ?? null]);
  const id = createHash('sha256').update(content).digest('base64url');
  ids.set(tls, { cert: clientCertificate, id });
  return id;
}
const ids = new WeakMap<BackendTLS, { cert: Certificate | null; id: string }>();

/** The backendTLSIds a serving plan uses: connections made under any other are retired. */
export function liveBackendTLSIds(plan: ServingPlan): Set<string> {
  const live = new Set<string>();
  for (const tls of Object.values(plan.backendTLS ?? {})) live.add(backendTLSId(tls, plan.backendClientCertificate));
  return live;
}

/** How long an idle connection to a backend under a BackendTLSPolicy stays open, in ms (as the pools' keep-alive). */
const KEEP_ALIVE_MS = 10_000;

/**
 * Closes an undici dispatcher: requests in flight finish, then its connections close; after
 * `drainMs` whatever is left is destroyed (a stalled exchange must not hold it forever).
 */
export function closeDispatcher(d: { close(): Promise<void>; destroy(): Promise<void> }, drainMs: number): void {
  let done = false;
  const t = setTimeout(() => {
    if (!done) d.destroy().catch(() => {});
  }, drainMs);
  t.unref();
  d.close().then(
    () => {
      done = true;
      clearTimeout(t);
    },
    () => {},
  );
}

/**
 * The TLS dispatchers of one adapter instance for backends under a BackendTLSPolicy: one undici
 * Agent per TLS settings (backendTLSId) and upstream. The Agents of settings a reload replaced
 * or removed are closed by retire() (undici's close lets their requests in flight finish, then
 * closes their connections; the drain bound cuts the rest), and all of them by close().
 */
export class BackendTLSAgents {
  private readonly byId = new Map<string, Map<UpstreamOptions, UpstreamOptions & { dispatcher: Agent }>>();

  /**
   * @param defaultConnections connections per origin when the upstream sets none.
   * @param drainMs how long a closed Agent may finish its requests before it is destroyed.
   */
  constructor(
    private readonly defaultConnections: number,
    private readonly drainMs: number,
  ) {}

  /**
   * The upstream options for a backend under a BackendTLSPolicy: its own options with a
   * dispatcher that sends the policy's hostname as SNI and verifies the certificate against the
   * policy's CA bundle (or the system CAs) and its hostname or subjectAltNames, presenting the
   * Gateway's client certificate when it has one.
   */
  forBackend(plan: ServingPlan, spec: UpstreamOptions, tls: BackendTLS): UpstreamOptions {
    const id = backendTLSId(tls, plan.backendClientCertificate);
    let byUpstream = this.byId.get(id);
    if (!byUpstream) this.byId.set(id, (byUpstream = new Map()));
    let out = byUpstream.get(spec);
    if (!out) {
      const { servername, ...options } = backendTLSOptions(tls, plan.backendClientCertificate);
      const connector = buildConnector(options as buildConnector.BuildOptions);
      const dispatcher = new Agent({ connections: spec.connections ?? this.defaultConnections, keepAliveTimeout: KEEP_ALIVE_MS, connect: (opts, cb) => connector({ ...opts, servername }, cb) });
      byUpstream.set(spec, (out = { ...spec, dispatcher }));
    }
    return out;
  }

  /** Closes the Agents of TLS settings not in `live` (a reload replaced or removed them). */
  retire(live: ReadonlySet<string>): void {
    for (const [id, byUpstream] of this.byId) {
      if (live.has(id)) continue;
      this.byId.delete(id);
      for (const u of byUpstream.values()) closeDispatcher(u.dispatcher, this.drainMs);
    }
  }

  /** Closes every Agent (idle connections at once, busy ones when their request ends, within the drain bound). */
  close(): void {
    for (const byUpstream of this.byId.values()) for (const u of byUpstream.values()) closeDispatcher(u.dispatcher, this.drainMs);
    this.byId.clear();
  }
}

/** The certificate must name the policy's hostname, or one of its subjectAltNames when it lists any. */
function verifyBackendIdentity(tls: BackendTLS, cert: PeerCertificate): Error | undefined {
  if (tls.subjectAltNames.length === 0) return checkServerIdentity(tls.hostname, cert);
  const sans = (cert.subjectaltname ?? '').split(', ');
  for (const san of tls.subjectAltNames) {
    if (san.type === 'Hostname' && checkServerIdentity(san.value, cert) === undefined) return undefined;
    if (san.type === 'URI' && sans.includes(`URI:${san.value}`)) return undefined;
  }
  return new Error(`the backend certificate names none of the subjectAltNames of BackendTLSPolicy ${tls.policy}`);
}
