// A ResponseHeaderModifier listed after a RequestRedirect still applies to the redirect response:
// the gateway-generated redirect is the rule's response (digest 7.2: "the response from the
// backend (or the gateway-generated one)").
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const manifests = (filters: Record<string, unknown>[]) => [
  { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ filters }] } },
];
const redirect = { type: 'RequestRedirect', requestRedirect: { hostname: 'example.org', statusCode: 301 } };
const header = { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-Moved', value: 'yes' }] } };

describe('RequestRedirect with a ResponseHeaderModifier', () => {
  it.each([
    ['before', [header, redirect]],
    ['after', [redirect, header]],
  ])('applies the modifier listed %s the redirect', (_where, filters) => {
    const d = createGateway({ manifests: manifests(filters) }).route({ method: 'GET', path: '/a', host: 'x.com' });
    expect(d).toMatchObject({ type: 'redirect', status: 301, location: 'http://example.org/a' });
    expect(d.type === 'redirect' && d.responseHeaders).toEqual([{ set: [['x-moved', 'yes']], add: [], remove: [] }]);
  });
});
