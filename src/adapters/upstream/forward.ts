/**
 * Forwarding a decision to an upstream URL: over HTTP/2 for h2c, gRPC and h2 backends (h2c, or h2 over TLS),
 * else HTTP/1.1 (undici); through the BackendTLSPolicy that applies to the backend; and, when the
 * rule carries a retry policy (GEP-1731), as a series of tries (protocols/retry.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayRouter } from '../../gateway/create.js';
import type { Decision, ForwardDecision } from '../../types.js';
import { proxy, requestHasBody } from '../proxy.js';
import { isH2Backend, proxyH2 } from '../protocols/h2.js';
import { proxyWithRetries, type AttemptBody, type AttemptHooks, type ExchangeHandle } from '../protocols/retry.js';
import { sendError, type Outgoing } from '../respond.js';
import type { BackendHandler } from '../serving/in-process.js';
import { backendTLSOf } from './backend-tls.js';
import type { Upstreams, UpstreamOptions } from './pool.js';

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
  const tls = backendTLSOf(f.router.serving, d, spec.url);
  if (tls.refused !== undefined) {
    sendError(res, 502, 'backend-tls', tls.refused, out);
    return { cancel: () => {} };
  }
  if (isH2Backend(d, spec)) {
    // HTTP/2 sessions are keyed by origin and policy (upstream/h2-sessions.ts), not undici Agents.
    const prepared = f.upstreams.prepare(spec);
    const target = tls.policy === undefined ? prepared : { ...prepared, tls: { policy: tls.policy, clientCertificate: f.router.serving.backendClientCertificate } };
    return proxyH2(req, res, d, target, out, { headersTimeout: target.headersTimeout, hasBody: bytes === undefined ? requestHasBody(req) : bytes !== null, ...(bytes !== undefined ? { body: bytes } : {}), ...(requestTimeout ? { requestTimeout } : {}), ...(hooks ? { attempt: hooks } : {}) });
  }
  const target = f.upstreams.prepare(tls.policy !== undefined ? f.upstreams.backendTLS.forBackend(f.router.serving, spec, tls.policy) : spec);
  return proxy(req, res, d, target, out, requestTimeout, { hooks, ...(bytes !== undefined ? { body: bytes } : {}) });
}
