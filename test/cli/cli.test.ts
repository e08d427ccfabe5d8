// The gateway-api-router bin, spawned as users run it: the built dist/cli.js on fixtures.
// Exit codes: 0 ok, 1 problems found, 2 bad usage (docs/cli.md).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'dist/cli.js');
const fx = (f: string) => `test/cli/fixtures/${f}`;

function cli(args: string[], input?: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', input: input ?? '', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts that `text` contains each part (one assertion per part, so a failure names it). */
function expectToContainAll(text: string, parts: readonly string[]): void {
  for (const p of parts) expect(text).toContain(p);
}

beforeAll(() => {
  expect(existsSync(bin), 'run `npm run build` first (npm test does)').toBe(true);
});

describe('the bin', () => {
  it('starts with a shebang, so npx and npm link can run it', () => {
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('--help exits 0 and lists every command; no command is a usage error (2)', () => {
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['check', 'explain', 'routes', 'status', 'test', 'serve']) expect(help.stdout).toContain(`  ${c}`);
    expect(cli([]).code).toBe(2);
  });

  it('--version prints the package version', () => {
    expect(cli(['--version']).stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('an unknown command or option is a usage error with a suggestion', () => {
    const r = cli(['chekc', 'examples/']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean check?');
    const o = cli(['check', '--stirct', 'examples/']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('did you mean --strict?');
    expect(cli(['routes', '--strict', '-f', 'examples/basic-http.yaml']).code).toBe(2);
  });

  it('a missing file is a usage error', () => {
    const r = cli(['check', 'no/such/file.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read no/such/file.yaml');
  });
});

describe('check', () => {
  it('the seed examples pass (exit 0); route-test files in the directory are not manifests', () => {
    const r = cli(['check', 'examples/']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/0 errors, \d+ warnings? in 5 files/);
    expect(r.stdout).not.toContain('.test.yaml');
  });

  it('errors exit 1, located file:line:col with a code frame and "did you mean" for fields, enum values and kinds', () => {
    const r = cli(['check', fx('typos.yaml'), '-f', fx('kind-typo.yaml')]);
    expect(r.code).toBe(1);
    expectToContainAll(r.stdout, [
      'test/cli/fixtures/typos.yaml:20:5 error Unknown field "matchs"',
      'did you mean "matches"?',
      '> 20 |   - matchs:\n     |     ^',
      'test/cli/fixtures/typos.yaml:24:15 error Unsupported value "PathPrefx"',
      'did you mean "PathPrefix"?',
      'test/cli/fixtures/kind-typo.yaml:2:7 error',
      'did you mean HTTPRoute?',
      '3 errors, 0 warnings in 2 files',
    ]);
  });

  it('--format github prints workflow commands', () => {
    const r = cli(['check', '--format', 'github', fx('typos.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatchInlineSnapshot(`
      "::error file=test/cli/fixtures/typos.yaml,line=20,col=5,title=GW_MANIFEST_UNKNOWN_FIELD::Unknown field "matchs" in spec.rules[0]; check its spelling and indentation. (did you mean "matches"?)
      ::error file=test/cli/fixtures/typos.yaml,line=24,col=15,title=GW_MANIFEST_ENUM::Unsupported value "PathPrefx": must be one of "Exact", "PathPrefix", "RegularExpression". (did you mean "PathPrefix"?)
      "
    `);
  });

  it('--format json lists every finding with its location', () => {
    const r = cli(['check', '--format', 'json', fx('typos.yaml')]);
    const out = JSON.parse(r.stdout) as { files: string[]; findings: { code: string; line: number; hint?: string }[] };
    expect(out.files).toEqual([fx('typos.yaml')]);
    expect(out.findings.map((f) => [f.code, f.line, f.hint])).toEqual([
      ['GW_MANIFEST_UNKNOWN_FIELD', 20, 'did you mean "matches"?'],
      ['GW_MANIFEST_ENUM', 24, 'did you mean "PathPrefix"?'],
    ]);
  });

  it('warnings exit 0, and 1 with --strict', () => {
    const r = cli(['check', fx('duplicate.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning');
    expect(r.stdout).toContain('duplicate.yaml:21:9');
    expect(cli(['check', '--strict', fx('duplicate.yaml')]).code).toBe(1);
  });

  it('finds what spans files (one load of { filename, text } items), each finding in its own file, in document order', () => {
    // parent-typo.yaml defines Service s too: duplicate.yaml redefines it in document 2, then again in 3.
    const r = cli(['check', '--format', 'github', fx('parent-typo.yaml'), fx('duplicate.yaml')]);
    expect(r.code).toBe(0);
    const duplicates = r.stdout.split('\n').filter((l) => l.includes('GW_MANIFEST_DUPLICATE'));
    expect(duplicates.map((l) => /file=([^,]+),line=(\d+)/.exec(l)!.slice(1).join(':'))).toEqual(['test/cli/fixtures/duplicate.yaml:14', 'test/cli/fixtures/duplicate.yaml:21']);
    expect(r.stdout).toContain('file=test/cli/fixtures/parent-typo.yaml,line=17,col=11,title=GW_MANIFEST_PARENT_NOT_FOUND');
  });

  it('a parentRef to a Gateway that does not exist is a warning at the parentRef, with the closest name', () => {
    const r = cli(['check', fx('parent-typo.yaml')]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('test/cli/fixtures/parent-typo.yaml:17:11 warning parentRef default/my-gatway names a Gateway that is not in the manifests, so the route is not attached there; did you mean my-gateway?');
    expect(r.stdout).toContain('> 17 |   - name: my-gatway');
    expect(cli(['check', '--strict', fx('parent-typo.yaml')]).code).toBe(1);
    expect(cli(['check', '--format', 'github', fx('parent-typo.yaml')]).stdout).toContain('::warning file=test/cli/fixtures/parent-typo.yaml,line=17,col=11,title=GW_MANIFEST_PARENT_NOT_FOUND::');
  });

  it('status problems are errors, located at the spec field (a backend with no Service)', () => {
    const r = cli(['check', 'examples/basic-http.yaml']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('examples/basic-http.yaml:22:5');
    expect(r.stdout).toContain('ResolvedRefs is False (BackendNotFound)');
  });

  it('reads stdin with -f -', () => {
    const r = cli(['check', '-f', '-'], readFileSync(join(root, fx('typos.yaml')), 'utf8'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('<stdin>:20:5 error');
  });

  it('colour only when asked or on a TTY; NO_COLOR and pipes get plain text', () => {
    expect(cli(['check', fx('typos.yaml')]).stdout).not.toContain('\u001b[');
    expect(cli(['check', '--color', fx('typos.yaml')]).stdout).toContain('\u001b[31merror\u001b[39m');
    expect(cli(['check', fx('typos.yaml')], '', { NO_COLOR: '1' }).stdout).not.toContain('\u001b[');
  });
});

describe('explain, routes, status', () => {
  it('explain prints the table (snapshot)', () => {
    const r = cli(['explain', '-f', fx('app.yaml'), '-X', 'POST', '-H', 'magic: foo', 'http://api.example.com/v1/users?q=1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "Request:  POST http://api.example.com/v1/users?q=1
      Decision: forward to default/api-v1:8080 (HTTPRoute default/api rule 0 match 0)

      Listeners:
        NAME  PORT  PROTOCOL  HOSTNAME  OUTCOME
        http  80    HTTP      *         selected

      Virtual hosts (most specific first): api.example.com, *

      Candidates (precedence order):
        #  ROUTE                  RULE  MATCH  HOSTNAME         PATH            OUTCOME   WHY
        1  HTTPRoute/default/api  0     0      api.example.com  PathPrefix /v1  selected
        2  HTTPRoute/default/api  1     0      api.example.com  PathPrefix /v1  lost      the selected match wins on method
        3  HTTPRoute/default/web  0     0      *                Exact /health   skipped   a more specific hostname of this listener matches the host, and requests do not fall through to less specific hostnames

      Pick (single, total weight 1):
           BACKEND              WEIGHT  SHARE  STATE
        >  default/api-v1:8080  1       100%   ok
      "
    `);
  });

  it('explain notes a host-less request to hostname-only routes', () => {
    const r = cli(['explain', '-f', fx('app.yaml'), '/v1']);
    expect(r.stdout).toContain('Decision: respond 404 no-route');
    expect(r.stdout).toContain('Note: The request has no Host, so listeners and routes with hostnames (api.example.com) cannot match it');
  });

  it('explain --json is the Explanation', () => {
    const r = cli(['explain', '--json', '-f', 'examples/basic-http.yaml', '-f', 'examples/bookinfo-services.yaml', '-H', 'magic: foo', '/?great=example']);
    const e = JSON.parse(r.stdout) as { decision: { type: string; backend: { name: string } } };
    expect(e.decision.type).toBe('forward');
    expect(e.decision.backend.name).toBe('productpage');
  });

  it('several Gateways need --gateway', () => {
    const r = cli(['explain', '-f', 'examples/', '/echo']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('choose one with --gateway');
    const ok = cli(['explain', '-f', 'examples/', '--gateway', 'cilium-gw', 'http://x/echo']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Pick (random, total weight 100)');
  });

  it('routes prints the compiled table in precedence order', () => {
    const r = cli(['routes', '-f', fx('app.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Listener http (HTTP port 80, any host)');
    const api = r.stdout.indexOf('Host api.example.com');
    const any = r.stdout.indexOf('Host *');
    expect(api).toBeGreaterThan(0);
    expect(any).toBeGreaterThan(api);
    expect(r.stdout).toMatch(/1 +HTTPRoute\/default\/api +0 +0 +PathPrefix \/v1 +POST +magic=foo/);
    expect(r.stdout).toMatch(/2 +HTTPRoute\/default\/api +1 +0 +PathPrefix \/v1 +\* .*api-v1:8080\(90\) api-v2:8080\(10\)/);
  });

  it('status prints kubectl-like tables, and -o yaml the objects', () => {
    const r = cli(['status', '-f', 'examples/']);
    expect(r.stdout).toMatch(/default +gateway\/cilium-gw +127\.0\.0\.1 +True +True/);
    expect(r.stdout).toMatch(/default +httproute\/http-app-1 +my-gateway +True +True/);
    const y = parse(cli(['status', '-o', 'yaml', '-f', fx('app.yaml')]).stdout) as { kind: string; items: { kind: string }[] };
    expect(y.kind).toBe('List');
    expect(y.items.map((i) => i.kind)).toEqual(['Gateway', 'HTTPRoute', 'HTTPRoute']);
  });
});

describe('test', () => {
  it('the shipped examples pass (exit 0)', () => {
    const r = cli(['test', 'examples/']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
    expect(r.stdout).toContain('✓ 4. GET /echo is split 99/1');
  });

  it('failures exit 1 with the reason and the explain table', () => {
    const r = cli(['test', fx('failing.test.yaml')]);
    expect(r.code).toBe(1);
    expectToContainAll(r.stdout, ['✗ details goes to productpage (wrong)', '- reaches details:9080, expected productpage:9080', '- the backend sees header x-a: "b", expected "c"', 'Candidates (precedence order):', '1 passed, 2 failed']);
  });

  it('a malformed test file fails with its reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gar-cli-'));
    try {
      writeFileSync(join(dir, 'bad.test.yaml'), 'manifests: [nope.yaml]\ntests:\n- request: GET /\n  expect: { backnd: x }\n');
      const r = cli(['test', dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('cannot run:');
      expect(r.stdout).toContain('backnd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Spawns `serve` with `args`; `waitFor` resolves with the first match of a pattern in its log (stderr). */
function spawnServe(args: string[]) {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    async waitFor(re: RegExp): Promise<RegExpExecArray> {
      for (let i = 0; i < 600 && !re.test(log); i++) await new Promise((r) => setTimeout(r, 50));
      const m = re.exec(log);
      if (!m) throw new Error(`no ${re} in log:\n${log}`);
      return m;
    },
    /** SIGTERM, then the exit code (0 once every port drained). */
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('serve', () => {
  let upstream: Server;
  let url: string;
  beforeAll(async () => {
    upstream = createServer((req, res) => res.end(`upstream saw ${req.url}`));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

  it('serves the manifests with --backend, logs decisions at debug level, and reloads on change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gar-serve-'));
    const file = join(dir, 'app.yaml');
    const basic = readFileSync(join(root, 'examples/basic-http.yaml'), 'utf8');
    writeFileSync(file, basic);
    const s = spawnServe(['-f', file, '--backend', `details:9080=${url}`, '--port', '0', '--log-level', 'debug']);
    try {
      const base = (await s.waitFor(/serving Gateway default\/my-gateway on (http:\/\/[\d.]+:\d+) \(listener port 80\)/))[1]!;
      const r = await fetch(`${base}/details/1`);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('upstream saw /details/1');
      await s.waitFor(/debug: GET [\d.:]+\/details\/1 -> forward to default\/details:9080/);
      writeFileSync(file, basic.replace('value: /details', 'value: /info'));
      await s.waitFor(/manifests reloaded/);
      expect((await fetch(`${base}/details/1`)).status).toBe(404);
    } finally {
      expect(await s.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens every listener port with listen(), each where --port LISTENER=BIND maps it', async () => {
    const s = spawnServe(['-f', fx('two-ports.yaml'), '--backend', `site:80=${url}`, '--backend', `admin:80=${url}/internal`, '--port', '80=0', '--port', '9000=0', '--log-level', 'debug']);
    try {
      const publicBase = (await s.waitFor(/on (http:\/\/127\.0\.0\.1:\d+) \(listener port 80\)/))[1]!;
      const adminBase = (await s.waitFor(/on (http:\/\/127\.0\.0\.1:\d+) \(listener port 9000\)/))[1]!;
      expect(publicBase).not.toBe(adminBase);
      // Each server routes on its own listener: /admin is attached to port 9000 only.
      expect(await (await fetch(`${publicBase}/page`)).text()).toBe('upstream saw /page');
      expect(await (await fetch(`${adminBase}/admin/x`)).text()).toBe('upstream saw /internal/admin/x');
      expect((await fetch(`${adminBase}/page`)).status).toBe(404);
      await s.waitFor(/debug: GET [\d.:]+\/admin\/x -> forward to default\/admin:80/);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('refuses a plain --port for a Gateway with several listener ports, and the retired --listener-port', () => {
    const plain = cli(['serve', '-f', fx('two-ports.yaml'), '--port', '8080']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('the Gateway listens on ports 80, 9000; map each with --port LISTENER=BIND');
    const retired = cli(['serve', '-f', fx('app.yaml'), '--listener-port', '80']);
    expect(retired.code).toBe(2);
    expect(retired.stderr).toContain('--port 80=BIND');
  });
});
