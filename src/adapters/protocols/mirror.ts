/**
 * RequestMirror (digest 7.5): copies of a request, fire-and-forget, to in-process or upstream
 * backends; their answers are discarded and they never slow the request itself.
 *
 * A copy carries the request body when the body is at most `maxBodyBytes` (default 256 KiB):
 * the body is collected as it flows to the backend that serves the request (nothing reads it a
 * second time) and the copies leave once it is complete. Past the bound, the copy is skipped and
 * counted in `stats.skipped`, as it is when the handler already holds `maxBufferedBodyBytes` of
 * request bodies (BodyBudget, shared with retries). At most `maxInFlight` copies run at once;
 * more are dropped and counted in `stats.dropped`.
 */
import { ServerResponse as NodeServerResponse, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { MirrorTarget } from '../../types.js';
import { requestHasBody, upstreamPath } from '../proxy.js';
import { stripHopByHop } from '../upstream/headers.js';
import type { UpstreamTarget } from '../upstream/forward.js';
import type { UpstreamOptions } from '../upstream/pool.js';
import { sendH2AndForget } from './h2.js';
import { takeBudget, type BodyBudget } from './retry.js';

/** How long a mirror copy may take, in ms: past it, it is abandoned and its slot given back. */
const MIRROR_TIMEOUT_MS = 30_000;

/** Default for `maxMirrorBodyBytes`. */
export const DEFAULT_MIRROR_BODY_BYTES = 256 * 1024;

/** Counters of the mirrors of one handler. */
export interface MirrorStats {
  /** Copies being sent now. */
  inFlight: number;
  /** Copies dropped: no backend registered for the mirror, `maxMirrorsInFlight` reached, or its BackendTLSPolicy refuses it (no valid CA, or an `http:` URL). */
  dropped: number;
  /** Copies skipped because the request body was larger than `maxMirrorBodyBytes`. */
  skipped: number;
}

type Backend = ((req: IncomingMessage, res: ServerResponse) => unknown) | UpstreamOptions;

/**
 * Calls `done` with the request body once it is complete, or with null when it exceeds `limit`
 * bytes or the request fails. The body is observed where the request stream receives it, so the
 * backend reading `req` (an in-process handler or the proxy) is untouched.
 */
export function collectBody(req: IncomingMessage, limit: number, budget: BodyBudget, done: (body: Buffer | null, release: () => void) => void): void {
  if (!requestHasBody(req)) return done(Buffer.alloc(0), noop);
  const declared = Number(req.headers['content-length']);
  // Bytes already buffered in the stream were pushed before this tap: the copy cannot be whole.
  if ((Number.isFinite(declared) && declared > limit) || req.readableLength > 0 || req.readableEnded) return done(null, noop);
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  // What this copy holds of the handler's budget, given back once (release).
  let held = 0;
  const release = () => {
    budget.used -= held;
    held = 0;
  };
  const settle = (body: Buffer | null) => {
    if (settled) return;
    settled = true;
    req.push = push;
    if (body === null) release();
    done(body, body === null ? noop : release);
  };
  const push = req.push;
  req.push = function tap(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) settle(Buffer.concat(chunks));
    else if (!settled) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding);
      size += b.length;
      // Too large for a copy, or the handler holds too much already: the mirror is skipped.
      if (size > limit || !takeBudget(budget, b.length)) settle(null);
      else {
        held += b.length;
        chunks.push(b);
      }
    }
    return push.call(this, chunk, encoding);
  } as IncomingMessage['push'];
  req.once('error', () => settle(null));
  req.once('close', () => settle(req.complete ? Buffer.concat(chunks) : null));
}

function noop(): void {}

/** The mirror sender of one handler. */
export function createMirrors(backends: Record<string, Backend>, targetOf: (m: MirrorTarget, spec: UpstreamOptions) => UpstreamTarget, o: { maxInFlight: number; maxBodyBytes: number; budget: BodyBudget }): { send(req: IncomingMessage, targets: readonly MirrorTarget[]): void; stats: MirrorStats } {
  const stats: MirrorStats = { inFlight: 0, dropped: 0, skipped: 0 };

  /** Sends one copy; `done` runs once when the copy is over (sent, failed or dropped). */
  const sendOne = (m: MirrorTarget, body: Buffer, done: () => void): void => {
    const spec = m.registered !== undefined ? backends[m.registered] : undefined;
    if (spec === undefined || stats.inFlight >= o.maxInFlight) {
      stats.dropped++;
      done();
      return;
    }
    stats.inFlight++;
    let finished = false;
    // The copy's 30 s bound, cleared when it is over: a timer left armed per copy would add up at a high request rate.
    let bound: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(bound);
      stats.inFlight--;
      done();
    };
    const headers = stripHopByHop(m.request.headers);
    for (const k of Object.keys(headers)) if (k.startsWith(':')) delete headers[k];
    if (body.length > 0) headers['content-length'] = String(body.length);
    if (typeof spec === 'function') {
      // An in-process mirror gets a detached copy of the request; its answer is discarded.
      const mreq = Object.assign(Readable.from(body.length > 0 ? [body] : []), { method: m.request.method, url: m.request.path, headers: { ...headers, ...(m.request.host ? { host: m.request.host } : {}) }, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1, socket: null }) as unknown as IncomingMessage;
      const mres = new NodeServerResponse(mreq);
      // A mirror handler that never ends gives its slot back after 30 s.
      bound = setTimeout(finish, MIRROR_TIMEOUT_MS);
      bound.unref();
      mres.write = () => true;
      mres.end = function end(this: ServerResponse) {
        finish();
        return this;
      } as ServerResponse['end'];
      try {
        const r = spec(mreq, mres) as unknown;
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, finish);
      } catch {
        finish();
      }
      return;
    }
    // Origin and path are given apart: a mirror can only reach its configured origin. It leaves
    // as the request itself would (BackendTLSPolicy, HTTP/2 or HTTP/1.1): upstream/forward.ts.
    const up = targetOf(m, spec);
    if (up.refused !== undefined) {
      stats.dropped++;
      finish();
      return;
    }
    const target = up.target;
    if (up.h2) {
      delete headers.host;
      delete headers['content-length'];
      const h2: Record<string, string | string[]> = { ...headers, ':method': m.request.method, ':path': upstreamPath(target, m.request.path), ':scheme': target.origin.startsWith('https:') ? 'https' : 'http', ':authority': m.request.host ?? new URL(target.origin).host };
      sendH2AndForget(up.target, h2, body, MIRROR_TIMEOUT_MS).then(finish);
      return;
    }
    if (m.request.host !== undefined) headers.host = m.request.host;
    const abort = new AbortController();
    bound = setTimeout(() => abort.abort(Object.assign(new Error(`timed out after ${MIRROR_TIMEOUT_MS} ms`), { code: 'GW_TIMEOUT' })), MIRROR_TIMEOUT_MS);
    bound.unref();
    try {
      target.dispatcher
        .request({
          origin: target.origin,
          path: upstreamPath(target, m.request.path),
          method: m.request.method as Dispatcher.HttpMethod,
          headers: headers as Record<string, string>,
          body: body.length > 0 ? body : null,
          signal: abort.signal,
        })
        .then((r) => r.body.dump().then(finish, finish), finish);
    } catch {
      finish();
    }
  };

  return {
    stats,
    send(req, targets) {
      if (targets.length === 0) return;
      collectBody(req, o.maxBodyBytes, o.budget, (body, release) => {
        if (body === null) {
          stats.skipped += targets.length;
          return;
        }
        // The body is given back to the budget once every copy is over.
        let left = targets.length;
        const over = () => {
          if (--left === 0) release();
        };
        for (const m of targets) sendOne(m, body, over);
      });
    },
  };
}
