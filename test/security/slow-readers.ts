// The pieces the slow-reader tests share (https-slow-reader, h2-slow-reader): the steady reader's
// pace, a body whose bytes can be checked, a record of what a backend saw of its responses, and an upstream that answers a
// large body at once or an endless one with backpressure.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MiB = 1024 * 1024;
/** The host the tests' certificates and requests name. */
export const HOST = 'app.example.com';
/** The steady reader: at most SLICE bytes, then a pause of GAP ms (at most ~3.8 MB/s). */
export const SLICE = 192 * 1024;
export const GAP = 50;
/** The steady reader's body: its pauses alone take 96 x 50 ms = 4.8 s, over 3 x the tests' bound (1.5 s). */
export const STEADY_BYTES = 18 * MiB;
/** The in-process body for the reader that stops: more than loopback's buffers (kernel, TLS) or an HTTP/2 window hold. */
export const STOPPED_BYTES = 64 * MiB;

/** A body whose every byte position matters (a pattern, so the checksum tells a lost or repeated slice). */
export function patterned(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((Math.imul(i, 2654435761) ^ i) >>> 0, i);
  return b;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** What an in-process handler or the upstream saw of its responses. */
export interface Seen {
  /** Responses closed. */
  closed: number;
  /** Responses that emitted 'finish'. On Node 20 and 22 an ended response cut mid-write finishes too (the destroyed socket completes its pending write), so only the client tells a cut from a whole answer. */
  finished: number;
}

export function track(res: ServerResponse, seen: Seen): void {
  res.on('error', () => {});
  res.on('finish', () => seen.finished++);
  res.on('close', () => seen.closed++);
}

/**
 * An upstream's answer: `/proxied` gets `body()` in one end(buffer); any other path a body without
 * end, written with backpressure (a finite body the gateway stops reading could still fit in
 * loopback's buffers, and its close would not tell that the gateway gave up).
 */
export function bigAnswer(body: () => Buffer, seen: Seen): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    track(res, seen);
    if (req.url === '/proxied') {
      res.writeHead(200, { 'content-length': String(body().length) });
      res.end(body());
      return;
    }
    const chunk = Buffer.alloc(64 * 1024, 7);
    res.writeHead(200);
    const pump = (): void => {
      while (!res.destroyed) if (!res.write(chunk)) return void res.once('drain', pump);
    };
    pump();
  };
}

/** What a client read of one response. */
export interface Transfer {
  status: number;
  /** Body bytes read. */
  got: number;
  /** The body's content-length (-1: none). */
  length: number;
  /** SHA-256 of the body read. */
  hash: string;
  /** Times the reader paused for GAP ms. */
  pauses: number;
}

/**
 * The steady reader of a response body from `source` (a TLS socket, an HTTP/2 stream): `body(c)`
 * takes each chunk of the body as it is read; after each SLICE bytes (however the chunks fall) the
 * source is paused for GAP ms. With `stopAfter` it stops once it has that many body bytes: the
 * source stays paused (`stopped` resolves), and what is read after a resume elsewhere is counted
 * alone. `close()`, when the source closes, gives the transfer (status and length are the
 * caller's to fill in).
 */
export function steadyReader(source: { pause(): unknown; resume(): unknown }, stopAfter?: number): { transfer: Transfer; stopped: Promise<void>; body(c: Buffer): void; close(): Transfer } {
  const hash = createHash('sha256');
  const t: Transfer = { status: 0, got: 0, length: -1, hash: '', pauses: 0 };
  let inSlice = 0;
  let isStopped = false;
  let onStop = (): void => {};
  const stopped = new Promise<void>((r) => (onStop = r));
  let timer: NodeJS.Timeout | undefined;
  return {
    transfer: t,
    stopped,
    body(c) {
      t.got += c.length;
      hash.update(c);
      if (isStopped) return;
      if (stopAfter !== undefined && t.got >= stopAfter) {
        isStopped = true;
        source.pause();
        onStop();
        return;
      }
      inSlice += c.length;
      if (inSlice < SLICE) return;
      inSlice -= SLICE;
      t.pauses++;
      source.pause();
      timer = setTimeout(() => source.resume(), GAP);
    },
    close() {
      clearTimeout(timer);
      onStop();
      t.hash = hash.digest('hex');
      return t;
    },
  };
}
