// Certificates made in the test: a private CA (openssl CLI, EC P-256 keys, so it is fast) signs
// leaf certificates for servers and clients. node:crypto cannot sign X.509 certificates itself.
// Everything lives in a temporary directory removed when the process exits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  /** PEM certificate (leaf first, no chain). */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface TestCA extends KeyPair {
  /** A server certificate for these names: DNS names, and URIs (`spiffe://...`) as URI SANs (the first is also the CN). */
  server(names: string[], opts?: { days?: number }): KeyPair;
  /** A client certificate with this CN. */
  client(cn: string): KeyPair;
}

const dirs: string[] = [];
process.once('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

let serial = 0;

/** A new private certificate authority. */
export function makeCA(cn = 'gateway-api-router test CA'): TestCA {
  const dir = mkdtempSync(join(tmpdir(), 'gw-ca-'));
  dirs.push(dir);
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const issue = (cn: string, ext: string, days: number): KeyPair => {
    const n = ++serial;
    writeFileSync(join(dir, `${n}.ext`), ext);
    openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(1000 + n), '-days', String(days), '-extfile', `${n}.ext`, '-out', `${n}.crt`]);
    return { cert: readFileSync(join(dir, `${n}.crt`), 'utf8'), key: readFileSync(join(dir, `${n}.key`), 'utf8') };
  };
  return {
    cert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    key: readFileSync(join(dir, 'ca.key'), 'utf8'),
    server: (names, opts) => issue(names[0]!, `subjectAltName=${names.map((n) => (n.includes('://') ? `URI:${n}` : `DNS:${n}`)).join(',')}\nextendedKeyUsage=serverAuth\n`, opts?.days ?? 2),
    client: (cn) => issue(cn, 'extendedKeyUsage=clientAuth\n', 2),
  };
}

/** A kubernetes.io/tls Secret manifest holding a key pair. */
export function tlsSecret(name: string, pair: KeyPair, namespace = 'default'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
  };
}

/** A ConfigMap manifest holding a CA bundle under `ca.crt`. */
export function caConfigMap(name: string, pem: string, namespace = 'default'): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { 'ca.crt': pem } };
}
