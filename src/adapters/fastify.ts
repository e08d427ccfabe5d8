/**
 * gateway-api-router/fastify: the gateway as a Fastify 5 plugin.
 *
 *   import { fastifyGateway } from 'gateway-api-router/fastify';
 *   await app.register(fastifyGateway, { manifests, backends });
 *   app.gateway.route({ method: 'GET', path: '/' }); // decorators: route, explain, status, reload
 *
 * Requests are routed in an `onRequest` hook, before Fastify parses the body, so proxied bodies
 * stream untouched. With `fallthrough: true`, unmatched requests continue to Fastify's routes.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayRouter } from '../gateway/create.js';
import type { Explanation } from '../gateway/route.js';
import type { StatusList } from '../model/status.js';
import type { Decision, RouteRequest } from '../types.js';
import type { Manifests } from '../resources/load.js';
import { asWrapperOptions, createHandler, type ErrorInfo, type HandlerOptions } from './node.js';

/** Options of the plugin: createHandler's, plus `fallthrough`. */
export type FastifyGatewayOptions = HandlerOptions & {
  /** When true, a request no route matches continues to Fastify's own routes. Default false (404). */
  fallthrough?: boolean;
};

/** `fastify.gateway`: the gateway's API. */
export interface GatewayDecorator {
  route(request: RouteRequest): Decision;
  explain(request: RouteRequest): Explanation;
  readonly status: StatusList;
  reload: GatewayRouter['reload'];
  readonly router: GatewayRouter;
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: GatewayDecorator;
  }
  interface FastifyRequest {
    /** The decision for this request (null before routing). */
    gatewayDecision: Decision | null;
  }
}

const plugin: FastifyPluginAsync<FastifyGatewayOptions> = async (fastify: FastifyInstance, options: FastifyGatewayOptions) => {
  // Fastify passes its registration options (prefix, logLevel...) to the plugin as well.
  const handler = createHandler({
    ...asWrapperOptions(options, 'fastifyGateway', ['fallthrough', 'prefix', 'logLevel', 'logSerializers', 'config']),
    onReload:
      options.onReload ??
      ((r) => (r.ok ? fastify.log.info('gateway manifests reloaded') : fastify.log.error({ err: r.error }, 'gateway reload failed; the previous table stays'))),
  });
  const router = handler.router;
  const decorator: GatewayDecorator = {
    route: (r) => router.route(r),
    explain: (r) => router.explain(r),
    get status() {
      return router.status;
    },
    reload: (m: Manifests) => router.reload(m),
    router,
  };
  fastify.decorate('gateway', decorator);
  fastify.decorateRequest('gatewayDecision', null);
  fastify.addHook('onClose', async () => handler.close());
  fastify.addHook('onRequest', (request, reply, done) => {
    let passed = false;
    // The detail of the gateway's own 5xx answers goes to this request's logger (with its reqId).
    const onError = options.onError ?? ((info: ErrorInfo) => request.log.error({ gateway: { status: info.status, reason: info.reason, message: info.message }, err: info.error }, `gateway answered ${info.status}: ${info.reason}`));
    request.gatewayDecision = handler.handle(request.raw, reply.raw, options.fallthrough ? () => (passed = true) : undefined, onError);
    if (passed) {
      done(); // unmatched: continue to Fastify's own routes
      return;
    }
    // The gateway answered (or is forwarding) on the raw response: Fastify must not touch it.
    reply.hijack();
  });
};

/** The Fastify plugin (wrapped with fastify-plugin, so its decorators are visible to the app). */
export const fastifyGateway = fp(plugin, { name: 'gateway-api-router', fastify: '5.x' });
export default fastifyGateway;
