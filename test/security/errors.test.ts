// Issue 9 item 6: the gateway's own error bodies are generic (status text and reason code); the
// detail (upstream origin, error codes, exception text) goes to onError, or to Fastify's
// request.log; `exposeErrors` puts it back for development. A Host is validated before it can
// reach a redirect Location. Each adapter, over a real socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorInfo, HandlerOptions } from '../../src/adapters/node.js';
import { ADAPTERS, gatewayManifest, httpRoute, mount, prefix, sendRaw, startRecorder, type Mounted, type Recorder } from './harness.js';

function manifests() {
  return [
    gatewayManifest(),
    httpRoute('r', [
      { matches: prefix('/dead'), backendRefs: [{ name: 'dead', port: 80 }] },
      { matches: prefix('/throws'), backendRefs: [{ name: 'throws', port: 80 }] },
      { matches: prefix('/rejects'), backendRefs: [{ name: 'rejects', port: 80 }] },
      { matches: prefix('/redirect'), filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 302 } }] },
      { matches: prefix('/up'), backendRefs: [{ name: 'up', port: 80 }] },
    ]),
  ];
}

const SECRET = 'db password hunter2 at /srv/app/secret.js';

async function deadUrl(): Promise<string> {
  const r = await startRecorder();
  await r.close();
  return r.url;
}

describe.each(ADAPTERS)('%s adapter: generic error bodies, details to the logger (issue 9 item 6)', (kind) => {
  let up: Recorder;
  let dead: string;
  let gw: Mounted;
  let dev: Mounted;
  const errors: ErrorInfo[] = [];
  const options = (): HandlerOptions => ({
    manifests: manifests(),
    backends: {
      dead,
      up: up.url,
      throws: () => {
        throw new Error(SECRET);
      },
      rejects: async () => {
        throw new Error(SECRET);
      },
    },
  });
  beforeAll(async () => {
    up = await startRecorder();
    dead = await deadUrl();
    gw = await mount(kind, { ...options(), onError: (e) => errors.push(e) });
    dev = await mount(kind, { ...options(), exposeErrors: true });
  });
  afterAll(async () => {
    await gw?.close();
    await dev?.close();
    await up?.close();
  });

  it.each([
    ['/dead/x', 503, '503 Service Unavailable: upstream-refused\n', 'upstream-refused'],
    ['/throws/x', 500, '500 Internal Server Error: backend-error\n', 'backend-error'],
    ['/rejects/x', 500, '500 Internal Server Error: backend-error\n', 'backend-error'],
    ['/nothing-here', 404, '404 Not Found: no-route\n', null],
    ['/%zz', 400, '400 Bad Request: bad-request\n', null],
  ])('%s: the body is exactly %j; the detail goes to onError only', async (path, status, body, reason) => {
    errors.length = 0;
    const ans = await sendRaw(gw.port, path);
    expect(ans.status).toBe(status);
    if (kind === 'fastify' && path === '/%zz') {
      // Fastify refuses a URL it cannot decode itself, before any plugin hook runs, with its own
      // body (FST_ERR_BAD_URL); its `frameworkErrors` server option controls that body.
      expect(ans.body).toContain('FST_ERR_BAD_URL');
      return;
    }
    expect(ans.body).toBe(body);
    expect(ans.body).not.toContain('127.0.0.1');
    expect(ans.body).not.toContain('hunter2');
    if (reason === null) return;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status, reason });
    expect(errors[0]!.message).toMatch(reason === 'upstream-refused' ? /127\.0\.0\.1:\d+.*ECONNREFUSED/ : /hunter2/);
    expect(errors[0]!.error).toBeInstanceOf(Error);
  });

  it('exposeErrors: true puts the detail in the body (development)', async () => {
    const refused = await sendRaw(dev.port, '/dead/x');
    expect(refused.body).toMatch(/^503 Service Unavailable: upstream-refused\nupstream http:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED/);
    const thrown = await sendRaw(dev.port, '/throws/x');
    expect(thrown.body).toContain('hunter2');
  });

  it('a redirect Location carries the validated Host; an invalid Host gets 400 and no Location', async () => {
    const ok = await sendRaw(gw.port, '/redirect/x?q=1', { host: 'app.example.com' });
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe('http://app.example.com/redirect/x?q=1');
    for (const host of ['evil.example/x?', 'evil.example@app.example.com', 'app.example.com\\@evil.example', '%65vil.example']) {
      const bad = await sendRaw(gw.port, '/redirect/x', { host });
      expect(bad.status, host).toBe(400);
      expect(bad.headers.location, host).toBeUndefined();
    }
  });
});

describe('Fastify: without onError, the detail goes to request.log with the request id', () => {
  let gw: Mounted;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    gw = await mount(
      'fastify',
      {
        manifests: manifests(),
        backends: {
          dead: await deadUrl(),
          throws: (_req: IncomingMessage, _res: ServerResponse) => {
            throw new Error(SECRET);
          },
        },
      },
      (l) => lines.push(l),
    );
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('logs status, reason, message and the error at level error, bound to the request', async () => {
    const ans = await sendRaw(gw.port, '/throws/x');
    expect(ans.body).toBe('500 Internal Server Error: backend-error\n');
    const line = lines.find((l) => (l.gateway as { reason?: string } | undefined)?.reason === 'backend-error');
    expect(line).toBeDefined();
    expect(line!.level).toBe(50);
    expect(line!.reqId).toBeDefined();
    expect(JSON.stringify(line)).toContain('hunter2');
  });
});
