/**
 * BackendTLSPolicy (GEP-1897): TLS to the backend, verified as the policy says: the policy's
 * hostname as SNI, its CA bundle (or the system CAs), its hostname or subjectAltNames, and the
 * Gateway's client certificate when it has one (GEP-3155).
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import type { BackendTLS, Certificate } from '../../gateway/serving.js';
import { UPSTREAM_DEFAULTS, type UpstreamOptions } from './pool.js';

const tlsUpstreams = new WeakMap<BackendTLS, WeakMap<UpstreamOptions, UpstreamOptions>>();

/**
 * The upstream options for a backend under a BackendTLSPolicy: its own options with a
 * dispatcher that sends the policy's hostname as SNI and verifies the certificate against the
 * policy's CA bundle (or the system CAs) and its hostname or subjectAltNames, presenting the
 * Gateway's client certificate when it has one. Built once per policy object and upstream (a
 * reload makes new policy objects, so new dispatchers).
 */
export function withBackendTLS(spec: UpstreamOptions, tls: BackendTLS, clientCertificate: Certificate | null): UpstreamOptions {
  let byUpstream = tlsUpstreams.get(tls);
  if (!byUpstream) tlsUpstreams.set(tls, (byUpstream = new WeakMap()));
  let out = byUpstream.get(spec);
  if (!out) {
    const connector = buildConnector({
      ...(tls.ca !== null ? { ca: tls.ca } : {}),
      // GEP-3155: the Gateway's client certificate, for backends that ask for one.
      ...(clientCertificate !== null ? { cert: clientCertificate.cert, key: clientCertificate.key } : {}),
      rejectUnauthorized: true,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => verifyBackendIdentity(tls, cert),
    } as buildConnector.BuildOptions);
    const dispatcher = new Agent({ connections: spec.connections ?? UPSTREAM_DEFAULTS.connections, connect: (opts, cb) => connector({ ...opts, servername: tls.hostname }, cb) });
    byUpstream.set(spec, (out = { ...spec, dispatcher }));
  }
  return out;
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
