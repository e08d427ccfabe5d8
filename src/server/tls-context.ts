/**
 * Certificates by SNI for one TLS port: the listener is chosen by the server name with the
 * spec's hostname rules (exact, then longer wildcard, then no hostname; spec digest 3.6 and
 * 9.2), and among its certificates the one whose name covers the server name most precisely
 * ("the longest matching SNI among available certificates MUST be used", digest 1.3).
 * One SecureContext per certificate, built once per serving plan.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { chooseListener, type Certificate, type ServedListener } from '../gateway/serving.js';
import type { TLSVersions } from '../model/listeners.js';
import { certificateNameRank } from '../model/hostnames.js';

/** The certificate of a listener that names the server name most precisely; else its first. */
export function chooseCertificate(l: ServedListener, serverName: string | undefined): Certificate | null {
  const certs = l.tls?.certificates ?? [];
  if (serverName === undefined) return certs[0] ?? null;
  let best: Certificate | null = null;
  let rank = Infinity;
  for (const c of certs) {
    for (const n of c.names) {
      const r = certificateNameRank(n, serverName);
      if (r !== null && r < rank) {
        best = c;
        rank = r;
      }
    }
  }
  return best ?? certs[0] ?? null;
}

/** Node's default TLS version range; the options' versions compare as strings (TLSv1.2 < TLSv1.3). */
const DEFAULT_MIN_VERSION = 'TLSv1.2';
const DEFAULT_MAX_VERSION = 'TLSv1.3';

/** Extra context options shared by every certificate of a port (client-certificate CAs). */
export interface PortTLSOptions {
  /** PEM CA bundle that client certificates must chain to. */
  ca?: string;
}

/** The SecureContexts of one TLS port: chosen per server name. */
export class PortContexts {
  /** Per listener (its TLS versions go into the context), per certificate. */
  private readonly contexts = new Map<ServedListener, Map<Certificate, SecureContext>>();

  constructor(
    readonly listeners: readonly ServedListener[],
    private readonly options: PortTLSOptions,
  ) {}

  /** The context for a server name, or null when no listener on this port serves it. */
  contextFor(serverName: string | undefined): SecureContext | null {
    const name = serverName === undefined || serverName === '' ? undefined : serverName.toLowerCase();
    const l = chooseListener(this.listeners, name);
    if (l === null) return null;
    const cert = chooseCertificate(l, name);
    if (cert === null) return null;
    let byCert = this.contexts.get(l);
    if (byCert === undefined) this.contexts.set(l, (byCert = new Map()));
    let ctx = byCert.get(cert);
    if (ctx === undefined) {
      ctx = createSecureContext({ cert: cert.cert, key: cert.key, ...l.tls?.versions, ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}) });
      byCert.set(cert, ctx);
    }
    return ctx;
  }

  /**
   * Options for the server's default context: the hostname-less listener's certificate (for
   * clients without SNI), and the port's client CA bundle, which verification reads from it.
   */
  defaultContextOptions(): { cert?: string; key?: string; ca?: string } & TLSVersions {
    const l = chooseListener(this.listeners, undefined);
    const cert = l ? chooseCertificate(l, undefined) : null;
    return { ...(cert ? { cert: cert.cert, key: cert.key } : {}), ...this.portVersions(), ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}) };
  }

  /**
   * The TLS versions the port negotiates: the widest range of its listeners. OpenSSL chooses the
   * version before the server name selects a context, so a listener's own range is checked
   * after the handshake ({@link acceptsVersion}).
   */
  private portVersions(): TLSVersions {
    const set = this.listeners.map((l) => l.tls?.versions ?? {});
    if (set.every((v) => v.minVersion === undefined && v.maxVersion === undefined)) return {};
    const mins = set.map((v) => v.minVersion ?? DEFAULT_MIN_VERSION);
    const maxes = set.map((v) => v.maxVersion ?? DEFAULT_MAX_VERSION);
    return { minVersion: mins.reduce((a, b) => (b < a ? b : a)), maxVersion: maxes.reduce((a, b) => (b > a ? b : a)) };
  }

  /** True when the TLS version a connection negotiated is within the range of the listener its server name chooses. */
  acceptsVersion(serverName: string | undefined, protocol: string | null): boolean {
    const l = chooseListener(this.listeners, serverName === undefined || serverName === '' ? undefined : serverName.toLowerCase());
    const v = l?.tls?.versions;
    if (!v || protocol === null) return true;
    return (v.minVersion === undefined || protocol >= v.minVersion) && (v.maxVersion === undefined || protocol <= v.maxVersion);
  }
}
