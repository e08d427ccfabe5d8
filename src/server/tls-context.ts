/**
 * Certificates by SNI for one TLS port: the listener is chosen by the server name with the
 * spec's hostname rules (exact, then longer wildcard, then no hostname; spec digest 3.6 and
 * 9.2), and among its certificates the one whose name covers the server name most precisely
 * ("the longest matching SNI among available certificates MUST be used", digest 1.3).
 * One SecureContext per certificate, built once per serving plan.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { chooseListener, type Certificate, type ServedListener } from '../gateway/serving.js';
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

/** Extra context options shared by every certificate of a port (client-certificate CAs). */
export interface PortTLSOptions {
  /** PEM CA bundle that client certificates must chain to. */
  ca?: string;
}

/** The SecureContexts of one TLS port: chosen per server name. */
export class PortContexts {
  private readonly contexts = new Map<Certificate, SecureContext>();

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
    let ctx = this.contexts.get(cert);
    if (ctx === undefined) {
      ctx = createSecureContext({ cert: cert.cert, key: cert.key, ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}) });
      this.contexts.set(cert, ctx);
    }
    return ctx;
  }

  /**
   * Options for the server's default context: the hostname-less listener's certificate (for
   * clients without SNI), and the port's client CA bundle, which verification reads from it.
   */
  defaultContextOptions(): { cert?: string; key?: string; ca?: string } {
    const l = chooseListener(this.listeners, undefined);
    const cert = l ? chooseCertificate(l, undefined) : null;
    return { ...(cert ? { cert: cert.cert, key: cert.key } : {}), ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}) };
  }
}
