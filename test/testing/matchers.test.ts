// gateway-api-router/testing: the toRoute matcher (registered with expect.extend, as users do),
// backendOf, sampleSplit and gw.inject.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { backendOf, gatewayMatchers, sampleSplit, toRouteRequest, type GatewayMatchers } from '../../src/testing/matchers.js';
import { createHandler } from '../../src/adapters/node.js';
import { httpRouteYaml } from '../support/manifests.js';

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends GatewayMatchers<T> {}
}

expect.extend(gatewayMatchers);

const read = (f: string) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');
const bookinfo = () => createGateway({ manifests: [read('basic-http.yaml'), read('bookinfo-services.yaml')] });

const FILTERS = `${httpRouteYaml(`  - matches: [{ path: { type: PathPrefix, value: /old } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: x-env, value: prod }]
        remove: [x-debug]
    - type: URLRewrite
      urlRewrite: { hostname: internal.example.com, path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } }
    backendRefs: [{ name: svc, port: 80 }]
  - matches: [{ path: { type: PathPrefix, value: /moved } }]
    filters:
    - type: RequestRedirect
      requestRedirect: { hostname: example.org, statusCode: 301 }`)}---
apiVersion: v1
kind: Service
metadata: { name: svc }
spec: { ports: [{ port: 80 }] }
`;

describe('toRoute', () => {
  it('passes for the seed requests, with a backend string or an expectation object', () => {
    const gw = bookinfo();
    expect(gw).toRoute({ method: 'GET', path: '/details/1' }, 'details:9080');
    expect(gw).toRoute('GET /details/1', 'details');
    expect(gw).toRoute({ path: '/?great=example', headers: { magic: 'foo' } }, { backend: 'productpage:9080', status: 200 });
    expect(gw).toRoute('POST /?great=example', { status: 404 });
    expect(gw).not.toRoute('GET /', 'productpage:9080');
  });

  it('fails with what differs and the explain() table', () => {
    const gw = bookinfo();
    let message = '';
    try {
      expect(gw).toRoute({ method: 'POST', path: '/?great=example', headers: { magic: 'foo' } }, 'productpage:9080');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('expected POST /?great=example to route to productpage:9080');
    expect(message).toContain('reaches 404, expected productpage:9080');
    expect(message).toContain('Candidates (precedence order):');
    expect(message).toContain('method POST is not GET');
  });

  it('.not fails with the explain() table when the request does reach it', () => {
    expect(() => expect(bookinfo()).not.toRoute('GET /details/1', 'details:9080')).toThrow(/not to route to details:9080, but it does\.\n\nRequest: {2}GET/);
  });

  it('accepts anything with a .router (a node handler), and refuses what is not a gateway', () => {
    const handler = createHandler({ manifests: [read('basic-http.yaml')], backends: { 'details:9080': () => {} } });
    expect(handler).toRoute('GET /details/1', 'details:9080');
    expect(() => expect({}).toRoute('GET /', '404')).toThrow(/toRoute expects a gateway/);
  });

  it('checks redirects and the headers and path the backend sees', () => {
    const gw = createGateway({ manifests: FILTERS });
    expect(gw).toRoute('GET http://a.example/moved/x', { status: 301, redirect: 'http://example.org/moved/x' });
    expect(gw).toRoute({ path: '/old/a?q=1', headers: { 'x-debug': '1' } }, { backend: 'svc:80', path: '/new/a?q=1', headers: { 'X-Env': 'prod', 'x-debug': null, host: 'internal.example.com' } });
    expect(gw).not.toRoute({ path: '/old/a', headers: { 'x-debug': '1' } }, { headers: { 'x-debug': '1' } });
  });

  it('checks a weighted split within a tolerance', () => {
    const gw = createGateway({ manifests: [read('splitting-99-1.yaml'), read('echo-services.yaml')], picker: 'smooth' });
    expect(gw).toRoute('GET /echo', { split: { 'echo-1:8080': 99, 'echo-2:8090': 1 }, tolerance: 0.001 });
    expect(gw).not.toRoute('GET /echo', { split: { 'echo-1:8080': 50, 'echo-2:8090': 50 } });
    expect(gw).not.toRoute('GET /echo', { split: { 'echo-1:8080': 100 } });
  });
});

describe('helpers', () => {
  it('backendOf: name:port for a forward, else the status', () => {
    const gw = bookinfo();
    expect(backendOf(gw.route({ method: 'GET', path: '/details/1' }))).toBe('details:9080');
    expect(backendOf(gw.route({ method: 'GET', path: '/' }))).toBe('404');
  });

  it('sampleSplit: the share of each outcome over n requests', () => {
    const gw = createGateway({ manifests: [read('splitting.yaml'), read('echo-services.yaml')], picker: 'smooth' });
    expect(sampleSplit(gw, 'GET /echo', 100)).toEqual({ 'echo-1:8080': 0.5, 'echo-2:8090': 0.5 });
    expect(sampleSplit(gw, 'GET /nope', 10)).toEqual({ '404': 1 });
  });

  it('toRouteRequest: URLs are split, never normalised', () => {
    expect(toRouteRequest('post https://h.example:8443/a/../b?x=1')).toEqual({ method: 'POST', scheme: 'https', host: 'h.example:8443', path: '/a/../b?x=1' });
    expect(toRouteRequest({ path: '/p', headers: { a: 'b' } })).toEqual({ method: 'GET', path: '/p', headers: { a: 'b' } });
  });

  it('gw.inject: what the backend receives after every filter; null when not forwarded', () => {
    const gw = createGateway({ manifests: FILTERS });
    const seen = gw.inject({ method: 'GET', path: '/old/a?q=1', host: 'a.example', headers: { 'X-Debug': '1', accept: 'text/plain' } });
    expect(seen).toEqual({
      backend: { group: '', kind: 'Service', namespace: 'default', name: 'svc', port: 80 },
      method: 'GET',
      path: '/new/a?q=1',
      host: 'internal.example.com',
      scheme: 'http',
      headers: { accept: 'text/plain', 'x-env': 'prod', host: 'internal.example.com' },
    });
    expect(gw.inject({ method: 'GET', path: '/moved' })).toBeNull();
    expect(gw.inject({ method: 'GET', path: '/nothing' })).toBeNull();
  });
});
