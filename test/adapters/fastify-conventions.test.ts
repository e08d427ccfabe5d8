// Fastify conventions (issue 12 item 6): the plugin under a `prefix` (only requests under it, the
// full path routed and forwarded, as Express's mounting does), several gateways in one app (same
// context, encapsulated children), the app's onSend/onResponse hooks on gateway answers, and the
// gateway's 5xx detail logged through request.log. Through inject and a real listen (port 0).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable, type Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { fastifyGateway } from '../../src/adapters/fastify.js';
import type { BackendHandler } from '../../src/adapters/node.js';
import { httpRouteYaml } from '../support/manifests.js';

/** One HTTPRoute per path prefix, each to the backend of the same name (`/api/users` -> `users:80`). */
function manifests(...routes: [prefix: string, backend: string][]): string {
  const rules = routes.map(([p, b]) => `  - matches: [{ path: { type: PathPrefix, value: ${p} } }]\n    backendRefs: [{ name: ${b}, port: 80 }]`).join('\n');
  return httpRouteYaml(`  - matches: [{ path: { type: PathPrefix, value: /moved } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: new.example.com, statusCode: 301 } }]
${rules}`);
}

/** An in-process backend that names itself and echoes the path it received. */
const echo = (name: string): BackendHandler => (req, res) => res.end(`${name} saw ${req.method} ${req.url}`);

const opened: FastifyInstance[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function app(options: FastifyServerOptions = { logger: false }): FastifyInstance {
  const a = Fastify({ forceCloseConnections: true, ...options }) as unknown as FastifyInstance;
  opened.push(a);
  return a;
}

describe('Fastify: registered with a prefix (docs/adapters.md, "Fastify")', () => {
  it('takes only requests under the prefix, segment-wise, and routes and forwards their full path', async () => {
    const a = app();
    a.get('/other', async (request) => ({ from: 'fastify', decision: request.gatewayDecision }));
    a.get('/apix', async () => 'fastify /apix');
    await a.register(fastifyGateway, { prefix: '/api', manifests: manifests(['/api/users', 'users'], ['/users', 'users']), backends: { users: echo('users') } });
    await a.ready();
    // What is matched is what is forwarded: the manifests describe the paths clients send.
    expect((await a.inject('/api/users/1?x=1')).body).toBe('users saw GET /api/users/1?x=1');
    expect((await a.inject('/api/users/../users/2')).body).toBe('users saw GET /api/users/2');
    // The prefix is judged on the normalised path, the one routed: /api/../users/3 is /users/3.
    const escaped = await a.inject('/api/../users/3');
    expect(escaped.statusCode).toBe(404);
    expect(escaped.json()).toMatchObject({ error: 'Not Found' });
    const unmatched = await a.inject('/api/nothing');
    expect(unmatched.statusCode).toBe(404);
    expect(unmatched.body).toBe('404 Not Found: no-route\n');
    expect((await a.inject('/api')).body).toBe('404 Not Found: no-route\n');
    // Outside the prefix, Fastify's own routes answer and the gateway does not route at all.
    expect((await a.inject('/other')).json()).toEqual({ from: 'fastify', decision: null });
    expect((await a.inject('/apix')).body).toBe('fastify /apix');
    const elsewhere = await a.inject('/elsewhere');
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.json()).toMatchObject({ error: 'Not Found' });
  });

  it('combines the prefix of an encapsulated context with its own, and stays inside that context', async () => {
    const a = app();
    a.get('/v1/outside', async () => 'root route');
    await a.register(
      async (team) => {
        await team.register(fastifyGateway, { prefix: '/v1', manifests: manifests(['/team/v1/items', 'items']), backends: { items: echo('items') } });
        team.get('/v1/own', async (request) => `team route, decision ${request.gatewayDecision?.type}`);
      },
      { prefix: '/team' },
    );
    await a.ready();
    expect((await a.inject('/team/v1/items/7')).body).toBe('items saw GET /team/v1/items/7');
    // A URL of the prefix no Fastify route serves still reaches the gateway (its catch-all routes there).
    expect((await a.inject('/team/v1/none')).body).toBe('404 Not Found: no-route\n');
    // The team's own route under the prefix: the gateway is in front of it, as in the root context.
    expect((await a.inject('/team/v1/own')).body).toBe('404 Not Found: no-route\n');
    expect((await a.inject('/v1/outside')).body).toBe('root route');
  });

  it('with fallthrough, lets routes under the prefix answer, with the decision set', async () => {
    const a = app();
    await a.register(fastifyGateway, { prefix: '/api', fallthrough: true, manifests: manifests(['/api/users', 'users']), backends: { users: echo('users') } });
    a.get('/api/own', async (request) => `own route after ${request.gatewayDecision?.type} ${request.gatewayDecision?.type === 'respond' ? request.gatewayDecision.status : ''}`);
    await a.ready();
    expect((await a.inject('/api/own')).body).toBe('own route after respond 404');
    expect((await a.inject('/api/users/1')).body).toBe('users saw GET /api/users/1');
    const none = await a.inject('/api/none');
    expect(none.statusCode).toBe(404);
    expect(none.json()).toEqual({ message: 'Route GET:/api/none not found', error: 'Not Found', statusCode: 404 });
  });
});

describe("Fastify: not-found under a prefix: the spec's 404 for what the gateway owns, the app's handler for the rest (docs/adapters.md, \"Fastify\")", () => {
  /** An app whose own not-found handler names itself and the URL. */
  const withNotFound = (name = 'app') => {
    const a = app();
    a.setNotFoundHandler((request, reply) => reply.code(404).send(`${name} not found: ${request.url}`));
    return a;
  };
  const usersManifests = (prefix: string) => manifests([prefix, 'users']);

  it('without fallthrough the gateway owns its prefix: its 404, not the app handler; outside, the app handler', async () => {
    const a = withNotFound();
    await a.register(fastifyGateway, { prefix: '/api', manifests: usersManifests('/api/users'), backends: { users: echo('users') } });
    await a.ready();
    expect((await a.inject('/api/users/1')).body).toBe('users saw GET /api/users/1');
    for (const url of ['/api/none', '/api']) {
      const r = await a.inject(url);
      expect(r.statusCode).toBe(404);
      expect(r.body).toBe('404 Not Found: no-route\n');
    }
    expect((await a.inject('/elsewhere')).body).toBe('app not found: /elsewhere');
  });

  it("with fallthrough, what the gateway lets pass and no route serves reaches the app's own not-found handler", async () => {
    const a = withNotFound();
    await a.register(fastifyGateway, { prefix: '/api', fallthrough: true, manifests: usersManifests('/api/users'), backends: { users: echo('users') } });
    await a.ready();
    expect((await a.inject('/api/users/1')).body).toBe('users saw GET /api/users/1');
    for (const url of ['/api/none', '/api']) {
      const r = await a.inject(url);
      expect(r.statusCode).toBe(404);
      expect(r.body).toBe(`app not found: ${url}`);
    }
    // A body of a type the app parses nowhere is not parsed on the way to its not-found handler (no 415).
    const posted = await a.inject({ method: 'POST', url: '/api/none', headers: { 'content-type': 'application/x-unknown' }, payload: 'x' });
    expect(posted.statusCode).toBe(404);
    expect(posted.body).toBe('app not found: /api/none');
  });

  it('does the same in an encapsulated context: the app handler that applies there, the root one or the context own', async () => {
    const a = withNotFound();
    await a.register(
      async (team) => {
        await team.register(fastifyGateway, { prefix: '/v1', fallthrough: true, manifests: usersManifests('/team/v1/users'), backends: { users: echo('users') } });
        team.get('/v1/own', async (request) => `team route after ${request.gatewayDecision?.type}`);
      },
      { prefix: '/team' },
    );
    await a.register(
      async (ops) => {
        ops.setNotFoundHandler((request, reply) => reply.code(404).send(`ops not found: ${request.url}`));
        await ops.register(fastifyGateway, { prefix: '/v1', fallthrough: true, decorator: 'opsGateway', manifests: usersManifests('/ops/v1/users'), backends: { users: echo('users') } });
      },
      { prefix: '/ops' },
    );
    await a.register(
      async (strict) => {
        await strict.register(fastifyGateway, { prefix: '/v1', decorator: 'strictGateway', manifests: usersManifests('/strict/v1/users'), backends: { users: echo('users') } });
      },
      { prefix: '/strict' },
    );
    await a.ready();
    // URLs no Fastify route serves still reach the gateway of an encapsulated context.
    expect((await a.inject('/team/v1/users/1')).body).toBe('users saw GET /team/v1/users/1');
    expect((await a.inject('/ops/v1/users/1')).body).toBe('users saw GET /ops/v1/users/1');
    expect((await a.inject('/strict/v1/users/1')).body).toBe('users saw GET /strict/v1/users/1');
    expect((await a.inject('/team/v1/own')).body).toBe('team route after respond');
    // Passed on: the root's handler for the team, the ops context's own for ops.
    expect((await a.inject('/team/v1/none')).body).toBe('app not found: /team/v1/none');
    expect((await a.inject('/team/v1')).body).toBe('app not found: /team/v1');
    expect((await a.inject('/ops/v1/none')).body).toBe('ops not found: /ops/v1/none');
    // Without fallthrough the gateway answers its prefix itself.
    expect((await a.inject('/strict/v1/none')).body).toBe('404 Not Found: no-route\n');
    expect((await a.inject('/strict/other')).body).toBe('app not found: /strict/other');
  });

  it("coexists with the app's own not-found handler for the same prefix (registered after the gateway)", async () => {
    const a = withNotFound();
    await a.register(fastifyGateway, { prefix: '/api', fallthrough: true, manifests: usersManifests('/api/users'), backends: { users: echo('users') } });
    await a.register(
      async (api) => {
        api.setNotFoundHandler((request, reply) => reply.code(404).send(`api not found: ${request.url}`));
        api.get('/mine', async () => 'api route');
      },
      { prefix: '/api' },
    );
    await a.ready();
    expect((await a.inject('/api/users/1')).body).toBe('users saw GET /api/users/1');
    expect((await a.inject('/api/mine')).body).toBe('api route');
    expect((await a.inject('/api/none')).body).toBe('api not found: /api/none');
    expect((await a.inject('/other')).body).toBe('app not found: /other');
  });
});

describe('Fastify: several gateways in one app', () => {
  it('serves two prefixes from one context; app.gateway is the first, a named decorator reaches the second', async () => {
    const a = app();
    await a.register(fastifyGateway, { prefix: '/a', manifests: manifests(['/a', 'alpha']), backends: { alpha: echo('alpha') } });
    await a.register(fastifyGateway, { prefix: '/b', manifests: manifests(['/b', 'beta']), backends: { beta: echo('beta') } });
    await a.register(fastifyGateway, { prefix: '/c', decorator: 'gammaGateway', manifests: manifests(['/c', 'gamma']), backends: { gamma: echo('gamma') } });
    await a.ready();
    expect((await a.inject('/a/1')).body).toBe('alpha saw GET /a/1');
    expect((await a.inject('/b/1')).body).toBe('beta saw GET /b/1');
    expect((await a.inject('/c/1')).body).toBe('gamma saw GET /c/1');
    expect(a.gateway.route({ method: 'GET', path: '/a/1' })).toMatchObject({ type: 'forward', registered: 'alpha' });
    const gamma = (a as unknown as Record<string, typeof a.gateway>).gammaGateway!;
    expect(gamma.route({ method: 'GET', path: '/c/1' })).toMatchObject({ type: 'forward', registered: 'gamma' });
  });

  it('decorates nothing with decorator: false, and refuses a decorator name that is not a string', async () => {
    const a = app();
    await a.register(fastifyGateway, { decorator: false, manifests: manifests(['/a', 'alpha']), backends: { alpha: echo('alpha') } });
    await a.ready();
    expect(a.hasDecorator('gateway')).toBe(false);
    expect((await a.inject('/a/1')).body).toBe('alpha saw GET /a/1');
    const b = app();
    await expect(b.register(fastifyGateway, { decorator: '' as string, manifests: manifests(), backends: {} })).rejects.toMatchObject({ code: 'GW_ERR_OPTIONS_INVALID' });
  });

  it('serves one gateway per encapsulated child, each decorated in its own context', async () => {
    const a = app();
    for (const [name, backend] of [
      ['one', 'first'],
      ['two', 'second'],
    ] as const) {
      await a.register(
        async (child) => {
          await child.register(fastifyGateway, { prefix: '/gw', manifests: manifests([`/${name}/gw`, backend]), backends: { [backend]: echo(backend) } });
          child.get('/status', async () => child.gateway.route({ method: 'GET', path: `/${name}/gw/x` }));
        },
        { prefix: `/${name}` },
      );
    }
    await a.ready();
    expect((await a.inject('/one/gw/x')).body).toBe('first saw GET /one/gw/x');
    expect((await a.inject('/two/gw/x')).body).toBe('second saw GET /two/gw/x');
    expect((await a.inject('/one/status')).json()).toMatchObject({ type: 'forward', registered: 'first' });
    expect((await a.inject('/two/status')).json()).toMatchObject({ type: 'forward', registered: 'second' });
    expect(a.hasDecorator('gateway')).toBe(false);
  });

  it('chains two gateways of one context with fallthrough, in registration order', async () => {
    const a = app();
    const router = createGateway({ manifests: manifests(['/later', 'later']), backends: {} });
    await a.register(fastifyGateway, { fallthrough: true, manifests: manifests(['/first', 'first']), backends: { first: echo('first') } });
    await a.register(fastifyGateway, { router, backends: { later: echo('later') } });
    await a.ready();
    expect((await a.inject('/first/x')).body).toBe('first saw GET /first/x');
    expect((await a.inject('/later/x')).body).toBe('later saw GET /later/x');
    expect((await a.inject('/neither')).body).toBe('404 Not Found: no-route\n');
  });
});

describe('Fastify: WebSocket upgrades with several gateways', () => {
  it('hands each upgrade to the gateway of the most specific prefix', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const speaker = (name: string): BackendHandler =>
      Object.assign(echo(name), {
        upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => wss.handleUpgrade(req, socket, head, (ws) => ws.send(`${name} at ${req.url}`)),
      });
    const a = app();
    await a.register(fastifyGateway, { manifests: manifests(['/', 'root']), backends: { root: speaker('root') } });
    await a.register(fastifyGateway, { prefix: '/chat', manifests: manifests(['/chat', 'chat']), backends: { chat: speaker('chat') } });
    await a.listen({ port: 0, host: '127.0.0.1' });
    const base = `ws://127.0.0.1:${(a.server.address() as AddressInfo).port}`;
    const first = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`${base}${path}`);
        ws.on('message', (m) => {
          resolve(m.toString());
          ws.close();
        });
        ws.on('error', reject);
      });
    expect(await first('/chat/room')).toBe('chat at /chat/room');
    expect(await first('/chatty')).toBe('root at /chatty');
    wss.close();
  });
});

describe("Fastify: the app's hooks on gateway answers", () => {
  /** An app whose onSend hook marks every response it sees and whose onResponse hook records it. */
  async function hooked(backends: Record<string, BackendHandler | string>, extraRoutes: [string, string][] = []) {
    const a = app();
    const sent: string[] = [];
    const done: string[] = [];
    a.addHook('onSend', async (request, reply, payload) => {
      sent.push(request.url);
      reply.header('x-on-send', 'ran');
      return payload;
    });
    a.addHook('onResponse', async (request, reply) => {
      done.push(`${request.url} ${reply.statusCode}`);
    });
    await a.register(fastifyGateway, { manifests: manifests(['/inproc', 'inproc'], ['/ghost', 'ghost'], ...extraRoutes), backends });
    return { a, sent, done };
  }

  it("runs onSend and onResponse on the gateway's own answers: 404, redirect, 500", async () => {
    const { a, sent, done } = await hooked({ inproc: echo('inproc') });
    const missing = await a.inject('/missing');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['x-on-send']).toBe('ran');
    expect(missing.headers['content-length']).toBe(String(Buffer.byteLength(missing.body)));
    const moved = await a.inject('/moved/x');
    expect(moved.statusCode).toBe(301);
    expect(moved.headers.location).toBe('http://new.example.com/moved/x');
    expect(moved.headers['x-on-send']).toBe('ran');
    const ghost = await a.inject('/ghost/x'); // a backendRef to no Service and no registered backend
    expect(ghost.statusCode).toBe(500);
    expect(ghost.headers['x-on-send']).toBe('ran');
    expect(sent).toEqual(['/missing', '/moved/x', '/ghost/x']);
    expect(done).toEqual(['/missing 404', '/moved/x 301', '/ghost/x 500']);
  });

  it('lets an onSend hook replace the body of a gateway answer', async () => {
    const a = app();
    a.addHook('onSend', async (_request, reply, payload) => (reply.statusCode === 404 ? `custom: ${String(payload).trim()}` : payload));
    await a.register(fastifyGateway, { manifests: manifests(), backends: {} });
    const r = await a.inject('/missing');
    expect(r.body).toBe('custom: 404 Not Found: no-route');
    expect(r.headers['content-length']).toBe(String(r.body.length));
  });

  it('runs onResponse on backend responses (in-process and proxied over a real socket); onSend does not run on them', async () => {
    const upstream = createServer((req: IncomingMessage, res: ServerResponse) => res.end(`upstream saw ${req.url}`));
    servers.push(upstream);
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const { a, sent, done } = await hooked({ inproc: echo('inproc'), up: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` }, [['/up', 'up']]);
    await a.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(a.server.address() as AddressInfo).port}`;
    const inproc = await fetch(`${base}/inproc/1`);
    expect(await inproc.text()).toBe('inproc saw GET /inproc/1');
    expect(inproc.headers.get('x-on-send')).toBeNull();
    const proxied = await fetch(`${base}/up/2`);
    expect(await proxied.text()).toBe('upstream saw /up/2');
    expect(proxied.headers.get('x-on-send')).toBeNull();
    await waitUntil(() => done.length === 2);
    expect(done).toEqual(['/inproc/1 200', '/up/2 200']);
    expect(sent).toEqual([]);
  });
});

describe('Fastify: errors logged through request.log', () => {
  it("logs the detail of the gateway's 5xx with the request's id, not through the app logger alone", async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    let n = 0;
    const a = app({ logger: { level: 'error', stream }, genReqId: () => `req-${++n}` });
    await a.register(fastifyGateway, {
      prefix: '/api',
      manifests: manifests(['/api/boom', 'boom']),
      backends: {
        boom: () => {
          throw new Error('the backend exploded');
        },
      },
    });
    await a.inject('/api/ok-but-unrouted');
    const r = await a.inject('/api/boom/1');
    expect(r.body).toBe('500 Internal Server Error: backend-error\n');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    const line = lines.find((l) => (l.gateway as { reason?: string } | undefined)?.reason === 'backend-error');
    expect(line).toMatchObject({ level: 50, reqId: 'req-2', msg: 'gateway answered 500: backend-error' });
    expect(JSON.stringify(line)).toContain('the backend exploded');
  });
});

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
}
