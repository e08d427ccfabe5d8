/**
 * Certificates and CA bundles read from Secrets and ConfigMaps: one home for "is this a usable
 * kubernetes.io/tls Secret" (listener status, spec digest 10.4) and for what the servers load.
 * Part of the reference resolution (model/references.ts).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from '../../resources/schemas-gateway.js';

/** A certificate with its key, as the servers load it. */
export interface Certificate {
  /** `namespace/name` of the Secret. */
  ref: string;
  /** PEM certificate chain, leaf first. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** DNS names the leaf is valid for (subjectAltName DNS entries, else the CN), lower-case. */
  names: string[];
}

/** The most PEM text read from one Secret or ConfigMap key; larger values are refused. */
const MAX_PEM_BYTES = 1 << 20;

/** A Secret or ConfigMap value: `data` is base64, `stringData` (Secret only) is plain text. */
function valueOf(data: Record<string, string> | undefined, stringData: Record<string, string> | undefined, key: string, base64: boolean): string | undefined {
  const plain = stringData?.[key];
  if (plain !== undefined) return plain;
  const raw = data?.[key];
  if (raw === undefined) return undefined;
  return base64 ? Buffer.from(raw, 'base64').toString('utf8') : raw;
}

/**
 * Reads a kubernetes.io/tls Secret: `tls.crt` must hold a PEM certificate and `tls.key` the
 * matching PEM private key. Returns the certificate, or why it cannot be used.
 */
export function readCertificate(secret: Secret): Certificate | { error: string } {
  const ref = `${secret.metadata.namespace}/${secret.metadata.name}`;
  if (secret.type !== 'kubernetes.io/tls') return { error: `Secret ${ref} has type ${secret.type}, not kubernetes.io/tls` };
  const cert = valueOf(secret.data, secret.stringData, 'tls.crt', true);
  const key = valueOf(secret.data, secret.stringData, 'tls.key', true);
  if (cert === undefined || key === undefined) return { error: `Secret ${ref} lacks ${cert === undefined ? 'tls.crt' : 'tls.key'}` };
  if (cert.length > MAX_PEM_BYTES || key.length > MAX_PEM_BYTES) return { error: `Secret ${ref} holds more than 1 MiB of PEM` };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    return { error: `Secret ${ref} tls.crt is not a PEM certificate` };
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) return { error: `Secret ${ref} tls.key does not match the certificate in tls.crt` };
  } catch {
    return { error: `Secret ${ref} tls.key is not a PEM private key` };
  }
  return { ref, cert, key, names: dnsNames(leaf) };
}

/** The DNS names of a certificate: subjectAltName DNS entries, else the subject CN. */
function dnsNames(c: X509Certificate): string[] {
  const san = c.subjectAltName;
  if (san) {
    const names = san.split(', ').filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
    if (names.length > 0) return names;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(c.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/**
 * Reads a PEM CA bundle (one or more certificates) from a ConfigMap's or Secret's `ca.crt`.
 * Returns the bundle, or why it cannot be used.
 */
export function readCABundle(obj: { kind: string; metadata: { namespace?: string | undefined; name: string }; data?: Record<string, string> | undefined; stringData?: Record<string, string> | undefined }): { pem: string } | { error: string } {
  const ref = `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
  const pem = valueOf(obj.data, obj.stringData, 'ca.crt', obj.kind === 'Secret');
  if (pem === undefined) return { error: `${ref} has no ca.crt` };
  if (pem.length > MAX_PEM_BYTES) return { error: `${ref} ca.crt holds more than 1 MiB of PEM` };
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return { error: `${ref} ca.crt holds no PEM certificate` };
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch {
      return { error: `${ref} ca.crt holds a certificate that does not parse` };
    }
  }
  return { pem: blocks.join('\n') };
}
