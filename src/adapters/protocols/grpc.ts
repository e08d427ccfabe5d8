/**
 * gRPC answers from the gateway itself. A gRPC client reads the outcome of a call from the
 * `grpc-status` trailer, not the HTTP status, so for a gRPC request (`content-type:
 * application/grpc*`) the gateway's own answers are "trailers-only" responses: HTTP 200 with
 * `grpc-status` and `grpc-message` in the one header block (gRPC over HTTP/2, "Responses").
 */
import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Decision } from '../../types.js';

/** The gRPC status codes the gateway answers with (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** True for a gRPC request: a `content-type` of `application/grpc`, `application/grpc+proto`, `application/grpc-web`... */
export function isGrpcRequest(headers: Record<string, string | string[] | undefined>): boolean {
  const ct = headers['content-type'];
  return typeof ct === 'string' && ct.startsWith('application/grpc');
}

/**
 * The gRPC status for an answer the gateway gives itself, from its HTTP status and reason.
 * - no listener or no route: UNIMPLEMENTED (digest 3.4, 3.5, 9.1: "non-matching method ⇒ UNIMPLEMENTED");
 * - timeouts (504): DEADLINE_EXCEEDED;
 * - invalid or unreachable backends, no backends (500, 502, 503): UNAVAILABLE (digest 6 and 13.2,
 *   GEP-1016: an invalid backend share is UNAVAILABLE);
 * - a malformed request (400): INVALID_ARGUMENT; anything else: the mapping gRPC clients apply to
 *   HTTP statuses (404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, otherwise UNKNOWN).
 */
export function grpcStatusFor(status: number, reason?: string): number {
  if (reason === 'no-route' || reason === 'no-listener' || status === 404) return GrpcStatus.UNIMPLEMENTED;
  if (status === 504) return GrpcStatus.DEADLINE_EXCEEDED;
  if (status === 500 || status === 502 || status === 503 || status === 429 || status === 421) return GrpcStatus.UNAVAILABLE;
  if (status === 400) return GrpcStatus.INVALID_ARGUMENT;
  return GrpcStatus.UNKNOWN;
}

/** The gRPC status a decision answers a gRPC call with: OK (0) for a forward (the backend decides). */
export function grpcStatusOf(d: Decision): number {
  if (d.type === 'forward') return GrpcStatus.OK;
  if (d.type === 'redirect') return GrpcStatus.UNKNOWN; // a gRPC client cannot follow a redirect
  return grpcStatusFor(d.status, d.reason);
}

/** grpc-message is percent-encoded (gRPC over HTTP/2: "Status-Message"); kept short. */
function encodeMessage(message: string): string {
  return encodeURIComponent(message.slice(0, 200)).replace(/%20/g, ' ');
}

/**
 * Answers a gRPC call with a trailers-only response: HTTP 200, `content-type: application/grpc`,
 * `grpc-status` and `grpc-message`, and no body. On HTTP/2 the header block ends the stream, as
 * the gRPC protocol expects; on HTTP/1.1 (gRPC-Web proxies) it is an empty 200.
 */
export function sendGrpcStatus(res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const h: Record<string, string> = { ...headers, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeMessage(message) };
  const stream = (res as unknown as { stream?: ServerHttp2Stream }).stream;
  if (stream !== undefined && typeof stream.respond === 'function' && !stream.headersSent && !stream.destroyed) {
    stream.respond({ ':status': 200, ...h }, { endStream: true });
    return;
  }
  res.writeHead(200, { ...h, 'content-length': 0 });
  res.end();
}

/** True when `res` answers a gRPC request (the request is reachable as `res.req` in node:http and node:http2). */
export function answersGrpc(res: ServerResponse): boolean {
  const req = (res as unknown as { req?: { headers?: Record<string, string | string[] | undefined> } }).req;
  return req?.headers !== undefined && isGrpcRequest(req.headers);
}
