// The package as a user gets it: packed, installed in a fresh project from the tarball (offline,
// from the npm cache `npm ci` filled), then the README's snippets, the bin, and a vitest file that
// uses gateway-api-router/testing. Slow (about a minute), so it runs in CI only: CONSUMER_TEST=1
// (set by .ci/run), not in the default run or watch loop.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The first ```ts block after a README heading. */
function snippet(heading: string): string {
  const after = readme.split(heading)[1];
  if (after === undefined) throw new Error(`README has no ${heading}`);
  return /```ts\n([\s\S]*?)```/.exec(after)![1]!;
}

describe.skipIf(process.env.CONSUMER_TEST !== '1')('the packed package in a consumer project', () => {
  let dir = '';
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' } });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  beforeAll(() => {
    expect(existsSync(join(root, 'dist/cli.js')), 'run `npm run build` first (npm test does)').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'gar-consumer-'));
    // --ignore-scripts: dist/ is already built by `npm test`; prepack would build it again.
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    // Offline from the npm cache when it holds the registry's metadata too; else only the
    // metadata is fetched (the tarballs `npm ci` cached are reused).
    const args = ['install', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)];
    let install = run('npm', [...args, '--offline']);
    if (install.code !== 0) install = run('npm', [...args, '--prefer-offline']);
    expect(install.code, install.out).toBe(0);
    // The consumer's test runner: this repository's vitest, linked in (its own dependencies resolve from here).
    symlinkSync(join(root, 'node_modules/vitest'), join(dir, 'node_modules/vitest'), 'dir');
    // A user's repository with the seed manifests in it.
    cpSync(join(dir, 'node_modules/gateway-api-router/examples'), join(dir, 'examples'), { recursive: true });
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships dist, docs and examples, and the bin', () => {
    const installed = join(dir, 'node_modules/gateway-api-router');
    for (const f of ['dist/index.js', 'dist/index.cjs', 'dist/testing.js', 'dist/testing.cjs', 'dist/cli.js', 'docs/testing.md', 'examples/basic-http.yaml', 'examples/bookinfo.test.yaml']) expect(existsSync(join(installed, f)), f).toBe(true);
    expect(readdirSync(join(dir, 'node_modules/.bin'))).toContain('gateway-api-router');
  });

  it("the README's quick example runs and prints what its comments say", () => {
    writeFileSync(join(dir, 'quickstart.mjs'), snippet('## Use'));
    const r = run(process.execPath, ['quickstart.mjs']);
    expect(r.code, r.out).toBe(0);
    expect(r.out.split('\n')[0]).toBe('forward productpage');
    expect(r.out).toContain('method POST is not GET');
  });

  it('npx gateway-api-router check examples/ and test examples/ pass', () => {
    const check = run('npx', ['--no-install', 'gateway-api-router', 'check', 'examples/']);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toContain('0 errors');
    const test = run('npx', ['--no-install', 'gateway-api-router', 'test', 'examples/']);
    expect(test.code, test.out).toBe(0);
    expect(test.out).toMatch(/\d+ passed, 0 failed/);
  });

  it("a vitest file with the README's testing snippet passes, and a failing toRoute prints the explain table", () => {
    writeFileSync(join(dir, 'readme.test.ts'), snippet('### Test routes in your test suite'));
    writeFileSync(
      join(dir, 'failing.test.ts'),
      `import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createGateway } from 'gateway-api-router';
import { gatewayMatchers } from 'gateway-api-router/testing';
expect.extend(gatewayMatchers);
it('fails with the explain table', () => {
  const gw = createGateway({ manifests: [readFileSync('examples/basic-http.yaml', 'utf8'), readFileSync('examples/bookinfo-services.yaml', 'utf8')] });
  expect(gw).toRoute('POST /?great=example', 'productpage:9080');
});
`,
    );
    const vitest = join(dir, 'node_modules/vitest/vitest.mjs');
    const pass = run(process.execPath, [vitest, 'run', 'readme.test.ts']);
    expect(pass.code, pass.out).toBe(0);
    const fail = run(process.execPath, [vitest, 'run', 'failing.test.ts']);
    expect(fail.code).toBe(1);
    expect(fail.out).toContain('reaches 404, expected productpage:9080');
    expect(fail.out).toContain('method POST is not GET');
  });

  it('CommonJS consumers can require every entry', () => {
    mkdirSync(join(dir, 'cjs'));
    // Express and Fastify are optional peers, not installed here: their entries must load without them.
    writeFileSync(
      join(dir, 'cjs/check.cjs'),
      [
        "for (const e of ['gateway-api-router', 'gateway-api-router/node', 'gateway-api-router/testing', 'gateway-api-router/express', 'gateway-api-router/fastify']) require(e);",
        "console.log(typeof require('gateway-api-router/testing').gatewayMatchers.toRoute);",
        "console.log(typeof require('gateway-api-router/express').gatewayMiddleware);",
        // Fastify's register takes the module object too: it unwraps `default`.
        "const f = require('gateway-api-router/fastify');",
        'console.log(typeof f.fastifyGateway, f.default === f.fastifyGateway);',
      ].join('\n'),
    );
    const r = run(process.execPath, ['cjs/check.cjs']);
    expect(r.code, r.out).toBe(0);
    expect(r.out.trim().split('\n')).toEqual(['function', 'function', 'function true']);
  });
});
