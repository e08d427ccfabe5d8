// Warnings for mistakes that still load (docs/errors.md, "Warnings about likely mistakes"):
// each names the place and, for typos, the closest correct name.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createGateway, type Issue } from '../../src/index.js';
import { createHandler } from '../../src/adapters/node.js';
import { gatewayMiddleware } from '../../src/adapters/express.js';
import { fastifyGateway } from '../../src/adapters/fastify.js';

const read = (f: string) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');
const basic = read('basic-http.yaml');
const services = read('bookinfo-services.yaml');
const warnings = (issues: readonly Issue[]) => issues.filter((i) => i.severity === 'warning');

describe('manifest warnings', () => {
  it('the seed examples load without any warning', () => {
    expect(createGateway({ manifests: [basic, services] }).issues).toEqual([]);
    expect(createGateway({ manifests: [read('splitting.yaml'), read('echo-services.yaml')] }).issues).toEqual([]);
  });

  it('a parentRef to a Gateway that does not exist, with the closest name', () => {
    const gw = createGateway({ manifests: [basic.replace('  - name: my-gateway\n    namespace: default', '  - name: my-gateway\n    namespace: default\n  - name: my-gatway'), services] });
    expect(warnings(gw.issues)).toEqual([
      {
        code: 'GW_MANIFEST_PARENT_NOT_FOUND',
        severity: 'warning',
        object: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespace: 'default', name: 'http-app-1' },
        path: 'spec.parentRefs[1].name',
        message: 'parentRef default/my-gatway names a Gateway that is not in the manifests, so the route is not attached there; did you mean my-gateway?',
      },
    ]);
  });

  it('a backendRef with neither a Service nor a registered backend, with the closest Service', () => {
    const gw = createGateway({ manifests: [basic.replace('- name: details', '- name: detials'), services] });
    const [w, ...rest] = warnings(gw.issues);
    expect(rest).toEqual([]);
    expect(w).toMatchObject({ code: 'GW_MANIFEST_BACKEND_NOT_FOUND', path: 'spec.rules[0].backendRefs[0]', object: { kind: 'HTTPRoute', name: 'http-app-1' } });
    expect(w!.message).toContain('default/detials:9080 is not in the manifests');
    expect(w!.message).toContain('did you mean details?');
  });

  it('with registered backends, a Service that no backend serves is reported too (its share answers 503)', () => {
    const gw = createGateway({ manifests: [basic, services], backends: { 'details:9080': true } });
    expect(warnings(gw.issues).map((i) => [i.code, i.path])).toEqual([['GW_MANIFEST_BACKEND_NOT_FOUND', 'spec.rules[1].backendRefs[0]']]);
  });
});

describe('suggestions are bounded (docs/errors.md: the first 100 warnings of each code)', () => {
  // Each suggestion compares a name with every candidate: unbounded, many typos would make a load quadratic.
  const G = 'gateway.networking.k8s.io/v1';
  const gateway = { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } };
  const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
  const route = (i: number, backend: string, parent = 'gw') => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name: `r${i}` }, spec: { parentRefs: [{ name: parent }], rules: [{ backendRefs: [{ name: backend, port: 80 }] }] } });
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('missing backends: the first 100 name the closest Service, later ones get the plain message', () => {
    // Route i names bakend-i; the only Service within one edit is backend-i.
    const gw = createGateway({ manifests: [gateway, ...range(150).map((i) => svc(`backend-${i}`)), ...range(150).map((i) => route(i, `bakend-${i}`))] });
    const messages = warnings(gw.issues).map((w) => [w.code, w.message]);
    expect(messages).toHaveLength(150);
    for (const i of range(150)) {
      const [code, message] = messages[i]!;
      expect(code).toBe('GW_MANIFEST_BACKEND_NOT_FOUND');
      expect(message).toContain(`default/bakend-${i}:80 is not in the manifests`);
      if (i < 100) expect(message).toMatch(new RegExp(`; did you mean backend-${i}\\?$`));
      else expect(message).not.toContain('did you mean');
    }
  });

  it('missing Gateways and unused backends keys: the same bound, per code', () => {
    const gws = range(120).map((i) => ({ ...gateway, metadata: { name: `gateway-${i}` } }));
    const backends = Object.fromEntries(range(120).map((i) => [`backend-${i}x:80`, true]));
    const gw = createGateway({ manifests: [...gws, svc('backend'), ...range(120).map((i) => route(i, 'backend', `gatway-${i}`))], backends: { ...backends, 'backend:80': true }, gateway: { namespace: 'default', name: 'gateway-0' } });
    const parents = warnings(gw.issues).filter((w) => w.code === 'GW_MANIFEST_PARENT_NOT_FOUND');
    expect(parents).toHaveLength(120);
    expect(parents.map((w) => w.message.endsWith(`did you mean gateway-${String(w.object?.name).slice(1)}?`))).toEqual(range(120).map((i) => i < 100));
    const unused = warnings(gw.issues).filter((w) => w.code === 'GW_OPTION_BACKEND_UNUSED');
    expect(unused).toHaveLength(120);
    expect(unused.map((w) => w.message.endsWith("did you mean 'backend:80'?"))).toEqual(range(120).map((i) => i < 100));
  });
});

describe('option warnings', () => {
  it('a backends key that matches no backendRef, with the closest backendRef', () => {
    const gw = createGateway({ manifests: [basic, services], backends: { 'details:9080': true, 'productpage:9080': true, 'detials:9080': true } });
    expect(warnings(gw.issues)).toEqual([
      { code: 'GW_OPTION_BACKEND_UNUSED', severity: 'warning', path: "backends['detials:9080']", message: "The option backends has the key 'detials:9080', which no backendRef uses; did you mean 'details:9080'?" },
    ]);
  });

  it('unknown option names of JavaScript callers, with the closest option', () => {
    const gw = createGateway({ manifests: [basic, services], pickr: 'smooth' } as never);
    expect(warnings(gw.issues)).toEqual([{ code: 'GW_OPTION_UNKNOWN', severity: 'warning', path: 'pickr', message: 'createGateway has no option pickr; it is ignored. Did you mean picker?' }]);
  });

  it('createHandler and gatewayMiddleware know their own options, and name themselves', () => {
    const backends = { 'details:9080': () => {}, 'productpage:9080': () => {} };
    expect(createHandler({ manifests: [basic, services], backends, maxMirrorsInFlight: 1, port: 80 }).router.issues).toEqual([]);
    const h = createHandler({ manifests: [basic, services], backends, watchh: 'x' } as never);
    expect(h.router.issues.map((i) => i.message)).toEqual(['createHandler has no option watchh; it is ignored. Did you mean watch?']);
    expect(gatewayMiddleware({ manifests: [basic, services], backends, fallthrough: true }).handler.router.issues).toEqual([]);
    const mw = gatewayMiddleware({ manifests: [basic, services], backends, fallthough: true } as never);
    expect(mw.handler.router.issues.map((i) => i.message)).toEqual(['gatewayMiddleware has no option fallthough; it is ignored. Did you mean fallthrough?']);
  });

  it('fastifyGateway accepts its registration options (prefix) and reports typos', async () => {
    const app = Fastify();
    await app.register(fastifyGateway, { manifests: [basic, services], backends: { 'details:9080': () => {}, 'productpage:9080': () => {} }, prefix: '/x', fallthrogh: true } as never);
    expect(app.gateway.router.issues.map((i) => i.message)).toEqual(['fastifyGateway has no option fallthrogh; it is ignored. Did you mean fallthrough?']);
    await app.close();
  });
});
