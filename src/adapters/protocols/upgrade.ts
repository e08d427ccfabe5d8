/**
 * HTTP/1.1 Upgrade (WebSocket, RFC 6455; `appProtocol: kubernetes.io/ws`, GEP-1911) through the
 * same decision as every request: the upgrade request is routed, filtered (header modifiers,
 * rewrites, host rewrite) and then
 * - proxied to an upstream URL: the upstream's `101 Switching Protocols` is relayed and the two
 *   sockets are piped until either side closes. An `https:` upstream (`kubernetes.io/wss`,
 *   WebSocket over TLS) is verified as every https upstream is: by its BackendTLSPolicy when one
 *   applies (upstream/backend-tls.ts), else against the system CAs and the URL's host name;
 * - handed to an in-process backend's `upgrade(req, socket, head)` hook;
 * - or, when the gateway answers itself (404, redirect, 500, 503...), answered with that status.
 */
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { ServingPlan } from '../../gateway/serving.js';
import type { Decision, ForwardDecision } from '../../types.js';
import type { Outgoing } from '../respond.js';
import { upstreamFailure } from '../proxy.js';
import { applyRequest, type BackendHandler } from '../serving/in-process.js';
import { backendTLSOf, backendTLSOptions } from '../upstream/backend-tls.js';
import { upstreamHeaders } from '../upstream/headers.js';
import type { PreparedUpstream, UpstreamOptions } from '../upstream/pool.js';

/** The hook an in-process backend offers to accept upgrades: a function property `upgrade` on the handler. */
export type UpgradeHook = (req: IncomingMessage, socket: Duplex, head: Buffer) => unknown;

/** Options for proxied upgrades. */
export interface UpgradeOptions {
  /** Milliseconds to wait for the upstream's 101 (or the route's request/backendRequest timeout when set). Default 30,000. */
  handshakeTimeout?: number;
  /**
   * Milliseconds without traffic either way before both sockets are closed (pings count as
   * traffic); 0 disables. Default 300,000 (5 minutes, Envoy's stream idle timeout): a client
   * that upgrades and falls silent does not hold its connection and the upstream's for ever.
   */
  idleTimeout?: number;
  /** Express and Fastify: listen to the server's `upgrade` event for you. Default true. */
  wire?: boolean;
}

/** The default of {@link UpgradeOptions.idleTimeout}, in ms. */
export const UPGRADE_IDLE_MS = 300_000;

/** What routing an upgrade needs from its adapter. */
export interface UpgradeRouter {
  /** Routes the request (the same decision as any request). */
  route(req: IncomingMessage): Decision;
  /** The backend registered for a decision: a handler, an upstream, or undefined. */
  backendOf(d: ForwardDecision): BackendHandler | UpstreamOptions | undefined;
  /** The parsed form of an upstream. */
  prepare(spec: UpstreamOptions): PreparedUpstream;
  /** The serving plan now (BackendTLSPolicies, the Gateway's client certificate). */
  serving(): ServingPlan;
  out: Outgoing;
  options?: UpgradeOptions | undefined;
}

/**
 * Routes an HTTP/1.1 upgrade request through the same decision as every request: proxied to an
 * upstream URL, handed to an in-process backend's upgrade hook, or answered on the socket.
 */
export function routeUpgrade(u: UpgradeRouter, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  // A socket error after the gateway gave up on it must never crash the process.
  socket.on('error', ignore);
  const out = u.out;
  const d = u.route(req);
  if (d.type !== 'forward') {
    answerUpgradeDecision(socket, d, out);
    return;
  }
  const spec = u.backendOf(d);
  if (spec === undefined) {
    failUpgrade(socket, 503, 'no-endpoints', `no backend is registered for ${d.backend.namespace}/${d.backend.name}:${d.backend.port ?? ''}`, out);
    return;
  }
  if (typeof spec === 'function') {
    if (typeof spec.upgrade !== 'function') {
      failUpgrade(socket, 501, 'upgrade-unsupported', `in-process backend ${d.registered} has no upgrade hook`, out);
      return;
    }
    applyRequest(req, d);
    try {
      spec.upgrade(req, socket, head);
    } catch (e) {
      failUpgrade(socket, 500, 'backend-error', `in-process backend ${d.registered} threw on upgrade: ${(e as Error)?.message ?? String(e)}`, out);
    }
    return;
  }
  const plan = u.serving();
  const tls = backendTLSOf(plan, d, spec.url);
  if (tls.refused !== undefined) {
    failUpgrade(socket, 502, 'backend-tls', tls.refused, out);
    return;
  }
  proxyUpgrade(req, socket, head, d, u.prepare(spec), out, u.options, tls.policy !== undefined ? backendTLSOptions(tls.policy, plan.backendClientCertificate) : undefined);
}

function ignore(): void {}

/** Writes a whole HTTP/1.1 response on a raw socket and closes it. */
export function answerOnSocket(socket: Duplex, status: number, headers: Record<string, string | number | string[]>, body = ''): void {
  if (socket.destroyed || !socket.writable) return;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
  const h: Record<string, string | number | string[]> = { ...headers, connection: 'close', 'content-length': Buffer.byteLength(body) };
  for (const [k, v] of Object.entries(h)) for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * Answers an upgrade request the gateway answers itself: a redirect with its Location, a
 * respond decision with its status and generic reason, as for any other request.
 */
export function answerUpgradeDecision(socket: Duplex, d: Exclude<Decision, ForwardDecision>, out: Outgoing): void {
  if (d.type === 'redirect') {
    answerOnSocket(socket, d.status, { location: d.location });
    return;
  }
  if (d.status >= 500) out.onError?.({ status: d.status, reason: d.reason, message: d.message });
  answerOnSocket(socket, d.status, { ...(d.headers ?? {}), 'content-type': 'text/plain; charset=utf-8' }, `${d.status} ${STATUS_CODES[d.status] ?? ''}: ${d.reason}\n`);
}

/** Answers a failure during an upgrade with a status (and tells `onError` when it is a 5xx). */
export function failUpgrade(socket: Duplex, status: number, reason: string, message: string, out: Outgoing): void {
  if (status >= 500) out.onError?.({ status, reason, message });
  answerOnSocket(socket, status, { 'content-type': 'text/plain; charset=utf-8' }, `${status} ${STATUS_CODES[status] ?? ''}: ${reason}\n`);
}

/** Serialises a response head for the client socket. */
function head(status: number, message: string, raw: string[]): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Proxies an upgrade to `origin`: the request goes upstream with `Connection: upgrade` and the
 * client's `Upgrade` value; a 101 is relayed and the sockets piped, any other answer is relayed
 * and the connection closed. Closing or failing either side tears down the other.
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, headBytes: Buffer, d: ForwardDecision, target: { origin: string; basePath: string }, out: Outgoing, o: UpgradeOptions = {}, tlsOptions?: ConnectionOptions): void {
  const url = new URL(target.origin);
  const flat = upstreamHeaders(d, req);
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) for (const v of ([] as string[]).concat(flat[i + 1] as string | string[])) headers.push([flat[i] as string, v]);
  headers.push(['connection', 'upgrade'], ['upgrade', String(req.headers.upgrade ?? 'websocket')]);
  if (!headers.some(([k]) => k === 'host')) headers.push(['host', url.host]);
  const timeout = d.timeouts?.backendRequest || d.timeouts?.request || o.handshakeTimeout || 30_000;
  let settled = false;
  const options = { host: url.hostname, method: d.request.method, path: target.basePath + d.request.path, headers: headers.flat() as unknown as Record<string, string>, setHost: false };
  // wss: the certificate must name the URL's host (no SNI for an IP address), unless a
  // BackendTLSPolicy says otherwise; no pooled agent, whose sockets were verified for another policy.
  const up =
    url.protocol === 'https:'
      ? httpsRequest({ ...options, port: url.port || 443, agent: false, ...(tlsOptions ?? { servername: isIP(url.hostname) ? '' : url.hostname }) })
      : httpRequest({ ...options, port: url.port || 80 });
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    up.destroy();
    failUpgrade(socket, 504, 'upstream-timeout', `no upgrade answer from ${target.origin} within ${timeout} ms`, out);
  }, timeout);
  timer.unref();
  socket.on('close', () => {
    if (!settled) {
      settled = true;
      clearTimeout(timer);
      up.destroy();
    }
  });
  up.on('upgrade', (res, upSocket, upHead) => {
    if (settled) {
      upSocket.destroy();
      return;
    }
    settled = true;
    clearTimeout(timer);
    socket.write(head(101, res.statusMessage || 'Switching Protocols', res.rawHeaders));
    if (upHead.length > 0) socket.write(upHead);
    if (headBytes.length > 0) upSocket.write(headBytes);
    const teardown = () => {
      socket.destroy();
      upSocket.destroy();
    };
    upSocket.on('error', teardown);
    socket.on('error', teardown);
    upSocket.on('close', teardown);
    socket.on('close', teardown);
    // A half-close from one side is passed on; the other side's close then ends both.
    upSocket.pipe(socket);
    socket.pipe(upSocket);
    const idle = o.idleTimeout ?? UPGRADE_IDLE_MS;
    if (idle > 0) {
      // Traffic either way re-arms both: a socket is idle only while the connection is.
      (socket as Socket).setTimeout?.(idle, teardown);
      (upSocket as Socket).setTimeout?.(idle, teardown);
    }
  });
  up.on('response', (res) => {
    // The upstream refused to switch protocols: relay its answer and close.
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.write(head(res.statusCode ?? 502, res.statusMessage ?? '', [...stripRaw(res.rawHeaders), 'connection', 'close']));
    // The client leaving (its FIN: node:http keeps server sockets half-open) ends the upstream
    // exchange too: its connection is not held for the rest of the body.
    const leave = () => {
      res.destroy();
      socket.destroy();
    };
    socket.once('end', leave);
    socket.once('close', leave);
    res.pipe(socket);
  });
  up.on('error', (err) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    const f = upstreamFailure(err);
    failUpgrade(socket, f.status, f.reason, `upgrade to ${target.origin} for ${d.backend.namespace}/${d.backend.name}: ${err.message}`, out);
  });
  up.end();
}

/** Raw response headers without the ones this relay sets itself. */
function stripRaw(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!/^(connection|keep-alive|transfer-encoding|content-length)$/i.test(raw[i]!)) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

