// Issue 9 "Must show": traversal and encoding variants, mirror authority tricks and prototype
// names, each sent byte for byte over a real socket to each adapter (node, Express, Fastify),
// with recording upstreams. In every case the path an upstream (or in-process handler, or
// mirror) saw equals decision.request.path, or the request was refused with 400 and reached
// nobody; and no connection ever goes to the "attacker" server (spec digest section 11).
import fc from 'fast-check';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision, ForwardDecision } from '../../src/index.js';
import type { HandlerOptions } from '../../src/adapters/node.js';
import { ADAPTERS, gatewayManifest, httpRoute, mount, prefix, sendRaw, startRecorder, waitFor, type Mounted, type Recorder } from './harness.js';

const ref = (name: string) => [{ name, port: 80 }];

function manifests() {
  return [
    gatewayManifest(),
    httpRoute('guarded', [
      { matches: prefix('/admin'), backendRefs: ref('admin') },
      { matches: prefix('/api'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v1' } } }], backendRefs: ref('api') },
      { matches: prefix('/inproc'), filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'inproc-mirror', port: 80 } } }], backendRefs: ref('inproc') },
      { matches: [{ path: { type: 'PathPrefix', value: '/proto' }, headers: [{ name: 'toString', type: 'RegularExpression', value: '.*' }] }], backendRefs: ref('admin') },
      { matches: [{ path: { type: 'PathPrefix', value: '/protoq' }, queryParams: [{ name: 'constructor', type: 'RegularExpression', value: '.*' }] }], backendRefs: ref('admin') },
      { matches: prefix('/'), filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'mirror', port: 80 } } }], backendRefs: ref('static') },
    ]),
  ];
}

// At least 30 traversal and encoding variants (issue 9): dot segments raw, encoded in every case
// mix, with encoded and raw slashes and backslashes, double-encoded, overlong UTF-8, NUL,
// invalid escapes, fragments, and ReplacePrefixMatch escapes.
const TRAVERSALS = [
  '/static/../admin',
  '/static/./../admin',
  '/static/%2e%2e/admin',
  '/static/%2E%2e/admin',
  '/static/%2e%2E/admin',
  '/static/%2E%2E/admin',
  '/static/.%2e/admin',
  '/static/%2e./admin',
  '/static/..%2fadmin',
  '/static/..%2Fadmin',
  '/static%2f..%2fadmin',
  '/static/%2e%2e%2fadmin',
  '/static/..%5cadmin',
  '/static%5c..%5cadmin',
  '/static\\..\\admin',
  '/static/..\\admin',
  '/\\admin',
  '//admin',
  '//admin/x',
  '///admin',
  '/./admin',
  '/admin/./x',
  '/admin/../admin/x',
  '/%61dmin',
  '/%61%64%6D%69%6E/x',
  '/static/%252e%252e/admin',
  '/static/%25%32%65%25%32%65/admin',
  '/static/%252e%252e%252fadmin',
  '/static/%c0%ae%c0%ae/admin',
  '/static/%e0%80%ae%e0%80%ae/admin',
  '/static/%c0%af../admin',
  '/api/../../internal',
  '/api/%2e%2e/%2e%2e/internal',
  '/api/v/../../admin',
  '/api/..%2f..%2finternal',
  '/static/%2e%2e',
  '/../../../admin',
  '/%2e%2e/%2e%2e/admin',
  '/static/.%00./admin',
  '/static/%00/admin',
  '/static/%zz/admin',
  '/static/%2/admin',
  '/admin#/../x',
  '/static#/../../admin',
  '/static/x?/../admin',
  '/static;/../admin',
  '/admin%2F..%2F..%2Fetc%2Fpasswd',
  '/inproc/../inproc/x',
  '/inproc/%2e%2e/admin',
  '/inproc/a%2fb/./c',
  '/inproc/%7e%41?q=%2e%2e',
  'admin',
  '*',
];

/** Backends by name: a recording upstream each, plus two in-process handlers that record req.url. */
interface World {
  rec: Record<'admin' | 'api' | 'static' | 'mirror', Recorder>;
  attacker: Recorder;
  inproc: string[];
  inprocMirror: string[];
  options: HandlerOptions;
}

async function startWorld(): Promise<World> {
  const [admin, api, stat, mirror, attacker] = await Promise.all([startRecorder(), startRecorder(), startRecorder(), startRecorder(), startRecorder()]);
  const inproc: string[] = [];
  const inprocMirror: string[] = [];
  const handler = (into: string[]) => (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse) => {
    into.push(req.url ?? '');
    // Express (and an Express app as the backend) reads originalUrl: it must be the same path.
    if (req.originalUrl !== undefined && req.originalUrl !== req.url) into.push(`originalUrl ${req.originalUrl}`);
    res.end('in-process');
  };
  return {
    rec: { admin, api, static: stat, mirror },
    attacker,
    inproc,
    inprocMirror,
    options: {
      manifests: manifests(),
      backends: { admin: admin.url, api: api.url, static: stat.url, mirror: mirror.url, inproc: handler(inproc), 'inproc-mirror': handler(inprocMirror) },
    },
  };
}

/** Everything every backend received since the last reset, for "reached nobody" checks. */
function received(w: World): string[] {
  return [...Object.values(w.rec).flatMap((r) => r.paths), ...w.inproc, ...w.inprocMirror];
}

function resetAll(w: World): void {
  for (const r of Object.values(w.rec)) r.reset();
  w.inproc.length = 0;
  w.inprocMirror.length = 0;
}

/**
 * Sends `target` raw and checks the invariant: a 400 that reached nobody, or the chosen
 * backend (and mirror) saw exactly the decision's path. Returns the decision for further checks.
 */
async function check(gw: Mounted, w: World, target: string, headers: Record<string, string> = { host: 'app.example.com' }): Promise<Decision> {
  resetAll(w);
  const d = gw.router.route({ method: 'GET', path: target, headers });
  const ans = await sendRaw(gw.port, target, headers);
  if (ans.status === 400) {
    // Refused: by the gateway (its decision says 400) or by the server's own parser first.
    await new Promise((r) => setTimeout(r, 20));
    expect(received(w), `${target} was refused but reached a backend`).toEqual([]);
    return d;
  }
  expect(d.type, `${target}: answered ${ans.status} but the decision is ${JSON.stringify(d)}`).toBe('forward');
  const f = d as ForwardDecision;
  expect(ans.status, target).toBe(200);
  const name = f.backend.name;
  if (name === 'inproc') expect(w.inproc, target).toEqual([f.request.path]);
  else expect(w.rec[name as keyof World['rec']].paths, target).toEqual([f.request.path]);
  for (const m of f.mirrors) {
    const into = m.backend.name === 'inproc-mirror' ? w.inprocMirror : w.rec.mirror.paths;
    await waitFor(() => into.length > 0, 10_000, `the mirror copy of ${target}`);
    expect(into, `${target} (mirror)`).toEqual([m.request.path]);
  }
  return d;
}

describe.each(ADAPTERS)('%s adapter: the path a backend receives is decision.request.path (digest 11)', (kind) => {
  let w: World;
  let gw: Mounted;
  beforeAll(async () => {
    w = await startWorld();
    gw = await mount(kind, w.options);
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([...Object.values(w?.rec ?? {}), w?.attacker].filter(Boolean).map((r) => r!.close()));
  });

  it(`${TRAVERSALS.length} traversal and encoding variants: each reaches exactly the decided backend with the decided path, or gets 400`, async () => {
    expect(TRAVERSALS.length).toBeGreaterThanOrEqual(30);
    const outcomes: Record<string, string> = {};
    for (const t of TRAVERSALS) {
      const d = await check(gw, w, t);
      outcomes[t] = d.type === 'forward' ? `${d.backend.name} ${d.request.path}` : String(d.type === 'respond' ? d.status : d.type);
    }
    // The bypasses of issue 9 are closed: the catch-all's upstream never receives /admin, and
    // every path that resolves to /admin is decided by the /admin rule.
    expect(outcomes['/static/%2e%2e/admin']).toBe('admin /admin');
    expect(outcomes['/static/../admin']).toBe('admin /admin');
    expect(outcomes['/api/../../internal']).toBe('static /internal');
    expect(outcomes['/api/v/../../admin']).toBe('admin /admin');
    expect(outcomes['/static/..%2fadmin']).toBe('static /static/..%2Fadmin');
    expect(outcomes['/static\\..\\admin']).toBe('static /static%5C..%5Cadmin');
    expect(outcomes['/static/%c0%ae%c0%ae/admin']).toBe('400');
    expect(outcomes['/static#/../../admin']).toBe('static /static');
    expect(w.rec.static.paths.filter((p) => p === '/admin' || p.startsWith('/admin/'))).toEqual([]);
    expect(w.attacker.connections).toBe(0);
  });

  it('mirror and proxy authority tricks never reach another origin', async () => {
    const a = `127.0.0.1:${w.attacker.port}`;
    const tricks = [`//${a}/x`, `/\\${a}/x`, `/\\\\${a}/x`, `///${a}/x`, `/%2f${a}/x`, `/%5c${a}/x`, `/%2F%2F${a}/x`, `/..//${a}/x`, `/.//${a}/x`, `//attacker:9999/x`, `/\\attacker:9999/x`, `//${a}`, `//user@${a}/x`];
    for (const t of tricks) {
      const d = await check(gw, w, t);
      if (d.type === 'forward') expect(d.mirrors.length, t).toBe(1);
    }
    // The in-process mirror and the proxied one get the same path too.
    await check(gw, w, `/inproc//${a}/x`);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.attacker.connections).toBe(0);
    expect(w.attacker.paths).toEqual([]);
  });

  it('prototype names in headers and the query neither match nor crash (constructor, toString, __proto__)', async () => {
    expect(await check(gw, w, '/proto')).toMatchObject({ backend: { name: 'static' } });
    expect(await check(gw, w, '/proto', { host: 'app.example.com', tostring: 'x' })).toMatchObject({ backend: { name: 'admin' } });
    expect(await check(gw, w, '/proto', { host: 'app.example.com', constructor: 'x', ['__proto__']: 'y', hasownproperty: 'z' })).toMatchObject({ backend: { name: 'static' } });
    expect(await check(gw, w, '/protoq')).toMatchObject({ backend: { name: 'static' } });
    expect(await check(gw, w, '/protoq?toString=1&__proto__=2&hasOwnProperty=3')).toMatchObject({ backend: { name: 'static' } });
    expect(await check(gw, w, '/protoq?constructor=1')).toMatchObject({ backend: { name: 'admin' } });
    expect(await check(gw, w, '/protoq?__proto__[constructor]=1&constructor')).toMatchObject({ type: 'forward' });
    expect(w.attacker.connections).toBe(0);
  });

  it('bad Hosts get 400 and reach nobody (userinfo, whitespace, invalid characters)', async () => {
    for (const host of ['user@app.example.com', 'app.example.com/x', 'app.example.com\\x', 'a,b', '%61pp.example.com', 'app.example.com:80:80']) {
      const d = await check(gw, w, '/admin', { host });
      expect(d, host).toMatchObject({ type: 'respond', status: 400 });
    }
  });
});

describe.each([
  ['node', {}, 300],
  ['node', { escapedSlashes: 'decode', mergeSlashes: true }, 150],
  ['node', { escapedSlashes: 'reject' }, 100],
  ['express', {}, 100],
  ['fastify', {}, 100],
] as const)('property: route(p).request.path is what the upstream receives, over a real socket (%s adapter, options %j)', (kind, pathOptions, runs) => {
  let w: World;
  let gw: Mounted;
  beforeAll(async () => {
    w = await startWorld();
    gw = await mount(kind, { ...w.options, ...pathOptions });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([...Object.values(w?.rec ?? {}), w?.attacker].filter(Boolean).map((r) => r!.close()));
  });

  it(`for ${runs} seeded paths over a small alphabet (., /, %, 2, e, f, 5, c, \\, a)`, async () => {
    const piece = fc.constantFrom('/', '.', '..', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', '\\', 'a', 'admin', 'api', 'inproc', '%2e', '%2f', '%5c', '%25', '//');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 10 }), async (pieces) => {
        await check(gw, w, `/${pieces.join('')}`);
      }),
      { seed: 20261204, numRuns: runs },
    );
    expect(w.attacker.connections).toBe(0);
  });
});
