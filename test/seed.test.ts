// The seed scenario (examples/README.md): Cilium's Gateway API guide, verbatim manifests.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGateway, loadManifests, type Decision, type GatewayRouter } from '../src/index.js';
import { seeded } from './conformance/runner.js';

const examples = new URL('../examples/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, examples), 'utf8');

function bookinfo(): GatewayRouter {
  return createGateway({ manifests: [read('basic-http.yaml'), read('bookinfo-services.yaml')] });
}

const backendOf = (d: Decision) => (d.type === 'forward' ? `${d.backend.name}:${d.backend.port}` : `${d.status}`);

describe('seed manifests load', () => {
  it.each(readdirSync(examples).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml')))('%s loads with no issues at all', (file) => {
    const r = loadManifests(read(file), { filename: file });
    expect(r.issues).toEqual([]);
    expect(r.resources.length).toBeGreaterThan(0);
  });

  it('bookinfo-services.yaml skips Deployments and ServiceAccounts quietly and keeps the 4 Services', () => {
    const r = loadManifests(read('bookinfo-services.yaml'));
    expect(r.resources.map((x) => `${x.kind}/${x.metadata.name}`)).toEqual(['Service/details', 'Service/ratings', 'Service/reviews', 'Service/productpage']);
  });

  it('the Gateways are Accepted and Programmed with an address, and the routes Accepted with attachedRoutes 1 (README item 5)', () => {
    for (const [files, gwName, route] of [
      [['basic-http.yaml', 'bookinfo-services.yaml'], 'my-gateway', 'http-app-1'],
      [['splitting.yaml', 'echo-services.yaml'], 'cilium-gw', 'example-route-1'],
    ] as const) {
      const gw = createGateway({ manifests: files.map(read) });
      const s = gw.statusOf('Gateway', gwName);
      if (s?.kind !== 'Gateway') throw new Error('no Gateway status');
      expect(s.status.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'Programmed=True']);
      expect(s.status.addresses.length).toBeGreaterThan(0);
      expect(s.status.listeners[0]!.attachedRoutes).toBe(1);
      const r = gw.statusOf('HTTPRoute', route);
      if (r?.kind !== 'HTTPRoute') throw new Error('no route status');
      expect(r.status.parents[0]!.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'ResolvedRefs=True']);
    }
  });
});

describe('seed requests (examples/README.md)', () => {
  const gw = bookinfo();

  it('1. GET /details/1 (any Host) -> http-app-1 rule 0 -> details:9080', () => {
    for (const host of [undefined, 'example.com', 'localhost:8080']) {
      const d = gw.route({ method: 'GET', path: '/details/1', ...(host ? { host } : {}) });
      expect(d).toMatchObject({ type: 'forward', route: { name: 'http-app-1' }, rule: { index: 0 }, backend: { name: 'details', port: 9080 } });
    }
  });

  it('2. GET /?great=example with magic: foo -> rule 1 -> productpage:9080', () => {
    const d = gw.route({ method: 'GET', path: '/?great=example', headers: { magic: 'foo' } });
    expect(d).toMatchObject({ type: 'forward', rule: { index: 1 }, backend: { name: 'productpage', port: 9080 } });
  });

  it('3. GET / without header or query -> 404; POST with both -> 404 (the rule requires GET)', () => {
    expect(backendOf(gw.route({ method: 'GET', path: '/' }))).toBe('404');
    expect(backendOf(gw.route({ method: 'GET', path: '/?great=example' }))).toBe('404');
    expect(backendOf(gw.route({ method: 'GET', path: '/', headers: { magic: 'foo' } }))).toBe('404');
    expect(backendOf(gw.route({ method: 'POST', path: '/?great=example', headers: { magic: 'foo' } }))).toBe('404');
  });
});

describe('seed splits (examples/README.md item 4)', () => {
  it('50/50 with a seeded RNG stays within 1 percentage point of 50% over 10,000 requests', () => {
    const gw = createGateway({ manifests: [read('splitting.yaml'), read('echo-services.yaml')], random: seeded(1) });
    let echo1 = 0;
    for (let i = 0; i < 10_000; i++) if (backendOf(gw.route({ method: 'GET', path: '/echo' })) === 'echo-1:8080') echo1++;
    expect(Math.abs(echo1 / 10_000 - 0.5)).toBeLessThanOrEqual(0.01);
  });

  it('99/1 with the smooth picker is exactly 99:1 in every 100 consecutive requests', () => {
    const gw = createGateway({ manifests: [read('splitting-99-1.yaml'), read('echo-services.yaml')], picker: 'smooth' });
    const seq = Array.from({ length: 1000 }, () => backendOf(gw.route({ method: 'GET', path: '/echo' })));
    expect(new Set(seq)).toEqual(new Set(['echo-1:8080', 'echo-2:8090']));
    for (let start = 0; start + 100 <= seq.length; start++) {
      const window = seq.slice(start, start + 100);
      expect(window.filter((b) => b === 'echo-2:8090').length, `window at ${start}`).toBe(1);
    }
  });

  it('reloading 50/50 -> 99/1 changes the split in place', () => {
    const gw = createGateway({ manifests: [read('splitting.yaml'), read('echo-services.yaml')], picker: 'smooth' });
    const count = () => Array.from({ length: 100 }, () => backendOf(gw.route({ method: 'GET', path: '/echo' }))).filter((b) => b === 'echo-2:8090').length;
    expect(count()).toBe(50);
    expect(gw.reload([read('splitting-99-1.yaml'), read('echo-services.yaml')]).ok).toBe(true);
    expect(count()).toBe(1);
  });
});
