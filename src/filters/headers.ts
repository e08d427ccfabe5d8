/**
 * Request and response header modifiers (`HTTPHeaderFilter`, spec digest section 7.2): set
 * replaces every value, add appends one, remove deletes every occurrence. Names are
 * case-insensitive everywhere; within one list only the first entry for a name counts (the IR
 * holds the operations normalised: see ir/lower.ts).
 */
import type { HeaderOps } from '../types.js';

/** Lower-case header map; repeated headers are arrays. */
export type Headers = Record<string, string | string[]>;

/**
 * Returns a new header map with `ops` applied; `headers` is not modified and shares no array
 * with the result. Order: set, add,
 * remove (one name may appear in only one action, so the order never changes the result).
 */
export function applyHeaderOps(headers: Headers, ops: HeaderOps): Headers {
  // Repeated headers' arrays are copied too: the decision must never alias the caller's request
  // (a backend or filter appending to a value would change the caller's headers).
  const out: Headers = {};
  for (const k in headers) {
    const v = headers[k]!;
    out[k] = Array.isArray(v) ? v.slice() : v;
  }
  for (const [name, value] of ops.set) out[name] = value;
  for (const [name, value] of ops.add) {
    const prev = out[name];
    out[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  for (const name of ops.remove) delete out[name];
  return out;
}
