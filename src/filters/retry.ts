/**
 * How a rule's `retry` stanza (GEP-1731, experimental; digest 8.3) is carried out: the plan that
 * explain() reports and the adapters follow. Plain data from the Decision's `retry`.
 *
 * - `attempts` counts retries after the first try ("max number of retries"); unset: 1.
 * - `codes` are retried; connection errors (refused, reset) and a try hitting the rule's
 *   `backendRequest` timeout are retried whenever a stanza exists ("SHOULD retry on connection
 *   errors"; "a try hitting backendRequest counts as failed and may be retried").
 * - Before retry k the wait is `backoff * 2^(k-1)`, capped at ten times `backoff`; unset: 25 ms.
 *   Never shorter than `backoff` ("minimum wait before a retry").
 * - The series is bounded by the rule's `request` timeout: when it fires, the client gets 504.
 */
import type { ForwardDecision } from '../types.js';

/** The default wait before the first retry, ms. */
export const DEFAULT_RETRY_BACKOFF_MS = 25;

/** A rule's retry stanza as the adapters run it. */
export interface RetryPlan {
  /** Tries in all: the first plus `attempts` retries. */
  tries: number;
  /** Backend response statuses that are retried. */
  codes: number[];
  /** Connection errors and backendRequest timeouts are retried too. */
  connectionErrors: true;
  /** Wait before the first retry, ms; doubled for each later one, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** The rule timeouts that bound the series (`request`) and each try (`backendRequest`), ms. */
  timeouts: { request?: number; backendRequest?: number };
  /** Each retry routes the request again, so a weighted rule may pick another of its backends. */
  repick: true;
}

/** The plan for a forward decision, or null when its rule has no retry stanza. */
export function retryPlan(d: Pick<ForwardDecision, 'retry' | 'timeouts'>): RetryPlan | null {
  const r = d.retry;
  if (r === undefined) return null;
  const backoffMs = r.backoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  return { tries: 1 + (r.attempts ?? 1), codes: r.codes, connectionErrors: true, backoffMs, maxBackoffMs: backoffMs * 10, timeouts: { ...(d.timeouts ?? {}) }, repick: true };
}

/** The wait before retry `k` (1-based), ms. */
export function backoffFor(plan: RetryPlan, k: number): number {
  return Math.min(plan.backoffMs * 2 ** (k - 1), plan.maxBackoffMs);
}
