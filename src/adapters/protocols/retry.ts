/**
 * Retries (GEP-1731; digest 8.3) for requests proxied to upstream URLs, following the rule's
 * RetryPlan (src/gateway/retry.ts: tries, codes, connection errors, backoff, repick).
 * - Only replayable requests are retried: no body, or a body of at most `maxRetryBodyBytes`
 *   (default 64 KiB), kept in memory to send again. A larger body is streamed once, unretried.
 *   A client that stalls while its body is read (the upstream's `clientTimeout`) is answered 408.
 * - The rule's `request` timeout runs over the whole series: when it fires, the try in flight is
 *   cancelled and the client gets 504 at once. Each try has its own `backendRequest` timeout.
 * - A try's response is discarded (its connection aborted) only while it is a retried status
 *   and tries remain; the last try's answer or error is the client's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { backoffFor, retryPlan } from '../../filters/retry.js';
import type { ForwardDecision } from '../../types.js';
import { answerStalledClient } from '../proxy.js';
import { sendError, type Outgoing } from '../respond.js';

/** Decides, per try, whether the retry layer takes over. */
export interface AttemptHooks {
  /** The upstream answered `status`: true when this response is discarded and the series goes on. */
  retryStatus(status: number): boolean;
  /** The try failed before a response: true when the retry layer handles it (retries or answers). */
  retryError(err: unknown): boolean;
}

/** A try in flight. */
export interface ExchangeHandle {
  cancel(reason: Error): void;
}

/** The request body to send on a try: none, the buffered bytes, or the (unreplayable) stream. */
export type AttemptBody = { kind: 'none' } | { kind: 'buffer'; bytes: Buffer } | { kind: 'stream'; stream: Readable };

/** Default for `maxRetryBodyBytes`: bodies up to this size are kept to be replayed. */
export const DEFAULT_RETRY_BODY_BYTES = 64 * 1024;

/**
 * Reads the body of a request to replay it: `buffer` when it fits `limit` bytes, else a stream
 * that yields what was read and then the rest (sent once). `hasBody` false: `none`. With
 * `stall`, a client that sends nothing for `stall.ms` while the body is read stops the read:
 * `stall.onStall` answers it, and `done` is never called (no try starts).
 */
export function readReplayable(req: IncomingMessage, hasBody: boolean, limit: number, done: (body: AttemptBody) => void, stall?: { ms: number; onStall: () => void }): void {
  if (!hasBody) return done({ kind: 'none' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return done({ kind: 'stream', stream: req });
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  // Nothing goes upstream until the body is complete: the client alone holds the request here.
  const timer =
    stall !== undefined && stall.ms > 0
      ? setTimeout(() => {
          cleanup();
          stall.onStall();
        }, stall.ms)
      : undefined;
  timer?.unref();
  const onData = (chunk: Buffer) => {
    timer?.refresh();
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit) {
      cleanup();
      req.pause();
      done({ kind: 'stream', stream: Readable.from(rest(chunks, req)) });
    }
  };
  const onEnd = () => {
    cleanup();
    done({ kind: 'buffer', bytes: Buffer.concat(chunks) });
  };
  const onError = () => cleanup();
  const cleanup = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

async function* rest(head: Buffer[], req: IncomingMessage): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of req) yield chunk as Buffer;
}

/** What one try needs: the decision (its backend) and the body. Returns null when the decision's backend cannot be proxied. */
export type RunAttempt = (d: ForwardDecision, body: AttemptBody, hooks: AttemptHooks | undefined) => ExchangeHandle | null;

/**
 * Runs the tries of a forward decision that carries a retry policy. `repick` routes the request
 * again for a retry (another backend of the same rule may come out); `run` starts one try.
 */
export function proxyWithRetries(req: IncomingMessage, res: ServerResponse, first: ForwardDecision, o: { hasBody: boolean; maxBodyBytes: number; clientTimeout: number; out: Outgoing; repick: () => ForwardDecision; run: RunAttempt }): void {
  const plan = retryPlan(first)!;
  const stall = { ms: o.clientTimeout, onStall: () => answerStalledClient(res, o.clientTimeout, o.out) };
  readReplayable(req, o.hasBody, o.maxBodyBytes, (body) => {
    if (body.kind === 'stream') {
      o.run(first, body, undefined); // too large to replay: one try
      return;
    }
    let tries = 0;
    let over = false;
    let current: ExchangeHandle | null = null;
    let wait: NodeJS.Timeout | undefined;
    const requestTimeout = first.timeouts?.request;
    let seriesTimer: NodeJS.Timeout | undefined;
    const end = () => {
      over = true;
      clearTimeout(wait);
      clearTimeout(seriesTimer);
    };
    res.once('close', end);
    if (requestTimeout) {
      seriesTimer = setTimeout(() => {
        if (over) return;
        over = true;
        clearTimeout(wait);
        sendError(res, 504, 'request-timeout', `no complete response within the route's request timeout of ${requestTimeout} ms (${tries} tries)`, o.out);
        current?.cancel(Object.assign(new Error(`request timeout ${requestTimeout} ms`), { code: 'GW_TIMEOUT' }));
      }, requestTimeout);
      seriesTimer.unref();
    }
    const hooks: AttemptHooks = {
      retryStatus: (status) => !over && tries < plan.tries && plan.codes.includes(status) && retry(),
      retryError: () => over || (tries < plan.tries && retry()),
    };
    const retry = (): boolean => {
      wait = setTimeout(() => start(o.repick()), backoffFor(plan, tries));
      wait.unref();
      return true;
    };
    const start = (d: ForwardDecision) => {
      if (over) return;
      tries++;
      current = o.run(d, body, hooks) ?? o.run(first, body, hooks);
    };
    start(first);
    res.once('finish', end);
  }, stall);
}
