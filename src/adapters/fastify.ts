/**
 * gateway-api-router/fastify: the gateway as a Fastify 5 plugin.
 *
 *   import { fastifyGateway } from 'gateway-api-router/fastify';
 *   await app.register(fastifyGateway, { manifests, backends });
 *   app.gateway.route({ method: 'GET', path: '/' }); // decorators: route, explain, status, reload
 *
 * Requests are routed in an `onRequest` hook of the context the plugin is registered in, before
 * Fastify parses the body, so proxied bodies stream untouched. Registered with `{ prefix }`, it
 * takes only requests under the prefix and routes their full path (docs/adapters.md, "Fastify").
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { GatewayError } from '../errors.js';
import type { GatewayRouter } from '../gateway/create.js';
import type { Explanation } from '../gateway/route.js';
import type { StatusList } from '../model/status.js';
import type { Decision, RouteRequest } from '../types.js';
import type { Manifests } from '../resources/load.js';
import { isUnder, mountPathOptions, prefixOf } from './serving/mount.js';
import { asWrapperOptions, createHandler, type ErrorInfo, type HandlerOptions } from './node.js';
import { setAnswerSink, type Answer } from './respond.js';

/** Options of the plugin: createHandler's, plus `fallthrough`, `decorator` and Fastify's `prefix`. */
export type FastifyGatewayOptions = HandlerOptions & {
  /** When true, a request no route matches continues to Fastify's own routes. Default false (404). */
  fallthrough?: boolean;
  /**
   * Fastify's registration option: the gateway takes only requests whose path is the prefix or
   * under it (segment-wise), and routes and forwards their full path, as clients sent it.
   * Default: every request of the context the plugin is registered in.
   */
  prefix?: string;
  /**
   * The name of the instance decorator (`app.gateway`), or false for none. Default `'gateway'`,
   * left to the first gateway when several share a context (name the others to reach them).
   */
  decorator?: string | false;
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
    /** The decision for this request (null before routing, and for requests outside the gateway's prefix). */
    gatewayDecision: Decision | null;
  }
}

/** Fastify's own registration options, which it passes to every plugin too. */
const REGISTRATION_OPTIONS = ['prefix', 'logLevel', 'logSerializers', 'config'];

/** The decorators this module created, to tell a second gateway's default name from an application's decorator. */
const decorators = new WeakSet<object>();

const plugin: FastifyPluginAsync<FastifyGatewayOptions> = async (fastify: FastifyInstance, options: FastifyGatewayOptions) => {
  const own = prefixOf(options.prefix);
  const scope = prefixOf(fastify.prefix) + own;
  const paths = mountPathOptions(options);
  const inScope = (url: string) => isUnder(url, scope, paths);
  const handler = createHandler({
    ...asWrapperOptions(options, 'fastifyGateway', ['fallthrough', 'decorator', ...REGISTRATION_OPTIONS]),
    onReload:
      options.onReload ??
      ((r) => (r.ok ? fastify.log.info('gateway manifests reloaded') : fastify.log.error({ err: r.error }, 'gateway reload failed; the previous table stays'))),
  });
  decorateGateway(fastify, options.decorator, handler.router);
  // Several gateways may share a context; the request decoration is declared once per chain.
  if (!fastify.hasRequestDecorator('gatewayDecision')) fastify.decorateRequest('gatewayDecision', null);
  fastify.addHook('onClose', async () => handler.close());
  // HTTP/1.1 upgrades (WebSocket) go through the same decision; `upgrade: { wire: false }` leaves them to the app.
  if (options.upgrade?.wire !== false) {
    const unwire = wireUpgrades(fastify.server, scope, inScope, handler.upgrade);
    fastify.addHook('onClose', async () => unwire());
  }
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!inScope(request.raw.url ?? '/')) {
      done(); // another gateway's prefix, or the application's
      return;
    }
    let passed = false;
    // The detail of the gateway's own 5xx answers goes to this request's logger (with its reqId).
    const onError = options.onError ?? ((info: ErrorInfo) => request.log.error({ gateway: { status: info.status, reason: info.reason, message: info.message }, err: info.error }, `gateway answered ${info.status}: ${info.reason}`));
    // The gateway's own answers go through reply.send, so the app's onSend and onResponse hooks run
    // on them. A backend's response (proxied or in-process) streams on the raw response, where
    // onResponse runs too but onSend cannot (docs/adapters.md, "Fastify").
    setAnswerSink(reply.raw, (answer) => sendReply(reply, answer));
    request.gatewayDecision = handler.handle(request.raw, reply.raw, options.fallthrough ? () => (passed = true) : undefined, onError);
    if (passed) {
      setAnswerSink(reply.raw, undefined);
      done(); // unmatched: continue to Fastify's own routes
    }
    // Otherwise the lifecycle stops here: the answer went to reply, or the backend writes the raw response.
  });
  if (own !== '' && isEncapsulated(fastify)) {
    // URLs under the prefix that no Fastify route serves go to the app's not-found handler, which
    // runs the hooks of the context that set it: at the root (the plugin's own context) that
    // includes the gateway's hook, but an encapsulated context's hooks are not run there. So an
    // encapsulated gateway declares catch-all routes for its prefix, in a child context that
    // inherits its hook; they answer only what the gateway let pass (`fallthrough`), and they
    // pass it to the app's not-found handler, as if they were not there.
    fastify.register(
      async (child) => {
        // Nothing is parsed on the way: the not-found handler sees the request as sent.
        child.removeAllContentTypeParsers();
        child.addContentTypeParser('*', (_request, _payload, done) => done(null));
        const notFound = (_request: unknown, reply: FastifyReply) => reply.callNotFound();
        child.all('/', notFound);
        child.all('/*', notFound);
      },
      { prefix: own },
    );
  }
};

/**
 * True when the plugin runs in an encapsulated context, not the root instance: Fastify makes each
 * context with `Object.create(parent)`, so only the root's prototype is not a Fastify instance.
 */
function isEncapsulated(fastify: FastifyInstance): boolean {
  const parent: unknown = Object.getPrototypeOf(fastify);
  return typeof parent === 'object' && parent !== null && typeof (parent as { register?: unknown }).register === 'function';
}

/** Sends a gateway answer through Fastify's reply; Fastify computes the length, as an onSend hook may change the body. */
function sendReply(reply: FastifyReply, answer: Answer): void {
  const { 'content-length': _length, ...headers } = answer.headers;
  reply.code(answer.status).headers(headers);
  reply.send(answer.body === '' ? undefined : answer.body);
}

function decorateGateway(fastify: FastifyInstance, option: string | false | undefined, router: GatewayRouter): void {
  if (option === false) return;
  if (option !== undefined && (typeof option !== 'string' || option === '')) throw new GatewayError('GW_ERR_OPTIONS_INVALID', `fastifyGateway: decorator must be a non-empty string or false, got ${JSON.stringify(option)}.`);
  const name = option ?? 'gateway';
  const existing = fastify.hasDecorator(name) ? (fastify as unknown as Record<string, unknown>)[name] : undefined;
  // The default name stays with the first gateway of a context (or of a parent context).
  if (option === undefined && typeof existing === 'object' && existing !== null && decorators.has(existing)) return;
  const decorator: GatewayDecorator = {
    route: (r) => router.route(r),
    explain: (r) => router.explain(r),
    get status() {
      return router.status;
    },
    reload: (m: Manifests) => router.reload(m),
    router,
  };
  decorators.add(decorator);
  fastify.decorate(name, decorator);
}

type Upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** The gateways of each server by prefix: one `upgrade` listener per server hands each upgrade to one gateway. */
const upgradeScopes = new WeakMap<object, { scope: string; inScope: (url: string) => boolean; upgrade: Upgrade }[]>();

/** Wires a gateway's upgrades on the server; the most specific prefix takes an upgrade. Returns the unwiring. */
function wireUpgrades(server: FastifyInstance['server'], scope: string, inScope: (url: string) => boolean, upgrade: Upgrade): () => void {
  let list = upgradeScopes.get(server);
  if (list === undefined) {
    const entries: { scope: string; inScope: (url: string) => boolean; upgrade: Upgrade }[] = [];
    list = entries;
    upgradeScopes.set(server, entries);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      let best: (typeof entries)[number] | undefined;
      for (const e of entries) if (e.inScope(req.url ?? '/') && (best === undefined || e.scope.length > best.scope.length)) best = e;
      best?.upgrade(req, socket, head); // none: left to the application's own upgrade listeners
    });
  }
  const entry = { scope, inScope, upgrade };
  list.push(entry);
  return () => {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  };
}

/**
 * The Fastify plugin. It is wrapped with fastify-plugin (name `gateway-api-router`), so it runs
 * in the context it is registered in: in front of that context's routes, its decorator visible
 * there. Its `prefix` is applied by the plugin itself; several gateways may share an app.
 */
export const fastifyGateway = fp(plugin, { name: 'gateway-api-router', fastify: '5.x' });
export default fastifyGateway;
