// Issue 9 item 4: createGateway throws only for what an API server would refuse (YAML, schema,
// CEL); with onInvalid: 'skip' even those objects are skipped, the rest is served, and the skipped
// objects are reported in gw.issues, as `kubectl apply` of a set where one object fails.
import { describe, expect, it } from 'vitest';
import { createGateway, GatewayConfigError } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const gateway = `apiVersion: ${G}\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  gatewayClassName: x\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n`;
const svc = `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports: [{port: 80}]\n`;
const route = (name: string, prefix: string, extra = '') =>
  `apiVersion: ${G}\nkind: HTTPRoute\nmetadata:\n  name: ${name}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n  - matches: [{path: {type: PathPrefix, value: ${prefix}}}]\n    backendRefs: [{name: svc, port: 80}]\n${extra}`;

const good = route('good', '/good');
const unknownField = route('typo', '/typo', '    backendRef: []\n'); // schema error: unknown field
const celError = route('cel', '/cel', '    filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]\n'); // CEL: redirect with backendRefs
const brokenYaml = 'kind: [unclosed\n';

describe("onInvalid: 'skip'", () => {
  it("by default ('throw') one invalid object refuses the whole set", () => {
    expect(() => createGateway({ manifests: [gateway, svc, good, unknownField] })).toThrow(GatewayConfigError);
  });

  it('skips the objects an API server would refuse, serves the rest, and lists the skipped ones in gw.issues', () => {
    const gw = createGateway({ manifests: [{ filename: 'gw.yaml', text: gateway }, svc, good, { filename: 'typo.yaml', text: unknownField }, celError, { filename: 'broken.yaml', text: brokenYaml }], onInvalid: 'skip' });
    expect(gw.route({ method: 'GET', path: '/good' })).toMatchObject({ type: 'forward', route: { name: 'good' } });
    expect(gw.route({ method: 'GET', path: '/typo' })).toMatchObject({ type: 'respond', status: 404 });
    expect(gw.route({ method: 'GET', path: '/cel' })).toMatchObject({ type: 'respond', status: 404 });
    expect(gw.statusOf('HTTPRoute', 'typo')).toBeUndefined();
    const errors = gw.issues.filter((i) => i.severity === 'error');
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'GW_MANIFEST_UNKNOWN_FIELD', file: 'typo.yaml', object: expect.objectContaining({ name: 'typo' }) }),
        expect.objectContaining({ code: 'GW_MANIFEST_RULE', input: 5, object: expect.objectContaining({ name: 'cel' }) }),
        expect.objectContaining({ code: 'GW_MANIFEST_YAML', file: 'broken.yaml' }),
      ]),
    );
  });

  it('reload skips the same way, and a later fixed object is served', () => {
    const gw = createGateway({ manifests: [gateway, svc, good], onInvalid: 'skip' });
    const r = gw.reload([gateway, svc, good, unknownField]);
    expect(r.ok).toBe(true);
    expect(r.ok && r.issues.some((i) => i.severity === 'error' && i.object?.name === 'typo')).toBe(true);
    expect(gw.reload([gateway, svc, good, route('typo', '/typo')]).ok).toBe(true);
    expect(gw.route({ method: 'GET', path: '/typo' })).toMatchObject({ type: 'forward', route: { name: 'typo' } });
    expect(gw.issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('still fails when what is left has no Gateway to serve', () => {
    expect(() => createGateway({ manifests: [gateway.replace('port: 80', 'port: 0'), good], onInvalid: 'skip' })).toThrow(expect.objectContaining({ code: 'GW_ERR_GATEWAY_NOT_FOUND' }) as Error);
  });

  it('refuses an unknown onInvalid value', () => {
    expect(() => createGateway({ manifests: [gateway], onInvalid: 'ignore' as never })).toThrow(expect.objectContaining({ code: 'GW_ERR_OPTIONS_INVALID' }) as Error);
  });
});
