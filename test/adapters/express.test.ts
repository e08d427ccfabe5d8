// gateway-api-router/express: gatewayMiddleware in an Express 5 app on a real server (port 0).
import { createServer, type Server } from 'node:http';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { gatewayMiddleware, type MiddlewareOptions } from '../../src/adapters/express.js';
import { client, closeServer, firstLine, listen, startUpstream, suiteManifests, type Upstream } from './helpers.js';
import { adapterSuite } from './suite.js';

async function serve(options: MiddlewareOptions, extra?: (app: express.Express) => void) {
  const app = express();
  app.set('env', 'test');
  const mw = gatewayMiddleware(options);
  app.use(mw);
  extra?.(app);
  const server: Server = createServer(app);
  const url = await listen(server);
  return {
    url,
    mw,
    router: mw.handler.router,
    close: async () => {
      mw.handler.close();
      await closeServer(server);
    },
  };
}

adapterSuite('Express gatewayMiddleware', (options) => serve(options));

describe('Express gatewayMiddleware: options', () => {
  let up: Upstream;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    up = await startUpstream();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  afterAll(async () => {
    await up.close();
  });

  const local = (app: express.Express) => {
    app.get('/local', (_req, res) => {
      res.json({ from: 'express' });
    });
  };

  it("answers unmatched requests with the spec's 404 by default", async () => {
    const gw = await serve({ manifests: suiteManifests(), backends: { up: up.url } }, local);
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    const r = await c.send('/local');
    expect(r.status).toBe(404);
    expect(firstLine(r.body)).toBe('404 Not Found: no-route');
  });

  it('with fallthrough: true, calls next() for unmatched requests so Express routes answer', async () => {
    const gw = await serve({ manifests: suiteManifests(), backends: { up: up.url }, fallthrough: true }, local);
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    const r = await c.send('/local');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ from: 'express' });
    // Matched requests are still the gateway's.
    expect(JSON.parse((await c.send('/proxy/x')).body).url).toBe('/proxy/x');
    // Unmatched by both: Express's own 404.
    const none = await c.send('/nowhere');
    expect(none.status).toBe(404);
    expect(none.body).not.toContain('no-route');
  });

  it('accepts an existing router via { router, backends }, registering the backends on it', async () => {
    const router = createGateway({ manifests: suiteManifests(), backends: {} });
    expect(router.statusOf('HTTPRoute', 'proxy')?.status.parents[0]?.conditions.find((x) => x.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    const gw = await serve({ router, backends: { up: up.url } });
    const c = client(gw.url);
    opened.push(gw, { close: () => c.close() });
    expect(gw.router).toBe(router);
    const r = await c.send('/proxy/existing');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).url).toBe('/proxy/existing');
    expect(router.route({ method: 'GET', path: '/proxy/existing' })).toMatchObject({ type: 'forward', registered: 'up' });
  });
});
