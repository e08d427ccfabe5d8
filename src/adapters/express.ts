/**
 * gateway-api-router/express: the gateway as Express 5 middleware.
 *
 *   import { gatewayMiddleware } from 'gateway-api-router/express';
 *   app.use(gatewayMiddleware({ manifests, backends, fallthrough: true }));
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Decision } from '../types.js';
import { createHandler, type GatewayHandler, type HandlerOptions } from './node.js';

/** Options of gatewayMiddleware: createHandler's, plus `fallthrough`. */
export type MiddlewareOptions = HandlerOptions & {
  /**
   * When true, a request no route matches (404) calls `next()`, so the gateway can sit in front
   * of existing Express routes. Default false: the spec's 404.
   */
  fallthrough?: boolean;
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
  const handler = createHandler(options);
  const fallthrough = options.fallthrough === true;
  const wire = options.upgrade?.wire !== false;
  const mw = ((req, res, next) => {
    // Express never sees the server: upgrades (WebSocket) are wired on the first request it serves.
    if (wire) wireUpgrades((req.socket as { server?: Server } | null)?.server, handler.upgrade);
    // Mounted under a path, Express strips it from req.url; routing uses the full URL.
    if (req.originalUrl !== undefined) req.url = req.originalUrl;
    try {
      req.gatewayDecision = handler.handle(req, res, fallthrough ? () => next() : undefined);
    } catch (e) {
      next(e);
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
