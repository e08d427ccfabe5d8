// docs/adapters.md shows examples/{node-server,express-app,fastify-app,websocket,http2-server,grpc}.ts verbatim, and each runs
// against the built package (subpath exports) and prints what it should.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(`${root}docs/adapters.md`, 'utf8');

describe.each([
  ['node-server.ts', ['{"id":1}', 'productpage got /?great=example (x-forwarded-for: 127.0.0.1)', '404']],
  ['express-app.ts', ['details from the gateway', 'an existing Express route']],
  ['fastify-app.ts', ['Hostname: echo-1 | Hostname: echo-2 | Hostname: echo-1 | Hostname: echo-2', 'unmatched -> 404']],
  ['websocket.ts', ['echo hi (path /chat/room-1)', 'no route: 404']],
  ['http2-server.ts', ['200 {"id":1}', '200 productpage got /?great=example over HTTP/1.1 for bookinfo.example.com']],
  ['grpc.ts', ['hello grpc from v2', 'no route: UNIMPLEMENTED']],
])('examples/%s', (file, expected) => {
  it('appears verbatim in docs/adapters.md', () => {
    expect(doc).toContain('```ts\n' + readFileSync(`${root}examples/${file}`, 'utf8') + '```');
  });

  it('runs against the built package', () => {
    expect(existsSync(`${root}dist/node.js`), 'run `npm run build` first (npm test does)').toBe(true);
    const out = execFileSync(process.execPath, ['--import', 'tsx', `examples/${file}`], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(out.trim().split('\n')).toEqual(expected);
  });
});
