/**
 * `serve`: the manifests served on the Gateway's own listeners with listen() (one server per
 * listener port, HTTPS by SNI, drain on close), backends given as `--backend name:port=URL`,
 * listener ports mapped with `--port LISTENER=BIND`, the files watched and reloaded (ports
 * follow), each decision logged at debug level.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { GatewayRouter } from '../gateway/create.js';
import { listen, type ListeningGateway } from '../server/listen.js';
import { describeDecision } from '../testing/format.js';
import { buildGateway, readManifestArgs, UsageError, type GatewayFlags } from './inputs.js';

/** Options of `serve`. */
export interface ServeOptions extends GatewayFlags {
  filenames: string[];
  /** `name:port=URL` (or `namespace/name:port=URL`), repeatable; `tcp://host:port` URLs serve TLSRoutes. */
  backend: string[];
  /** `--port` values: `LISTENER=BIND` mappings, or one plain BIND port for a Gateway with one listener port. */
  port: string[];
  /** The address every port binds to. */
  host: string;
  logLevel: 'error' | 'info' | 'debug';
  log: (line: string) => void;
}

/** What serve resolves to once every port listens. */
export interface Serving {
  /** `{ [listenerPort]: boundPort }`, kept current across reloads. */
  readonly ports: Readonly<Record<number, number>>;
  /** Stops watching, drains requests in flight and closes every port. */
  close(): Promise<void>;
}

/** The bind port of a Gateway with one listener port when no `--port` is given, as serve always did. */
export const DEFAULT_SERVE_PORT = 8080;

/** Reads `--backend name:port=URL` flags: HTTP(S) URLs into `backends`, `tcp://` ones into `streams` (TLSRoute). */
export function parseBackendFlags(flags: readonly string[]): { backends: Record<string, string>; streams: Record<string, string> } {
  const backends: Record<string, string> = {};
  const streams: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    const url = f.slice(eq + 1);
    if (eq <= 0 || !/^(https?|tcp):\/\//.test(url)) throw new UsageError(`--backend expects name:port=URL, e.g. details:9080=http://127.0.0.1:9080 (or tcp://host:port for a TLSRoute backend); got ${JSON.stringify(f)}`);
    (url.startsWith('tcp:') ? streams : backends)[f.slice(0, eq)] = url;
  }
  return { backends, streams };
}

/**
 * Reads `--port` flags into listen()'s `ports` option. `LISTENER=BIND` maps a listener port (0:
 * an ephemeral port); a plain `BIND` is for a Gateway with one listener port. Without flags, a
 * single listener port binds {@link DEFAULT_SERVE_PORT}; several bind their own numbers.
 */
export function parsePortFlags(flags: readonly string[], listenerPorts: readonly number[]): Record<number, number> {
  const ports: Record<number, number> = {};
  const plain = flags.filter((f) => !f.includes('='));
  if (plain.length > 0 && (plain.length > 1 || listenerPorts.length > 1)) {
    throw new UsageError(`--port ${plain[0]}: the Gateway listens on port${listenerPorts.length === 1 ? '' : 's'} ${listenerPorts.join(', ')}; map each with --port LISTENER=BIND, e.g. --port ${listenerPorts[0] ?? 80}=8080`);
  }
  for (const f of flags) {
    const [l, b] = f.includes('=') ? f.split('=', 2) : [String(listenerPorts[0] ?? 80), f];
    ports[portNumber(l!, f, 1)] = portNumber(b!, f, 0);
  }
  if (flags.length === 0 && listenerPorts.length === 1) ports[listenerPorts[0]!] = DEFAULT_SERVE_PORT;
  return ports;
}

function portNumber(s: string, flag: string, min: number): number {
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < min || n > 65535) throw new UsageError(`--port expects LISTENER=BIND or BIND with port numbers (BIND 0: any free port), got ${JSON.stringify(flag)}`);
  return n;
}

/** Starts serving; resolves once every listener port listens. */
export async function serve(o: ServeOptions): Promise<Serving> {
  if (o.filenames.includes('-')) throw new UsageError('serve watches its manifests, so it reads files or directories, not stdin (-)');
  const { backends, streams } = parseBackendFlags(o.backend);
  const read = () => readManifestArgs(o.filenames, () => '');
  // listen() opens the listeners, so status says their TLS settings are enforced here.
  const router = buildGateway(read(), { ...o, backends: { ...backends, ...streams }, tlsTermination: 'listen' });
  const ports = parsePortFlags(o.port, servedPorts(router));
  for (const p of Object.keys(ports).map(Number)) if (!servedPorts(router).includes(p)) o.log(`warn: --port ${p}=${ports[p]}: the Gateway has no listener on port ${p} (yet)`);
  const listening = await listen({
    router: o.logLevel === 'debug' ? withDecisionLog(router, o.log) : router,
    backends,
    streams,
    ports,
    host: o.host,
    onError: (info) => o.log(`error: gateway answered ${info.status} ${info.reason}: ${info.message}`),
  });
  const announce = () => {
    if (o.logLevel === 'error') return;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    for (const [listenerPort, bound] of Object.entries(listening.ports)) {
      const scheme = { HTTPS: 'https', TLS: 'tls' }[protocolOf(router, Number(listenerPort))] ?? 'http';
      o.log(`info: serving Gateway ${router.gatewayKey} on ${scheme}://${host}:${bound} (listener port ${listenerPort})`);
    }
  };
  announce();
  if (o.logLevel !== 'error') for (const [k, v] of Object.entries({ ...backends, ...streams })) o.log(`info: backend ${k} -> ${v}`);
  const watchers = watchPaths(o.filenames, () => void reload(listening, read, o, announce));
  return {
    ports: listening.ports,
    async close() {
      for (const w of watchers) w.close();
      await listening.close();
    },
  };
}

/** Reloads from the files (each named, so issues locate the file); ports open and close to match. */
async function reload(listening: ListeningGateway, read: () => ReturnType<typeof readManifestArgs>, o: ServeOptions, announce: () => void): Promise<void> {
  let files;
  try {
    files = read();
  } catch (e) {
    o.log(`error: reload skipped: ${(e as Error).message}`);
    return;
  }
  const before = JSON.stringify(listening.ports);
  try {
    const r = await listening.reload(files);
    if (!r.ok) {
      o.log(`error: reload failed; the previous routing table stays:\n${r.error.message}`);
      return;
    }
  } catch (e) {
    o.log(`error: reload applied, but a port could not be opened: ${(e as Error).message}`);
    return;
  }
  if (o.logLevel !== 'error') o.log(`info: manifests reloaded (${files.length} file${files.length === 1 ? '' : 's'})`);
  if (JSON.stringify(listening.ports) !== before) announce();
}

/** The distinct ports of the listeners listen() opens (HTTP, HTTPS, TLS). */
function servedPorts(router: GatewayRouter): number[] {
  return [...new Set(router.serving.listeners.filter((l) => l.protocol === 'HTTP' || l.protocol === 'HTTPS' || l.protocol === 'TLS').map((l) => l.port))].sort((a, b) => a - b);
}

function protocolOf(router: GatewayRouter, port: number): string {
  return router.serving.listeners.find((l) => l.port === port)?.protocol ?? 'HTTP';
}

/** The router with each decision logged at debug level (listen() routes every request through `route`). */
function withDecisionLog(router: GatewayRouter, log: (line: string) => void): GatewayRouter {
  const logged = Object.create(router) as GatewayRouter;
  logged.route = (request) => {
    const d = router.route(request);
    log(`debug: ${request.method ?? 'GET'} ${request.host ?? ''}${request.path} -> ${describeDecision(d)}`);
    return d;
  };
  return logged;
}

/** Watches each path's directory (to see editors' atomic renames); calls `onChange` debounced. */
function watchPaths(paths: readonly string[], onChange: () => void): FSWatcher[] {
  let timer: NodeJS.Timeout | undefined;
  const dirs = new Set(paths.map((p) => (statSync(p).isDirectory() ? p : dirname(p))));
  return [...dirs].map((d) => {
    const w = watch(d, { persistent: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, 100);
    });
    w.on('error', () => {});
    return w;
  });
}
