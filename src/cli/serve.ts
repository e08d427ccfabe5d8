/**
 * `serve`: the manifests served over HTTP with the node adapter, backends given as
 * `--backend name:port=URL`, the files watched and reloaded, each decision logged at debug level.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { createHandler } from '../adapters/node.js';
import { describeDecision } from '../testing/format.js';
import { buildGateway, readManifestArgs, UsageError, type GatewayFlags } from './inputs.js';

/** Options of `serve`. */
export interface ServeOptions extends GatewayFlags {
  filenames: string[];
  /** `name:port=URL` (or `namespace/name:port=URL`), repeatable. */
  backend: string[];
  /** The port to listen on; 0 picks a free one. */
  port: number;
  host: string;
  /** The listener port requests stand for (the adapter's `port` option). Default: every listener. */
  listenerPort?: number | undefined;
  logLevel: 'error' | 'info' | 'debug';
  log: (line: string) => void;
}

/** Reads `--backend name:port=URL` flags into the adapter's `backends` option. */
export function parseBackendFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0 || !/^https?:\/\//.test(f.slice(eq + 1))) throw new UsageError(`--backend expects name:port=URL, e.g. details:9080=http://127.0.0.1:9080; got ${JSON.stringify(f)}`);
    out[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return out;
}

/** Starts serving; resolves with the server once it listens. */
export async function serve(o: ServeOptions): Promise<Server> {
  if (o.filenames.includes('-')) throw new UsageError('serve watches its manifests, so it reads files or directories, not stdin (-)');
  const backends = parseBackendFlags(o.backend);
  const read = () => readManifestArgs(o.filenames, () => '');
  const router = buildGateway(read(), { ...o, backends });
  const handler = createHandler({
    router,
    backends,
    ...(o.listenerPort !== undefined ? { port: o.listenerPort } : {}),
    onError: (info) => o.log(`error: gateway answered ${info.status} ${info.reason}: ${info.message}`),
  });
  const debug = o.logLevel === 'debug';
  const server = createServer((req, res) => {
    const d = handler.handle(req, res);
    if (debug) o.log(`debug: ${req.method} ${req.headers.host ?? ''}${req.url} -> ${describeDecision(d)}`);
  });
  const watchers = watchPaths(o.filenames, () => {
    let files;
    try {
      files = read();
    } catch (e) {
      o.log(`error: reload skipped: ${(e as Error).message}`);
      return;
    }
    const r = router.reload(files.map((f) => f.text));
    if (r.ok) {
      if (o.logLevel !== 'error') o.log(`info: manifests reloaded (${files.length} file${files.length === 1 ? '' : 's'})`);
    } else {
      o.log(`error: reload failed; the previous routing table stays:\n${r.error.message}`);
    }
  });
  server.on('close', () => {
    for (const w of watchers) w.close();
    handler.close();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  if (o.logLevel !== 'error') {
    o.log(`info: serving Gateway ${router.gatewayKey} on http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`);
    for (const [k, v] of Object.entries(backends)) o.log(`info: backend ${k} -> ${v}`);
  }
  return server;
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
