/**
 * Retries (GEP-1731; digest 8.3) for requests proxied to upstream URLs, following the rule's
 * RetryPlan (src/gateway/retry.ts: tries, codes, connection errors, backoff, repick).
 * - Only replayable requests are retried: no body, or a body of at most `maxRetryBodyBytes`
 *   (default 64 KiB), kept in memory to send again. A larger body is streamed once, unretried.
 *   A client that stalls while its body is read (the upstream's `clientTimeout`) is answered 408.
 *   The kept bodies of all requests together are bounded by the handler's `maxBufferedBodyBytes`
 *   (BodyBudget); past it, a body is sent once, unretried.
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

/** Default for `maxBufferedBodyBytes`: request body bytes a handler holds at once for retries and mirrors. */
export const DEFAULT_BUFFERED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The bytes of request bodies one handler holds in memory at once, for retries and mirrors
 * together: each body is bounded on its own (maxRetryBodyBytes, maxMirrorBodyBytes), and the
 * budget bounds their sum over every request in flight, however many clients send at once.
 */
export interface BodyBudget {
  used: number;
  limit: number;
}

/** Takes `n` bytes from the budget; false (nothing taken) when they do not fit. */
export function takeBudget(b: BodyBudget, n: number): boolean {
  if (b.used + n > b.limit) return false;
  b.used += n;
  return true;
}

/**
 * Reads the body of a request to replay it: `buffer` when it fits `limit` bytes, else a stream
 * that yields what was read and then the rest (sent once). `hasBody` false: `none`. With
 * `stall`, a client that sends nothing for `stall.ms` while the body is read stops the read:
 * `stall.onStall` answers it, and `done` is never called (no try starts).
 */
export function readReplayable(req: IncomingMessage, hasBody: boolean, limit: number, budget: BodyBudget, done: (body: AttemptBody, release: () => void) => void, stall?: { ms: number; onStall: () => void }): void {
  if (!hasBody) return done({ kind: 'none' }, noop);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return done({ kind: 'stream', stream: req }, noop);
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  // What this body holds of the handler's budget, given back once (release).
  let held = 0;
  const release = () => {
    budget.used -= held;
    held = 0;
  };
  // Nothing goes upstream until the body is complete: the client alone holds the request here.
  const timer =
    stall !== undefined && stall.ms > 0
      ? setTimeout(() => {
          cleanup();
          release();
          stall.onStall();
        }, stall.ms)
      : undefined;
  timer?.unref();
  const onData = (chunk: Buffer) => {
    timer?.refresh();
    chunks.push(chunk);
    size += chunk.length;
    // Too large to keep, or the handler holds too much already: what was read and the rest are sent once.
    if (size > limit || !takeBudget(budget, chunk.length)) {
      cleanup();
      release();
      req.pause();
      done({ kind: 'stream', stream: Readable.from(rest(chunks, req)) }, noop);
      return;
    }
    held += chunk.length;
  };
  const onEnd = () => {
    cleanup();
    done({ kind: 'buffer', bytes: Buffer.concat(chunks) }, release);
  };
  const onError = () => {
    if (settled) return;
    cleanup();
    release();
  };
  const cleanup = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onError);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onError);
}

function noop(): void {}

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
export function proxyWithRetries(req: IncomingMessage, res: ServerResponse, first: ForwardDecision, o: { hasBody: boolean; maxBodyBytes: number; budget: BodyBudget; clientTimeout: number; out: Outgoing; repick: () => ForwardDecision; run: RunAttempt }): void {
  const plan = retryPlan(first)!;
  const stall = { ms: o.clientTimeout, onStall: () => answerStalledClient(res, o.clientTimeout, o.out) };
  readReplayable(req, o.hasBody, o.maxBodyBytes, o.budget, (body, release) => {
    // The kept body is given back to the budget when the exchange ends, whatever the outcome.
    if (res.destroyed || res.writableFinished) release();
    else res.once('close', release);
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
