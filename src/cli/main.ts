/**
 * The `gateway-api-router` command: check, explain, routes, status, test and serve
 * (docs/cli.md). Arguments are parsed with node:util parseArgs; exit codes: 0 ok, 1 problems
 * found (errors, failed tests; warnings too with --strict), 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from '../errors.js';
import { runRouteTestFile } from '../testing/route-test.js';
import { formatExplanation } from '../testing/format.js';
import { toRouteRequest } from '../testing/route-test.js';
import { checkManifests, formatGithub, formatText } from './check.js';
import { buildGateway, CommandError, progress, readManifestArgs, styleFor, UsageError, type GatewayFlags } from './inputs.js';
import { serve } from './serve.js';
import { formatRoutes, formatStatus, formatTestResults, statusYaml } from './views.js';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const USAGE = `Usage: gateway-api-router <command> [options]

Commands:
  check [FILE|DIR...]   validate manifests and their status; errors located with a code frame
  explain URL           how a request is routed: listeners, candidates, the pick
  routes                the compiled routing table per listener and host, in precedence order
  status                status like kubectl get (-o yaml|json for the objects)
  test FILE|DIR...      run route-test files (*.test.yaml; docs/testing.md)
  serve                 serve the manifests over HTTP, reloading them when they change

Manifests (every command): -f, --filename FILE|DIR|-   repeatable; - reads stdin
Common options:
  --gateway [NAMESPACE/]NAME     the Gateway to serve when the manifests hold several
  --controller-name NAME         the GatewayClass controllerName to answer to
  --color, --no-color            colour (default: on a TTY, unless NO_COLOR is set)
  -h, --help                     this help;  --version  the version

check:   --strict (warnings fail too)  --format text|json|github
explain: -X, --request METHOD  -H, --header 'name: value' (repeatable)  --port N  --sni NAME  --json
         e.g. explain -f app.yaml -X POST -H 'magic: foo' 'http://host/path?q=1'
routes:  --json
status:  -o, --output table|yaml|json
serve:   --backend name:port=URL (repeatable; tcp://host:port for TLSRoute backends)
         --port LISTENER=BIND (repeatable; BIND 0 picks a free port) or --port BIND for a Gateway with one
         listener port (default 8080 then)  --host ADDR (default 127.0.0.1)
         --log-level error|info|debug (default info; debug logs every decision)
`;

const COMMANDS = ['check', 'explain', 'routes', 'status', 'test', 'serve'] as const;
type Command = (typeof COMMANDS)[number];

const OPTIONS = {
  filename: { type: 'string', short: 'f', multiple: true },
  gateway: { type: 'string' },
  'controller-name': { type: 'string' },
  color: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  strict: { type: 'boolean' },
  format: { type: 'string' },
  request: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  port: { type: 'string', multiple: true },
  sni: { type: 'string' },
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  backend: { type: 'string', multiple: true },
  host: { type: 'string' },
  'listener-port': { type: 'string' },
  'log-level': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Which options each command accepts, beyond the common ones. */
const ACCEPTS: Record<Command, string[]> = {
  check: ['strict', 'format'],
  explain: ['request', 'header', 'port', 'sni', 'json'],
  routes: ['json'],
  status: ['output'],
  test: [],
  serve: ['backend', 'port', 'host', 'listener-port', 'log-level'],
};
const COMMON = ['filename', 'gateway', 'controller-name', 'color', 'no-color', 'help', 'version'];

/** The process streams and environment the command runs with. */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  readStdin: () => string;
  env: NodeJS.ProcessEnv;
}

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    return await run(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`gateway-api-router: ${e.message}\nRun gateway-api-router --help for usage.\n`);
      return 2;
    }
    if (e instanceof CommandError) {
      io.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const m = /'(--?[\w-]+)'/.exec((e as Error).message);
    const near = m ? closest(m[1]!.replace(/^-+/, ''), Object.keys(OPTIONS)) : undefined;
    throw new UsageError(`${(e as Error).message.split('. ')[0]}${near ? `; did you mean --${near}?` : ''}`);
  }
  const { values: v, positionals } = parsed;
  if (v.version) {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  const [command, ...args] = positionals;
  if (v.help || command === undefined || command === 'help') {
    io.stdout.write(USAGE);
    return command === undefined && !v.help ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const near = closest(command, COMMANDS);
    throw new UsageError(`unknown command ${JSON.stringify(command)}${near ? `; did you mean ${near}?` : ''}`);
  }
  const cmd = command as Command;
  for (const k of Object.keys(v)) {
    if (!COMMON.includes(k) && !ACCEPTS[cmd].includes(k)) throw new UsageError(`${cmd} does not take --${k}`);
  }
  const colorFlag = v['no-color'] ? false : v.color ? true : undefined;
  const style = styleFor(io.stdout, io.env, colorFlag);
  const flags: GatewayFlags = { gateway: v.gateway, controllerName: v['controller-name'] };
  const filenames = [...(v.filename ?? [])];
  const manifests = () => {
    if (filenames.length === 0) throw new UsageError(`${cmd} needs manifests: -f FILE, -f DIR or -f - (stdin)`);
    let bar: ReturnType<typeof progress> | undefined;
    const files = readManifestArgs(filenames, io.readStdin, (i, total, name) => (bar ??= progress(io.stderr, total)).step(i, name));
    bar?.done();
    return files;
  };
  const noPositionals = () => {
    if (args.length > 0) throw new UsageError(`${cmd} takes no arguments besides options, got ${JSON.stringify(args[0])}; manifests are given with -f`);
  };

  switch (cmd) {
    case 'check': {
      filenames.push(...args);
      const format = v.format ?? 'text';
      if (!['text', 'json', 'github'].includes(format)) throw new UsageError(`--format must be text, json or github, got ${JSON.stringify(format)}`);
      const files = manifests();
      const findings = checkManifests(files, flags);
      if (format === 'json') io.stdout.write(`${JSON.stringify({ files: files.map((f) => f.filename), findings }, null, 2)}\n`);
      else if (format === 'github') io.stdout.write(findings.length > 0 ? `${formatGithub(findings)}\n` : '');
      else io.stdout.write(`${formatText(findings, files, style)}\n`);
      const errors = findings.some((f) => f.severity === 'error');
      const warnings = findings.some((f) => f.severity === 'warning');
      return errors || (v.strict && warnings) ? 1 : 0;
    }
    case 'explain': {
      if (args.length !== 1) throw new UsageError('explain takes one URL or path, e.g. explain -f app.yaml http://example.com/details/1');
      const gw = buildGateway(manifests(), flags);
      const headers: Record<string, string | string[]> = {};
      for (const h of v.header ?? []) {
        const colon = h.indexOf(':');
        if (colon <= 0) throw new UsageError(`-H expects 'name: value', got ${JSON.stringify(h)}`);
        const name = h.slice(0, colon).trim().toLowerCase();
        const value = h.slice(colon + 1).trim();
        const prev = headers[name];
        headers[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
      }
      const request = toRouteRequest({
        url: args[0]!,
        ...(v.request !== undefined ? { method: v.request } : {}),
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        ...(v.port !== undefined ? { port: portOf(onlyOne(v.port, '--port'), '--port') } : {}),
        ...(v.sni !== undefined ? { sni: v.sni } : {}),
      });
      if (request.host === undefined && typeof headers.host === 'string') request.host = headers.host;
      const e = gw.explain(request);
      io.stdout.write(v.json ? `${JSON.stringify(e, null, 2)}\n` : `${formatExplanation(e)}\n`);
      return 0;
    }
    case 'routes': {
      noPositionals();
      const gw = buildGateway(manifests(), flags);
      io.stdout.write(v.json ? `${JSON.stringify(gw.ir, null, 2)}\n` : `${formatRoutes(gw)}\n`);
      return 0;
    }
    case 'status': {
      noPositionals();
      const output = v.output ?? 'table';
      if (!['table', 'yaml', 'json'].includes(output)) throw new UsageError(`-o must be table, yaml or json, got ${JSON.stringify(output)}`);
      const gw = buildGateway(manifests(), flags, true);
      io.stdout.write(output === 'yaml' ? statusYaml(gw) : output === 'json' ? `${JSON.stringify(gw.status, null, 2)}\n` : `${formatStatus(gw)}\n`);
      return 0;
    }
    case 'test': {
      const files = testFiles([...args, ...filenames]);
      if (files.length === 0) throw new UsageError('test needs route-test files (*.test.yaml) or directories holding them');
      const bar = progress(io.stderr, files.length);
      const results = files.map((f, i) => {
        bar.step(i, f);
        return runRouteTestFile(f);
      });
      bar.done();
      const { text, failed } = formatTestResults(results, style);
      io.stdout.write(`${text}\n`);
      return failed > 0 ? 1 : 0;
    }
    case 'serve': {
      noPositionals();
      const level = v['log-level'] ?? 'info';
      if (level !== 'error' && level !== 'info' && level !== 'debug') throw new UsageError(`--log-level must be error, info or debug, got ${JSON.stringify(level)}`);
      manifests();
      if (v['listener-port'] !== undefined) throw new UsageError(`--listener-port is gone: serve opens every listener port of the Gateway; bind one where you want with --port ${v['listener-port']}=BIND`);
      const serving = await serve({
        ...flags,
        filenames,
        backend: v.backend ?? [],
        port: v.port ?? [],
        host: v.host ?? '127.0.0.1',
        logLevel: level,
        log: (line) => io.stderr.write(`${line}\n`),
      });
      await new Promise<void>((resolve) => {
        const stop = () => void serving.close().then(resolve, resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      return 0;
    }
  }
}

/** The value of a flag given at most once. */
function onlyOne(values: readonly string[], flag: string): string {
  if (values.length > 1) throw new UsageError(`${flag} is given once here, got ${values.length} values`);
  return values[0]!;
}

function portOf(s: string, flag: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${flag} must be a port number, got ${JSON.stringify(s)}`);
  return n;
}

/** Route-test files: the files given, and the `*.test.yaml` files of directories given. */
function testFiles(paths: readonly string[]): string[] {
  return paths.flatMap((p) => {
    let dir: boolean;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`cannot read ${p}: no such file or directory`);
    }
    if (!dir) return [p];
    return readdirSync(p)
      .filter((f) => /\.test\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(p, f));
  });
}

function version(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'gateway-api-router') return pkg.version ?? 'unknown';
    } catch {
      // not at this depth: the bin runs from dist/, the source from src/cli/
    }
  }
  return 'unknown';
}

/** Reads all of stdin (fd 0) synchronously. */
function readStdinSync(): string {
  return readFileSync(0, 'utf8');
}

// This module is the `gateway-api-router` bin (dist/cli.js): it runs when loaded.
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, readStdin: readStdinSync, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`gateway-api-router: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 70;
  },
);
