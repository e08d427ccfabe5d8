/**
 * Forwarding a decision to an upstream URL: over HTTP/2 for h2c, gRPC and h2 backends (h2c, or h2 over TLS),
 * else HTTP/1.1 (undici); through the BackendTLSPolicy that applies to the backend; and, when the
 * rule carries a retry policy (GEP-1731), as a series of tries (protocols/retry.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayRouter } from '../../gateway/create.js';
import type { Decision, ForwardDecision } from '../../types.js';
import { proxy, requestHasBody } from '../proxy.js';
import { isH2Backend, proxyH2, type H2Upstream } from '../protocols/h2.js';
import { proxyWithRetries, type AttemptBody, type BodyBudget, type AttemptHooks, type ExchangeHandle } from '../protocols/retry.js';
import { sendError, type Outgoing } from '../respond.js';
import type { BackendHandler } from '../serving/in-process.js';
import { backendTLSOf } from './backend-tls.js';
import type { PreparedUpstream, Upstreams, UpstreamOptions } from './pool.js';

/** What forwarding to upstreams needs from its adapter. */
export interface UpstreamForwarder {
  router: GatewayRouter;
  upstreams: Upstreams;
  /** The backend registered for a decision: a handler, an upstream, or undefined. */
  backendOf(d: ForwardDecision): BackendHandler | UpstreamOptions | undefined;
  /** Routes the request again (a retry may pick another backend of the rule). */
  route(req: IncomingMessage): Decision;
  /** Largest request body kept to replay on a retry, in bytes. */
  maxRetryBodyBytes: number;
  /** The handler's budget of kept request bodies (retries and mirrors together). */
  bodyBudget: BodyBudget;
}

/**
 * Forwards `d` to the upstream `spec`. Never throws; the exchange handles the client abort and
 * the request timeout itself.
 */
export function forwardUpstream(f: UpstreamForwarder, req: IncomingMessage, res: ServerResponse, d: ForwardDecision, spec: UpstreamOptions, out: Outgoing): void {
  if (d.retry !== undefined) {
    proxyWithRetries(req, res, d, {
      hasBody: requestHasBody(req),
      maxBodyBytes: f.maxRetryBodyBytes,
      budget: f.bodyBudget,
      clientTimeout: f.upstreams.prepare(spec).clientTimeout,
      out,
      // A retry routes the request again: a weighted rule may pick another of its backends.
      repick: () => {
        const again = f.route(req);
        return again.type === 'forward' && again.route === d.route && again.rule.index === d.rule.index ? again : d;
      },
      run: (dn, body, hooks) => {
        const sn = f.backendOf(dn);
        return sn === undefined || typeof sn === 'function' ? null : sendUpstream(f, req, res, dn, sn, out, undefined, body, hooks);
      },
    });
    return;
  }
  sendUpstream(f, req, res, d, spec, out, d.timeouts?.request, undefined, undefined);
}

/** One try to an upstream URL, over HTTP/2 for h2c, gRPC and h2 backends (h2-over-TLS for `https:`), else HTTP/1.1. */
function sendUpstream(f: UpstreamForwarder, req: IncomingMessage, res: ServerResponse, d: ForwardDecision, spec: UpstreamOptions, out: Outgoing, requestTimeout: number | undefined, body: AttemptBody | undefined, hooks: AttemptHooks | undefined): ExchangeHandle {
  const bytes = body === undefined ? undefined : body.kind === 'none' ? null : body.kind === 'buffer' ? body.bytes : body.stream;
  // BackendTLSPolicy: an https upstream is verified as the policy says; plain http would ignore it.
  const up = upstreamTarget(f, d, spec);
  if (up.refused !== undefined) {
    sendError(res, 502, 'backend-tls', up.refused, out);
    return { cancel: () => {} };
  }
  if (up.h2) {
    const target = up.target;
    return proxyH2(req, res, d, target, out, { headersTimeout: target.headersTimeout, hasBody: bytes === undefined ? requestHasBody(req) : bytes !== null, ...(bytes !== undefined ? { body: bytes } : {}), ...(requestTimeout ? { requestTimeout } : {}), ...(hooks ? { attempt: hooks } : {}) });
  }
  return proxy(req, res, d, up.target, out, requestTimeout, { hooks, ...(bytes !== undefined ? { body: bytes } : {}) });
}

/** Where a backend's traffic goes: refused, an HTTP/2 target (sessions) or an HTTP/1.1 one (pool). */
export type UpstreamTarget = { refused: string } | { refused?: undefined; h2: true; target: PreparedUpstream & H2Upstream } | { refused?: undefined; h2: false; target: PreparedUpstream };

/**
 * The one home of "how does traffic to this backend leave": requests, retries and mirrors alike.
 * BackendTLSPolicy: an https upstream is verified as the policy says, plain http under a policy
 * is refused. HTTP/2 sessions are keyed by origin and policy (upstream/h2-sessions.ts); HTTP/1.1
 * goes through the policy's own undici Agent.
 */
export function upstreamTarget(f: Pick<UpstreamForwarder, 'router' | 'upstreams'>, d: Pick<ForwardDecision, 'backend'> & { route?: ForwardDecision['route'] }, spec: UpstreamOptions): UpstreamTarget {
  const plan = f.router.serving;
  // A reload replaced the plan: connections under replaced TLS settings are retired (one identity check otherwise).
  f.upstreams.follow(plan);
  const tls = backendTLSOf(plan, d, spec.url);
  if (tls.refused !== undefined) return { refused: tls.refused };
  if (isH2Backend(d, spec)) {
    const prepared = f.upstreams.prepare(spec);
    return { h2: true, target: tls.policy === undefined ? prepared : { ...prepared, tls: { policy: tls.policy, clientCertificate: plan.backendClientCertificate } } };
  }
  return { h2: false, target: f.upstreams.prepare(tls.policy !== undefined ? f.upstreams.backendTLS.forBackend(plan, spec, tls.policy) : spec) };
}
