// ListenerSet listeners served over real sockets by listen(): a team brings its own hostname and
// certificate to the shared Gateway (spec digest 1.8; GEP-1713), the SNI picks its certificate
// (digest 1.3 "longest matching SNI"), its port opens and closes with reloads. Certificates are
// made in the test by a private CA; every server binds 127.0.0.1 on port 0.
import { beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/server/node-entry.js';
import { caConfigMap, makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { expectPortClosed, G, gateway, httpGet, httpsGet, httpsListener, named, type Obj } from './helpers.js';

let ca: TestCA;
let certs: Record<string, { cert: string; key: string }>;

beforeAll(() => {
  ca = makeCA();
  certs = { main: ca.server(['main.example.com']), team: ca.server(['team.example.com']) };
});

const teamSet: Obj = {
  apiVersion: G,
  kind: 'ListenerSet',
  metadata: { name: 'team', namespace: 'default' },
  spec: {
    parentRef: { name: 'gw' },
    listeners: [httpsListener('secure', 443, 'team.example.com', ['team-cert']), { name: 'plain', port: 8080, protocol: 'HTTP' }],
  },
};

function teamRoute(): Obj {
  return { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'team', namespace: 'default' }, spec: { parentRefs: [{ kind: 'ListenerSet', group: 'gateway.networking.k8s.io', name: 'team' }], rules: [{ backendRefs: [{ name: 'team', port: 8080 }] }] } };
}

function mainRoute(): Obj {
  return { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'main', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'main', port: 8080 }] }] } };
}

function manifests(withTeam: boolean): Obj[] {
  return [
    gateway([{ name: 'http', port: 80, protocol: 'HTTP' }, httpsListener('secure', 443, 'main.example.com', ['main-cert'])], { allowedListeners: { namespaces: { from: 'Same' } } }),
    tlsSecret('main-cert', certs.main!),
    mainRoute(),
    ...(withTeam ? [teamSet, tlsSecret('team-cert', certs.team!), teamRoute()] : []),
  ];
}

const backends = { main: named('main'), team: named('team') };

describe('listen() serves ListenerSet listeners like the Gateway own', () => {
  it('the ListenerSet certificate answers its hostname on the shared port, and its own port opens', async () => {
    const gw = await listen({ manifests: manifests(true), backends, host: '127.0.0.1', ports: { 80: 0, 443: 0, 8080: 0 } });
    try {
      const team = await httpsGet(gw.ports[443]!, { servername: 'team.example.com', host: 'team.example.com', path: '/x', ca: ca.cert });
      expect(team).toMatchObject({ status: 200, body: 'team /x' });
      expect(team.san).toContain('team.example.com');
      const main = await httpsGet(gw.ports[443]!, { servername: 'main.example.com', host: 'main.example.com', path: '/y', ca: ca.cert });
      expect(main).toMatchObject({ status: 200, body: 'main /y' });
      expect(main.san).toContain('main.example.com');
      // Each port serves the routes of its own listeners: 8080 the ListenerSet's, 80 the Gateway's.
      expect(await httpGet(gw.ports[8080]!, 'anything.test', '/z')).toEqual({ status: 200, body: 'team /z' });
      expect(await httpGet(gw.ports[80]!, 'anything.test', '/z')).toEqual({ status: 200, body: 'main /z' });
    } finally {
      await gw.close();
    }
  });

  it('removing the ListenerSet with reload closes its port and drops its certificate; adding it back reopens both', async () => {
    const gw = await listen({ manifests: manifests(true), backends, host: '127.0.0.1', ports: { 80: 0, 443: 0, 8080: 0 } });
    try {
      const p8080 = gw.ports[8080]!;
      expect((await gw.reload(manifests(false))).ok).toBe(true);
      expect(gw.ports[8080]).toBeUndefined();
      await expectPortClosed(p8080);
      // No listener serves team.example.com any more: the handshake for it fails.
      await expect(httpsGet(gw.ports[443]!, { servername: 'team.example.com', host: 'team.example.com', ca: ca.cert })).rejects.toThrow();
      expect((await httpsGet(gw.ports[443]!, { servername: 'main.example.com', host: 'main.example.com', ca: ca.cert, path: '/' })).body).toBe('main /');
      expect((await gw.reload(manifests(true))).ok).toBe(true);
      expect(gw.ports[8080]).toBeGreaterThan(0);
      expect((await httpsGet(gw.ports[443]!, { servername: 'team.example.com', host: 'team.example.com', ca: ca.cert, path: '/' })).body).toBe('team /');
    } finally {
      await gw.close();
    }
  });
});

describe('the Gateway client-certificate validation covers ListenerSet listeners (GEP-91 is per Gateway port)', () => {
  it('a ListenerSet HTTPS listener on a port of its own still requires a client certificate from the Gateway CA', async () => {
    const clientCA = makeCA('client CA');
    const alice = clientCA.client('alice');
    const set: Obj = { ...teamSet, spec: { parentRef: { name: 'gw' }, listeners: [httpsListener('secure', 8443, 'team.example.com', ['team-cert'])] } };
    const m = [
      gateway([{ name: 'http', port: 80, protocol: 'HTTP' }], {
        allowedListeners: { namespaces: { from: 'Same' } },
        tls: { frontend: { default: { validation: { mode: 'AllowValidOnly', caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'client-ca' }] } } } },
      }),
      caConfigMap('client-ca', clientCA.cert),
      set,
      tlsSecret('team-cert', certs.team!),
      teamRoute(),
    ];
    const gw = await listen({ manifests: m, backends, host: '127.0.0.1', ports: { 80: 0, 8443: 0 } });
    try {
      const opts = { servername: 'team.example.com', host: 'team.example.com', path: '/', ca: ca.cert };
      await expect(httpsGet(gw.ports[8443]!, opts)).rejects.toThrow();
      expect(await httpsGet(gw.ports[8443]!, { ...opts, cert: alice.cert, key: alice.key })).toMatchObject({ status: 200, body: 'team /' });
    } finally {
      await gw.close();
    }
  });
});
