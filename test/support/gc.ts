// Forced garbage collection for the retention tests: what a reload or a closed handler leaves
// behind must be collectable. V8 clears a WeakRef only after the job that made or read it ends, so
// each collection is followed by a turn of the event loop. Counting uses WeakRefs; assertions
// leave a margin (V8 may keep an object one collection longer), never a wall-clock bound.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections, each followed by a turn of the event loop (WeakRefs are cleared between jobs). */
export async function collect(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** How many of `refs` still hold their object. */
export function alive(refs: readonly WeakRef<object>[]): number {
  let n = 0;
  for (const r of refs) if (r.deref() !== undefined) n++;
  return n;
}

/** The process's active resources (handles, requests, timers) by kind: what would keep it from exiting. */
export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}
