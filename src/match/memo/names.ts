/**
 * The bounded memos of the request hot path (match/request.ts): Host values already validated
 * and normalised, and header names already seen to be lower-case. Each answers what its slow
 * check answers (test/match/hot-path.test.ts holds them to it) and is bounded, so hostile input
 * costs the slow check but never memory.
 */
import { normalizeRequestHost } from '../../model/hostnames.js';

/**
 * A Host header value: a reg-name or bracketed IP literal, then an optional port. Userinfo
 * (`@`), whitespace, `/`, backslash, `%`, `,` and other characters are refused, so a Host is
 * safe to put in a redirect Location. Names are DNS-like: letters, digits, `-`, `.`, `_`, `~`.
 */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(?::[0-9]{0,5})?$/;

/**
 * Hosts already validated and normalised, raw => normalised: most requests repeat a few Hosts,
 * and then neither the regex nor the normaliser runs. Bounded: cleared when full, so hostile
 * Hosts cost the slow path but never memory.
 */
const hostCache = new Map<string, string>();
const HOST_CACHE_LIMIT = 1024;

/** The normalised host of a valid Host value, or undefined when it is invalid. */
export function hostOf(raw: string): string | undefined {
  // Hot path: most requests repeat a recent Host. A slot per Host length keeps the last one of
  // that length (no hashing: a pointer compare when it is the same string); then the Map.
  const slot = raw.length & HOST_SLOT_MASK;
  if (raw === hostSlotRaw[slot]) return hostSlot[slot];
  let host = hostCache.get(raw);
  if (host === undefined) {
    if (raw.length > 1024 || !VALID_HOST.test(raw)) return undefined;
    host = normalizeRequestHost(raw);
    if (host === undefined) return undefined;
    if (hostCache.size >= HOST_CACHE_LIMIT) hostCache.clear();
    hostCache.set(raw, host);
  }
  hostSlotRaw[slot] = raw;
  hostSlot[slot] = host;
  return host;
}

/** Recent valid Hosts and their normal forms, one per slot (`length & HOST_SLOT_MASK`); see hostOf. */
const HOST_SLOT_MASK = 15;
const hostSlotRaw: (string | undefined)[] = new Array<string | undefined>(HOST_SLOT_MASK + 1).fill(undefined);
const hostSlot: (string | undefined)[] = new Array<string | undefined>(HOST_SLOT_MASK + 1).fill(undefined);

/** True when `s` has no lower-case ASCII letter (an HTTP method already in upper case). */
export function isUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) return false;
  }
  return true;
}

/**
 * Header names already seen to be lower-case. Checking a name character by character cost as
 * much as the rest of a header scan; most requests repeat the same few names, and a Set probe
 * answers for them. Bounded: names longer than 64 characters are not kept, and the Set is
 * cleared when full, so hostile names cost the slow check but never memory.
 */
const lowerNames = new Set<string>();
const LOWER_NAMES_LIMIT = 4096;

/**
 * Lower-case header names of recent requests by position: the k-th name of a request is first
 * compared with the k-th name seen before. Bounded: SEEN_LIMIT names, overwritten in place.
 */
export const SEEN_LIMIT = 32;
export const lowerNamesSeen: string[] = [];
for (let i = 0; i < SEEN_LIMIT; i++) lowerNamesSeen.push('');

export function isLowerName(name: string): boolean {
  if (lowerNames.has(name)) return true;
  if (!isLower(name)) return false;
  if (name.length <= 64) {
    if (lowerNames.size >= LOWER_NAMES_LIMIT) lowerNames.clear();
    lowerNames.add(name);
  }
  return true;
}

function isLower(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return false;
  }
  return true;
}
