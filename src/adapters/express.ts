/**
 * gateway-api-router/express: the gateway as Express 5 middleware.
 *
 *   import { gatewayMiddleware } from 'gateway-api-router/express';
 *   app.use(gatewayMiddleware({ manifests, backends, fallthrough: true }));
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Decision } from '../types.js';
import { asWrapperOptions, createHandler, type GatewayHandler, type HandlerOptions } from './node.js';
import { isUnder, mountPathOptions } from './serving/mount.js';

/** Options of gatewayMiddleware: createHandler's, plus `fallthrough`. */
export type MiddlewareOptions = HandlerOptions & {
  /**
   * When true, a request no route matches (404) calls `next()`, so the gateway can sit in front
   * of existing Express routes. Default false: the spec's 404.
   */
  fallthrough?: boolean;
  /**
   * When true, an in-process backend's exception (or rejection) and a body a parser already read
   * are passed to `next(err)`, for the app's error handlers. Default false: the gateway answers a
   * generic 500 and gives the detail to `onError` (so no error detail reaches clients by default).
   */
  passErrors?: boolean;
};

/** Express middleware with the gateway attached (`.handler.router` for route, explain, status, reload). */
export interface GatewayMiddleware {
  (req: IncomingMessage & { originalUrl?: string; gatewayDecision?: Decision }, res: ServerResponse, next: (err?: unknown) => void): void;
  readonly handler: GatewayHandler;
  /** `server.on('upgrade', mw.upgrade)`: done for you on the first request the middleware sees. */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** Creates Express middleware that routes every request through the Gateway. */
export function gatewayMiddleware(options: MiddlewareOptions): GatewayMiddleware {
  const handler = createHandler(asWrapperOptions(options, 'gatewayMiddleware', ['fallthrough', 'passErrors']));
  const fallthrough = options.fallthrough === true;
  const wire = options.upgrade?.wire !== false;
  const paths = mountPathOptions(options);
  const mw = ((req, res, next) => {
    // Express never sees the server: upgrades (WebSocket) are wired on the first request it serves.
    if (wire) wireUpgrades((req.socket as { server?: Server } | null)?.server, handler.upgrade);
    // Express mounts on the path as received; the gateway takes only what is under its mount path
    // once normalised (`/api/../admin` is `/admin`, outside `/api`), as the Fastify plugin does.
    const base = (req as { baseUrl?: string }).baseUrl;
    if (base && req.originalUrl !== undefined && !isUnder(req.originalUrl, base, paths)) {
      next();
      return;
    }
    // Mounted under a path (app.use('/api', mw)), Express strips it from req.url; routing and
    // forwarding use the full path (req.originalUrl). Whatever runs next gets req.url back as
    // Express set it, or Express would prepend the mount path again on the way out.
    const mounted = req.url;
    if (req.originalUrl !== undefined) req.url = req.originalUrl;
    const pass = (d: Decision) => {
      req.url = mounted;
      req.gatewayDecision = d; // set before next(), so fall-through middleware sees it
      next();
    };
    const fail = (e: unknown) => {
      req.url = mounted;
      next(e); // with passErrors: backend errors and a consumed body reach Express's error handlers
    };
    const passErrors = options.passErrors === true;
    try {
      req.gatewayDecision = handler.handle(req, res, fallthrough ? pass : undefined, undefined, passErrors ? fail : undefined);
    } catch (e) {
      fail(e);
    }
  }) as GatewayMiddleware;
  Object.defineProperty(mw, 'handler', { value: handler, enumerable: true });
  Object.defineProperty(mw, 'upgrade', { value: handler.upgrade, enumerable: true });
  return mw;
}

const wired = new WeakSet<Server>();

/** Listens to `server`'s upgrade event once, unless `upgrade` already does. */
export function wireUpgrades(server: Server | undefined, upgrade: GatewayHandler['upgrade']): void {
  if (server === undefined || wired.has(server)) return;
  wired.add(server);
  if (typeof server.on !== 'function' || server.listeners('upgrade').includes(upgrade)) return;
  server.on('upgrade', upgrade);
}

export type { HandlerOptions } from './node.js';
