// gateway-api-router/fastify: the plugin through a real listen (port 0) and through inject.
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { fastifyGateway, type FastifyGatewayOptions } from '../../src/adapters/fastify.js';
import { client, configMapVolume, firstLine, sleep, startSuiteServers, suiteBackends, suiteManifests, waitFor, watchYaml, type SuiteServers } from './helpers.js';
import { adapterSuite } from './suite.js';

async function build(options: FastifyGatewayOptions, extra?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(fastifyGateway, options);
  extra?.(app);
  await app.ready();
  return app;
}

async function serve(options: FastifyGatewayOptions, extra?: (app: FastifyInstance) => void) {
  const app = await build(options, extra);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, router: app.gateway.router, close: () => app.close() };
}

adapterSuite('Fastify plugin (listen)', (options) => serve(options));

const local = (app: FastifyInstance) => {
  app.get('/local', async () => ({ from: 'fastify' }));
};

describe('Fastify plugin through inject', () => {
  let s: SuiteServers;
  let app: FastifyInstance;
  const errors: { status: number; reason: string }[] = [];
  beforeAll(async () => {
    s = await startSuiteServers();
    app = await build({ manifests: suiteManifests(), backends: suiteBackends(s), onError: (e) => errors.push(e) }, local);
  });
  afterAll(async () => {
    await app?.close();
    await s?.close();
  });

  it('proxies to a real upstream, with X-Forwarded-* and the Host header unmodified', async () => {
    const r = await app.inject({ method: 'POST', url: '/proxy/inject?q=1', headers: { host: 'app.example.com', 'content-type': 'text/plain' }, payload: 'injected body' });
    expect(r.statusCode).toBe(200);
    const seen = r.json();
    expect(seen).toMatchObject({ method: 'POST', url: '/proxy/inject?q=1', body: 'injected body' });
    expect(seen.headers).toMatchObject({ host: 'app.example.com', 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'http' });
    expect(seen.headers['x-forwarded-for']).toBeTypeOf('string');
  });

  it('applies response header modifiers, redirects and CORS preflights', async () => {
    const mod = await app.inject({ url: '/modify/x', headers: { host: 'app.example.com' } });
    expect(mod.headers['x-gw']).toBe('set-by-gateway');
    expect(mod.headers['x-remove-me']).toBeUndefined();
    const redirect = await app.inject({ url: '/redirect/x', headers: { host: 'app.example.com' } });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('http://new.example.com/redirect/x');
    const pre = await app.inject({ method: 'OPTIONS', url: '/cors/x', headers: { host: 'app.example.com', origin: 'https://app.example.com', 'access-control-request-method': 'GET' } });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it("answers the gateway's own errors with short bodies naming the reason", async () => {
    const notFound = await app.inject({ url: '/local', headers: { host: 'app.example.com' } });
    expect(notFound.statusCode).toBe(404);
    expect(firstLine(notFound.body)).toBe('404 Not Found: no-route');
    const refused = await app.inject({ url: '/dead/x' });
    expect(refused.statusCode).toBe(503);
    expect(firstLine(refused.body)).toBe('503 Service Unavailable: upstream-refused');
    const destroyed = await app.inject({ url: '/proxy/destroy' });
    expect(destroyed.statusCode).toBe(502);
    expect(firstLine(destroyed.body)).toBe('502 Bad Gateway: upstream-failure');
    const timeout = await app.inject({ url: '/t-backend/slow' });
    expect(timeout.statusCode).toBe(504);
    expect(firstLine(timeout.body)).toBe('504 Gateway Timeout: upstream-timeout');
    const ghost = await app.inject({ url: '/ghost' });
    expect(ghost.statusCode).toBe(503);
    expect(firstLine(ghost.body)).toBe('503 Service Unavailable: backend-unavailable');
  });

  it('serves in-process backends', async () => {
    const r = await app.inject({ url: '/inproc/x', headers: { host: 'app.example.com' } });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('in-process GET /inproc/x host=app.example.com');
  });

  it('exposes app.gateway.route/explain/status/reload', async () => {
    expect(app.gateway.route({ method: 'GET', path: '/proxy/a' })).toMatchObject({ type: 'forward', registered: 'up' });
    expect(app.gateway.explain({ method: 'GET', path: '/proxy/a' }).decision).toEqual(app.gateway.route({ method: 'GET', path: '/proxy/a' }));
    const ghost = app.gateway.status.items.find((i) => i.kind === 'HTTPRoute' && i.metadata.name === 'ghost');
    expect(JSON.stringify(ghost)).toContain('BackendNotFound');
    const only: [number, number] = [0, 1];
    expect(app.gateway.reload(suiteManifests(only)).ok).toBe(true);
    expect(app.gateway.route({ method: 'GET', path: '/split' })).toMatchObject({ registered: 'default/green:80' });
    expect((await app.inject({ url: '/split/x' })).json().url).toBe('/green/split/x');
    expect(app.gateway.reload('not: [valid').ok).toBe(false);
    expect(app.gateway.route({ method: 'GET', path: '/split' })).toMatchObject({ registered: 'default/green:80' });
    expect(app.gateway.reload(suiteManifests()).ok).toBe(true);
  });
});

describe('Fastify plugin: fallthrough and existing router', () => {
  let s: SuiteServers;
  const opened: { close(): Promise<unknown> }[] = [];
  beforeAll(async () => {
    s = await startSuiteServers();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  afterAll(async () => {
    await s?.close();
  });

  it("answers requests no route matches with the spec's 404 by default, even for Fastify's own routes", async () => {
    const gw = await serve({ manifests: suiteManifests(), backends: suiteBackends(s) }, local);
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    const r = await c.send('/local');
    expect(r.status).toBe(404);
    expect(firstLine(r.body)).toBe('404 Not Found: no-route');
  });

  it('with fallthrough: true, lets Fastify routes answer unmatched requests', async () => {
    const gw = await serve({ manifests: suiteManifests(), backends: suiteBackends(s), fallthrough: true }, local);
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    const r = await c.send('/local');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ from: 'fastify' });
    expect(JSON.parse((await c.send('/proxy/x', { method: 'POST', body: 'still proxied' })).body)).toMatchObject({ url: '/proxy/x', body: 'still proxied' });
    const none = await c.send('/nowhere');
    expect(none.status).toBe(404);
    expect(none.body).not.toContain('no-route');
    // The same through inject.
    expect((await gw.app.inject({ url: '/local' })).json()).toEqual({ from: 'fastify' });
  });

  it('accepts an existing router via { router, backends }', async () => {
    const router = createGateway({ manifests: suiteManifests(), backends: {} });
    const gw = await serve({ router, backends: suiteBackends(s) });
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    expect(gw.app.gateway.router).toBe(router);
    expect(router.statusOf('HTTPRoute', 'proxy')?.status.parents[0]?.conditions.find((x) => x.type === 'ResolvedRefs')).toMatchObject({ status: 'True' });
    expect(JSON.parse((await c.send('/proxy/existing')).body).url).toBe('/proxy/existing');
  });
});

describe('Fastify plugin: watch', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-fastify-watch-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads on a ConfigMap ..data swap, and stops watching when the app closes', async () => {
    const which = (name: string) => (_req: IncomingMessage, res: ServerResponse) => {
      res.end(name);
    };
    const vol = configMapVolume(dir, watchYaml('one'));
    const reloads: boolean[] = [];
    const app = await build({ manifests: watchYaml('one'), watch: join(vol.root, 'routes.yaml'), backends: { one: which('one'), two: which('two'), three: which('three') }, onReload: (r) => reloads.push(r.ok) });
    try {
      expect((await app.inject({ url: '/w' })).body).toBe('one');
      vol.swap(watchYaml('two'));
      await waitFor(() => reloads.length > 0, 5_000, 'the reload');
      expect(reloads).toEqual([true]);
      expect((await app.inject({ url: '/w' })).body).toBe('two');
    } finally {
      await app.close();
    }
    vol.swap(watchYaml('three'));
    await sleep(300);
    expect(reloads).toEqual([true]);
    expect(app.gateway.route({ method: 'GET', path: '/w' })).toMatchObject({ registered: 'two' });
  });
});
