/**
 * In-process backends: a decision forwarded to a plain node request handler (Express apps work
 * too) in the same process. The handler sees the request as the backend must receive it (filters
 * applied), and the route's timeouts and the decision's response headers apply to its answer.
 * It is called once: it is not a network hop, so retries (GEP-1731) do not apply to it
 * (docs/adapters.md, "Retries").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ForwardDecision } from '../../types.js';
import { interceptHead, sendError, type Outgoing } from '../respond.js';
import type { UpgradeHook } from '../protocols/upgrade.js';
import { isHttp2Request, setRequestHeaders } from './http2.js';

/**
 * An in-process backend: a plain node request handler (Express apps work too). To accept
 * upgrades (WebSocket), give it an `upgrade(req, socket, head)` method: upgrade requests routed
 * to it are handed there, after the decision's filters (docs/adapters.md, "WebSocket").
 */
export type BackendHandler = ((req: IncomingMessage, res: ServerResponse) => unknown) & { upgrade?: UpgradeHook };

/**
 * Calls an in-process backend for a forward decision: the request and backendRequest timeouts
 * answer 504 (the handler's late answer is dropped), the decision's response header operations
 * apply to its answer, and a throw or rejection answers 500 (or goes to `next`, a framework's
 * error handler, while nothing was sent).
 */
export function serveInProcess(req: IncomingMessage, res: ServerResponse, d: ForwardDecision, spec: BackendHandler, out: Outgoing, next?: (error: unknown) => void): void {
  const requestTimeout = d.timeouts?.request;
  if (requestTimeout) {
    const timer = setTimeout(() => {
      if (!res.headersSent) {
        sendError(res, 504, 'request-timeout', `no complete response within the route's request timeout of ${requestTimeout} ms`, out);
        ignoreLateWrites(res);
      }
    }, requestTimeout);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
  }
  applyRequest(req, d);
  interceptHead(res, d, out);
  const backendTimeout = d.timeouts?.backendRequest;
  if (backendTimeout) {
    const t = setTimeout(() => {
      if (!res.headersSent) {
        sendError(res, 504, 'backend-timeout', `the backend did not answer within the route's backendRequest timeout of ${backendTimeout} ms`, out);
        ignoreLateWrites(res);
      }
    }, backendTimeout);
    t.unref();
    res.once('close', () => clearTimeout(t));
  }
  try {
    const r = spec(req, res) as unknown;
    if (r && typeof (r as Promise<unknown>).then === 'function') {
      (r as Promise<unknown>).then(undefined, (e: unknown) => (next && !res.headersSent ? next(e) : sendError(res, 500, 'backend-error', `in-process backend ${d.registered} failed: ${(e as Error)?.message ?? String(e)}`, out, {}, e)));
    }
  } catch (e) {
    if (next && !res.headersSent) next(e);
    else sendError(res, 500, 'backend-error', `in-process backend ${d.registered} threw: ${(e as Error)?.message ?? String(e)}`, out, {}, e);
  }
}

/**
 * Once the gateway answered 504 for a slow in-process handler, the handler's late answer is
 * dropped: writeHead and setHeader would otherwise throw ERR_HTTP_HEADERS_SENT from the
 * handler's own callback and crash the process.
 */
function ignoreLateWrites(res: ServerResponse): void {
  Object.assign(res, {
    writeHead: () => res,
    setHeader: () => res,
    appendHeader: () => res,
    removeHeader: () => undefined,
    write: () => true,
    end: () => res,
  });
}

/** Presents the request as the backend must receive it (filters applied) to an in-process handler. */
export function applyRequest(req: IncomingMessage, d: ForwardDecision): void {
  req.method = d.request.method;
  req.url = d.request.path;
  // Express keeps the first originalUrl it sees: an Express app as the backend must not find the
  // raw path there (what is matched is what is forwarded).
  const r = req as IncomingMessage & { originalUrl?: string };
  if (r.originalUrl !== undefined) r.originalUrl = d.request.path;
  const src = d.request.headers;
  const h2 = isHttp2Request(req);
  // Unfiltered headers with the Host unchanged are the request's own object: nothing to copy.
  if (src === req.headers && (d.request.host === undefined || (h2 ? src[':authority'] : src.host) === d.request.host)) return;
  const headers: Record<string, string | string[]> = { ...src };
  if (d.request.host !== undefined) {
    if (h2) headers[':authority'] = d.request.host;
    else headers.host = d.request.host;
  }
  setRequestHeaders(req, headers);
}
