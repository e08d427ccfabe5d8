// Express conventions (issue 12 item 6): the middleware mounted under a path, fall-through with
// the decision already set, in-process backend errors to next(err), and a body parser placed
// before the gateway detected instead of silently forwarding an empty body. Real sockets.
import type { AddressInfo } from 'node:net';
import { request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayMiddleware } from '../../src/adapters/express.js';
import type { BackendHandler } from '../../src/adapters/node.js';
import { httpRouteYaml } from '../support/manifests.js';

const MANIFESTS = httpRouteYaml(`  - matches: [{ path: { type: PathPrefix, value: /api/details } }]
    backendRefs: [{ name: details, port: 80 }]
  - matches: [{ path: { type: PathPrefix, value: /api/boom } }]
    backendRefs: [{ name: boom, port: 80 }]`);

const backends: Record<string, BackendHandler> = {
  'details:80': (req, res) => res.end(`details saw ${req.method} ${req.url}`),
  'boom:80': () => {
    throw new Error('boom backend failed');
  },
};

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serve(app: express.Express): Promise<string> {
  server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const errorHandler = (err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => res.status(502).end(`error handler: ${err.code ?? ''} ${err.message}`);

describe('Express: mounted under a path', () => {
  it('routes on the full path, forwards it, and falls through with req.url as Express set it and the decision set', async () => {
    const app = express();
    app.use('/api', gatewayMiddleware({ manifests: MANIFESTS, backends, fallthrough: true }));
    app.use('/api', (req: Request & { gatewayDecision?: { type: string; status?: number } }, res: Response) => {
      res.end(`fell through: url ${req.url} originalUrl ${req.originalUrl} decision ${req.gatewayDecision?.type} ${req.gatewayDecision?.status}`);
    });
    const base = await serve(app);
    expect(await (await fetch(`${base}/api/details/1?x=1`)).text()).toBe('details saw GET /api/details/1?x=1');
    expect(await (await fetch(`${base}/api/other`)).text()).toBe('fell through: url /other originalUrl /api/other decision respond 404');
  });

  it('inside a mounted Router, unmatched requests reach the router\'s own routes', async () => {
    const app = express();
    const router = express.Router();
    router.use(gatewayMiddleware({ manifests: MANIFESTS, backends, fallthrough: true }));
    router.get('/mine', (req, res) => res.end(`router route ${req.url} ${req.originalUrl}`));
    app.use('/api', router);
    const base = await serve(app);
    expect(await (await fetch(`${base}/api/mine`)).text()).toBe('router route /mine /api/mine');
    expect(await (await fetch(`${base}/api/details/7`)).text()).toBe('details saw GET /api/details/7');
  });
  it('takes only what is under the mount once normalised: /api/../details is /details, outside /api, and goes on untouched (as the Fastify prefix)', async () => {
    const app = express();
    app.use('/api', gatewayMiddleware({ manifests: MANIFESTS, backends }));
    app.use((req: Request & { gatewayDecision?: unknown }, res: Response) => res.status(404).end(`app 404 for ${req.originalUrl}, decision ${String(req.gatewayDecision)}`));
    const base = await serve(app);
    // fetch would resolve the dot segments itself: send the target as written.
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const u = new URL(base);
        request({ host: u.hostname, port: u.port, path }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject).end();
      });
    expect(await get('/api/../api/details/2')).toEqual({ status: 200, body: 'details saw GET /api/details/2' });
    expect(await get('/api/../details/2')).toEqual({ status: 404, body: 'app 404 for /api/../details/2, decision undefined' });
    expect(await get('/api/%2e%2e/details/2')).toEqual({ status: 404, body: 'app 404 for /api/%2e%2e/details/2, decision undefined' });
  });
});

describe('Express: errors', () => {
  it("with passErrors, an in-process backend's exception reaches the app's error handler through next(err)", async () => {
    const app = express();
    app.use(gatewayMiddleware({ manifests: MANIFESTS, backends, passErrors: true }));
    app.use(errorHandler);
    const base = await serve(app);
    const r = await fetch(`${base}/api/boom`);
    expect(r.status).toBe(502);
    expect(await r.text()).toBe('error handler:  boom backend failed');
  });

  it('a body parser before the gateway is detected: next(err) with GW_ERR_BODY_CONSUMED (passErrors), else a generic 500, never an empty forwarded body', async () => {
    const app = express();
    app.use(express.json());
    app.use(gatewayMiddleware({ manifests: MANIFESTS, backends, passErrors: true }));
    app.use(errorHandler);
    const base = await serve(app);
    const r = await fetch(`${base}/api/details/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(r.status).toBe(502);
    expect(await r.text()).toMatch(/^error handler: GW_ERR_BODY_CONSUMED The request body of POST \/api\/details\/1 was read before the gateway/);
    // A body-less request is unaffected by the parser.
    expect(await (await fetch(`${base}/api/details/2`)).text()).toBe('details saw GET /api/details/2');
    // Without passErrors: a generic 500, the detail to onError.
    const errors: string[] = [];
    const plain = express();
    plain.use(express.json());
    plain.use(gatewayMiddleware({ manifests: MANIFESTS, backends, onError: (e) => errors.push(e.message) }));
    const server2 = await new Promise<Server>((r) => {
      const s = plain.listen(0, '127.0.0.1', () => r(s));
    });
    try {
      const p = await fetch(`http://127.0.0.1:${(server2.address() as AddressInfo).port}/api/details/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(p.status).toBe(500);
      expect(await p.text()).toBe('500 Internal Server Error: body-consumed\n');
      expect(errors[0]).toContain('was read before the gateway');
    } finally {
      await new Promise<void>((r) => server2.close(() => r()));
    }
  });

  it('with the gateway before the body parser, the body is forwarded intact', async () => {
    const app = express();
    app.use(gatewayMiddleware({ manifests: MANIFESTS, backends: { ...backends, 'details:80': (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => res.end(`details got ${body}`));
    } }, fallthrough: true }));
    app.use(express.json());
    const base = await serve(app);
    const r = await fetch(`${base}/api/details/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await r.text()).toBe('details got {"a":1}');
  });
});
