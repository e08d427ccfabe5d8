/**
 * compileMatcher: the fast path. Turns the IR into per-listener host tables and per-vhost path
 * indexes so that the work per request does not grow with the number of routes:
 *
 * - hosts: an exact-host Map, a wildcard-suffix Map probed once per label, and the any-host vhost;
 * - paths: a segment trie holding PathPrefix and Exact values. Every node's store is the
 *   complete, precedence-sorted candidate list for the paths it covers (pre-merged at compile
 *   time with the shorter prefixes and regexes that also match them), so a lookup is one trie
 *   walk, one Map probe per path segment, then a scan of that short list for method, header and
 *   query checks. The work does not depend on how many routes there are.
 */
import type * as IR from '../ir/types.js';
import type { ListenerRef } from '../types.js';
import { isIPAddressHost } from '../model/hostnames.js';
import type { RequestView } from './request.js';
import { canonicalPathValue } from './normalize.js';
import { checkCompiler, type Check, type CompiledChecks, type RegexCompiler, type ScanTest } from './checks.js';

export type { Check, RegexCompiler } from './checks.js';

/** One match, ready to test. `test` checks everything except the path's Exact/Prefix part. */
export interface Candidate {
  match: IR.Match;
  /** Global precedence rank within its vhost: lower wins. */
  rank: number;
  /** All of `checks` in one function. */
  test: (req: RequestView) => boolean;
  /** The conditions `test` checks, in the order it checks them. */
  checks: readonly Check[];
  /** What the lookup's scan tests once the method matched (see ScanTest in checks.ts). */
  scan: ScanTest;
  /** What the caller attached to this match at compile time (see compileMatcher). */
  payload: unknown;
  /** `match.index`, kept here so a hit reads it without another hop. */
  index: number;
  /** The listener whose virtual host holds this candidate (a match listed on several listeners has a candidate on each). */
  listener: ListenerRef;
}

/**
 * A precedence-sorted candidate list, and what the lookup scans instead. For GET, the candidates
 * a GET can pass (those without a method condition or with GET), in the same order, cut after
 * the first that needs no further test: the first of them lies in the list itself (`c` and its
 * test `t`, see ScanTest in checks.ts), and so does the second when it needs no test (`then`);
 * any more are in `full.get` as `[test, candidate, ...]`. At 10,000 routes each array or
 * candidate read is a cache miss: most GETs are answered by the list (the trie node) the walk
 * already read, without reading the candidates that fail, and a GET never reads a POST-only
 * candidate. The first passing entry is the first passing candidate of `all` (a candidate left
 * out fails its method check).
 */
export interface CandidateList {
  /** The first candidate a GET can pass, or null when there is none. */
  c: Candidate | null;
  /** Its test once the method matched. */
  t: ScanTest;
  /** The second candidate a GET can pass when it needs no test, else null. */
  then: Candidate | null;
  /**
   * Null when no candidate names a method: every method is looked up as GET is. Otherwise the
   * first method other than GET that a candidate names, in precedence order ('' when only GET is
   * named), and `w1` the first candidate a request with that method can pass when it needs no
   * other test (a POST to a path with a POST rule), else null. Other methods scan `full.all`.
   */
  m1: string | null;
  w1: Candidate | null;
  /** What the lookup reads only past these fields, and explain() always. */
  full: FullList;
}

/** The rest of a CandidateList, in an object of its own so that trie nodes stay small. */
export interface FullList {
  /** Every candidate in compiled (precedence) order: what explain() tests and reports. */
  all: Candidate[];
  /** The GET candidates after `then` would be, as `[test, candidate, ...]` from the second; empty when `c` and `then` are all. */
  get: Scan;
}

/** `[test, candidate, ...]`, see CandidateList. */
export type Scan = unknown[];

/**
 * One node of a virtual host's segment trie. Its children are an open-addressing hash table of
 * stride 3 (`[hash, segment, node, ...]`, a power of two of slots, at most half full), probed
 * with a hash computed while the path is scanned: a lookup slices no segment and allocates
 * nothing. `mask` is the slot count minus one, or -1 for a leaf (most nodes).
 */
interface TrieNode {
  // The fields the walk reads come first, so that they share the node's first cache line.
  mask: number;
  /** With exactly one child (a chain such as "/api/v1/"), its segment and node: compared, not hashed. */
  one: string | null;
  oneNode: TrieNode | null;
  slots: Slot[];
  /** Candidates for a path that ends exactly at this node: its Exact matches merged in. */
  exact: CandidateList | null;
  /**
   * Candidates for paths that go on below this node (or end here with no Exact match of their
   * own): the node is its own CandidateList, so that a hit reads its winner from the node the
   * walk just read, one memory hop fewer at 10,000 routes.
   */
  c: Candidate | null;
  t: ScanTest;
  then: Candidate | null;
  m1: string | null;
  w1: Candidate | null;
  full: FullList;
}

const NO_SCAN: Scan = Object.freeze([]) as unknown as Scan;
const NO_FULL: FullList = Object.freeze({ all: Object.freeze([]) as unknown as Candidate[], get: NO_SCAN });
const EMPTY: CandidateList = Object.freeze({ c: null, t: null, then: null, m1: null, w1: null, full: NO_FULL });

/** The slots of every leaf: one shared empty array, never written to. */
const NO_SLOTS: Slot[] = Object.freeze([]) as unknown as Slot[];

/** A slot's hash, segment (null when the slot is free) or child. */
type Slot = number | string | TrieNode | null;

function newNode(): TrieNode {
  return { mask: -1, one: null, oneNode: null, slots: NO_SLOTS, exact: null, c: null, t: null, then: null, m1: null, w1: null, full: NO_FULL };
}

/** FNV-1a over the characters of a segment, kept to 30 bits so that it is a small integer. */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

function segmentHash(s: string, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h & 0x3fffffff;
}

/** The child of `node` for the segment `path[from, to)` with hash `h`, or null. */
function childOf(node: TrieNode, path: string, from: number, to: number, h: number): TrieNode | null {
  const slots = node.slots;
  const mask = node.mask;
  const len = to - from;
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const k = i * 3;
    const seg = slots[k + 1] as string | null;
    if (seg === null) return null;
    if (slots[k] === h && seg.length === len && path.startsWith(seg, from)) return slots[k + 2] as TrieNode;
  }
}

/**
 * Adds a child to a node's table, growing it (to keep it at most half full) as needed. `counts`
 * holds, while building, how many children each node has (the nodes do not carry it).
 */
function addChild(node: TrieNode, seg: string, child: TrieNode, counts: Map<TrieNode, number>): void {
  const count = (counts.get(node) ?? 0) + 1;
  counts.set(node, count);
  if (count * 2 > node.mask + 1) {
    const old = node.slots;
    const size = Math.max(2, (node.mask + 1) * 2);
    // A copy of an empty table of this size: no holes (a holey array is slower to read), and
    // exactly 3 * size slots (push would leave up to half again as many unused).
    const slots = emptySlots(size).slice();
    node.slots = slots;
    node.mask = size - 1;
    for (let k = 0; k < old.length; k += 3) if (old[k + 1] !== null) place(node, old[k] as number, old[k + 1] as string, old[k + 2] as TrieNode);
  }
  place(node, segmentHash(seg, 0, seg.length), seg, child);
  node.one = count === 1 ? seg : null;
  node.oneNode = count === 1 ? child : null;
}

/** Empty slot tables by size (a power of two), filled with push once, copied by addChild. */
const emptyTables = new Map<number, Slot[]>();

function emptySlots(size: number): Slot[] {
  let t = emptyTables.get(size);
  if (t === undefined) {
    t = [];
    for (let i = 0; i < size; i++) t.push(0, null, null);
    emptyTables.set(size, t);
  }
  return t;
}

function place(node: TrieNode, h: number, seg: string, child: TrieNode): void {
  const slots = node.slots;
  let i = h & node.mask;
  while (slots[i * 3 + 1] !== null) i = (i + 1) & node.mask;
  slots[i * 3] = h;
  slots[i * 3 + 1] = seg;
  slots[i * 3 + 2] = child;
}

/**
 * The CandidateList of `all`. Runs for every trie node with candidates of its own at every load:
 * the GET scan is gathered in `scratch` (a list reused by the whole build, written by index) and
 * copied, sized exactly, only when the list keeps it.
 */
function list(all: Candidate[], scratch: Scan): CandidateList {
  if (all.length === 0) return EMPTY;
  // The GET scan, and the first method other than GET that a candidate names.
  const get = scratch;
  let n = 0;
  let named = false;
  let m1: string | null = null;
  for (let i = 0; i < all.length; i++) {
    const c = all[i]!;
    const m = c.match.method;
    if (m !== null) {
      named = true;
      if (m1 === null && m !== 'GET') m1 = m;
    }
    if (n > 0 && get[n - 2] === null) continue; // cut after a candidate with no test
    if (m === null || m === 'GET') {
      if (n < get.length) get[n] = c.scan;
      else get.push(c.scan);
      if (n + 1 < get.length) get[n + 1] = c;
      else get.push(c);
      n += 2;
    }
  }
  let w1: Candidate | null = null;
  if (m1 !== null) {
    // The first candidate a request with method m1 can pass, when it needs no other test.
    // (A loop, not find(): a closure over m1 would make V8 allocate a context on every call.)
    let first = all[0]!;
    for (let i = 0; i < all.length; i++) {
      const m = all[i]!.match.method;
      if (m === null || m === m1) {
        first = all[i]!;
        break;
      }
    }
    if (first.scan === null) w1 = first;
  }
  const head = n > 0 ? (get[1] as Candidate) : null;
  const then = n > 2 && get[2] === null ? (get[3] as Candidate) : null;
  const full: FullList = { all, get: n <= 2 || then !== null ? NO_SCAN : get.slice(0, n) };
  return { c: head, t: head === null ? null : (get[0] as ScanTest), then, m1: named ? (m1 ?? '') : null, w1, full };
}

export interface CompiledVHost {
  vhost: IR.VirtualHost;
  root: TrieNode;
  grpc: { root: TrieNode } | null;
}

export interface CompiledListener {
  listener: IR.Listener;
  /** The listener as Decisions name it: frozen, shared by every Decision it handles. */
  ref: ListenerRef;
  exactHosts: Map<string, CompiledVHost>;
  /** Keyed by the suffix after `*` (".example.com"). */
  wildcardHosts: Map<string, CompiledVHost>;
  anyHost: CompiledVHost | null;
  /** Hosts already resolved to their wildcard or any-host vhost (find.ts fills it; bounded). */
  hostMemo: Map<string, CompiledVHost | null>;
  /** The host of the previous request on this listener and its vhost (find.ts; `lastHost` null: none yet). */
  lastHost: string | undefined | null;
  lastVhost: CompiledVHost | null;
}

export interface CompiledMatcher {
  gateway: IR.Gateway;
  listeners: CompiledListener[];
}


/**
 * Compiles the IR. Pure; throws only on a broken invariant (a bug). `payloadFor` attaches the
 * caller's per-match data to each candidate, so that a hit reaches everything it needs in one hop.
 * It is called once per candidate (a match listed in several vhosts is asked for each), right as
 * that candidate is built, so what it allocates lies beside the candidate in memory.
 */
export function compileMatcher(gw: IR.Gateway, regex: RegexCompiler, payloadFor: (m: IR.Match) => unknown = () => null): CompiledMatcher {
  const re = checkCompiler(regex);
  return {
    gateway: gw,
    listeners: gw.listeners.map((l) => {
      const r: ListenerRef = { gateway: gw.key, name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname };
      if (l.listenerSet !== undefined) r.listenerSet = l.listenerSet;
      const ref = Object.freeze(r);
      const c: CompiledListener = { listener: l, ref, exactHosts: new Map(), wildcardHosts: new Map(), anyHost: null, hostMemo: new Map(), lastHost: null, lastVhost: null };
      for (const vh of l.vhosts) {
        const compiled = compileVHost(vh, ref, re, payloadFor);
        if (vh.hostname === null) c.anyHost = compiled;
        else if (vh.hostname.startsWith('*.')) c.wildcardHosts.set(vh.hostname.slice(1), compiled);
        else c.exactHosts.set(vh.hostname, compiled);
      }
      return c;
    }),
  };
}

/**
 * The virtual hosts that may serve `host`, most specific first: the exact host, then wildcard
 * suffixes from the longest, then any-host. (`*.example.com` needs at least one more label.)
 */
export function vhostsFor(l: CompiledListener, host: string | undefined): CompiledVHost[] {
  const out: CompiledVHost[] = [];
  if (host !== undefined && !isIPAddressHost(host)) { // an IP matches only "any" (digest 3.2)
    const exact = l.exactHosts.get(host);
    if (exact) out.push(exact);
    if (l.wildcardHosts.size > 0) {
      // Probe ".b.example.com", ".example.com", ".com": one Map lookup per label.
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        if (dot === 0) continue;
        const vh = l.wildcardHosts.get(host.slice(dot));
        if (vh) out.push(vh);
      }
    }
  }
  if (l.anyHost) out.push(l.anyHost);
  return out;
}

/**
 * Candidates for the path `path[0, end)` (`end` defaults to the whole string) in a vhost,
 * winner-first. Never throws.
 */
export function candidatesFor(vh: CompiledVHost, path: string, grpc: boolean, end: number = path.length): CandidateList {
  // Hot path: walk the trie segment by segment, hashing each segment as it is scanned; the
  // deepest node reached holds the merged list, and a path that ends exactly at a node with
  // Exact matches gets that node's exact list. A leaf ends the walk without scanning the rest.
  let node = grpc && vh.grpc ? vh.grpc.root : vh.root;
  let start = 1;
  for (;;) {
    if (node.mask < 0) return node;
    const one = node.one;
    if (one !== null) {
      // One child: compare its segment in place; a mismatch needs no scan to the segment's end.
      const stop = start + one.length;
      if (stop > end || !path.startsWith(one, start) || (stop < end && path.charCodeAt(stop) !== 47 /* / */)) return node;
      node = node.oneNode!;
      if (stop >= end) return node.exact ?? node;
      start = stop + 1;
      continue;
    }
    let h = FNV_OFFSET;
    let i = start;
    for (; i < end; i++) {
      const c = path.charCodeAt(i);
      if (c === 47 /* / */) break;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    const child = childOf(node, path, start, i, h & 0x3fffffff);
    if (child === null) return node;
    node = child;
    if (i >= end) return node.exact ?? node;
    start = i + 1;
  }
}

function compileVHost(vh: IR.VirtualHost, listener: ListenerRef, re: (m: IR.Match) => CompiledChecks, payload: (m: IR.Match) => unknown): CompiledVHost {
  return { vhost: vh, root: compileIndex(vh.matches, listener, re, payload), grpc: vh.grpcMatches.length > 0 ? { root: compileIndex(vh.grpcMatches, listener, re, payload) } : null };
}

/**
 * Builds the trie of one vhost. Prefix values and Exact values both become nodes (an Exact value
 * "/a/b" is the node reached by the segments "a", "b"; "/a/" adds an empty last segment). Each
 * node's list is its own prefixes, its ancestors' prefixes and every regex, merged by rank.
 * Runs over every match at every load: one candidate object per match, no intermediate arrays.
 */
function compileIndex(matches: IR.Match[], listener: ListenerRef, checksOf: (m: IR.Match) => CompiledChecks, payload: (m: IR.Match) => unknown): TrieNode {
  const root = newNode();
  const regexes: Candidate[] = [];
  const exactOwn = new Map<TrieNode, Candidate[]>();
  const prefixOwn = new Map<TrieNode, Candidate[]>();
  const segments = new Map<string, string>();
  const counts = new Map<TrieNode, number>();

  for (let rank = 0; rank < matches.length; rank++) {
    const m = matches[rank]!;
    const compiled = checksOf(m);
    const c: Candidate = { match: m, rank, test: compiled.test, checks: compiled.checks, scan: compiled.scan, payload: payload(m), index: m.index, listener };
    const p = m.path;
    if (p.type === 'RegularExpression') regexes.push(c);
    else {
      // Requests are normalised before matching; the configured value gets the same treatment
      // (a valid value only changes if it percent-encodes an unreserved character, e.g. %7E).
      const v = canonicalPathValue(p.value);
      if (p.type === 'Exact') push(exactOwn, nodeFor(root, v, v.length, segments, counts), c);
      else push(prefixOwn, nodeFor(root, v, prefixEnd(v), segments, counts), c);
    }
  }
  fill(root, EMPTY, prefixOwn, exactOwn, regexes, []);
  return root;
}

/**
 * Gives `node` and its subtree their candidate lists. A node without prefixes of its own and no
 * regexes in the vhost (most nodes: "/svc-1" above "/svc-1/users-7") has exactly its parent's
 * list, so it shares the parent's list object instead of copying it.
 */
function fill(node: TrieNode, inherited: CandidateList, prefixOwn: Map<TrieNode, Candidate[]>, exactOwn: Map<TrieNode, Candidate[]>, regexes: Candidate[], scratch: Scan): void {
  const own = prefixOwn.get(node);
  const withPrefixes = own === undefined ? inherited : list(mergeByRank(inherited.full.all, own), scratch);
  if (node.mask >= 0) {
    // The children straight from the slots (fill does not change a node's slots).
    const slots = node.slots;
    for (let k = 2; k < slots.length; k += 3) if (slots[k] !== null) fill(slots[k] as TrieNode, withPrefixes, prefixOwn, exactOwn, regexes, scratch);
  }
  const all = regexes.length === 0 ? withPrefixes : list(mergeByRank(withPrefixes.full.all, regexes), scratch);
  node.c = all.c;
  node.t = all.t;
  node.then = all.then;
  node.m1 = all.m1;
  node.w1 = all.w1;
  node.full = all.full;
  const exact = exactOwn.get(node);
  node.exact = exact ? list(mergeByRank(exact, all.full.all), scratch) : null;
}

/**
 * Where the segments of a PathPrefix value end: "/abc/" behaves as "/abc" (element-wise
 * matching), and "/" has no segments (0).
 */
function prefixEnd(value: string): number {
  const end = value.length > 1 && value.charCodeAt(value.length - 1) === 47 /* / */ ? value.length - 1 : value.length;
  return end === 1 ? 0 : end;
}

/**
 * The node for the segments of `path` up to `end` ("/a/b" is "a", "b"; "/" is one empty
 * segment; `end` 0 is the root), created as needed. Slices the segments out of the value
 * instead of splitting it into an array.
 */
function nodeFor(root: TrieNode, path: string, end: number, segments: Map<string, string>, counts: Map<TrieNode, number>): TrieNode {
  let node = root;
  if (end === 0) return node;
  let start = 1;
  for (;;) {
    let slash = path.indexOf('/', start);
    if (slash < 0 || slash > end) slash = end;
    const h = segmentHash(path, start, slash);
    let child = node.mask < 0 ? null : childOf(node, path, start, slash, h);
    if (child === null) {
      child = newNode();
      // One string per distinct segment ("health", "v1"): the walk compares with a string that
      // stays in cache instead of one of thousands of copies.
      const seg = path.slice(start, slash);
      let shared = segments.get(seg);
      if (shared === undefined) segments.set(seg, (shared = seg));
      addChild(node, shared, child, counts);
    }
    node = child;
    if (slash === end) return node;
    start = slash + 1;
  }
}

function push<K>(map: Map<K, Candidate[]>, key: K, c: Candidate): void {
  const list = map.get(key);
  // A list may become a node's own (see mergeByRank): a second entry gets a list of exactly two
  // (push would reserve 17 slots).
  if (list === undefined) map.set(key, [c]);
  else if (list.length === 1) map.set(key, [list[0]!, c]);
  else list.push(c);
}

/**
 * The candidates of two rank-sorted lists, by rank, each once. The result lives as long as the
 * router: concat makes an array of exactly the right size, which the merge then writes over
 * (push would leave up to half again as many slots unused).
 */
function mergeByRank(a: Candidate[], b: Candidate[]): Candidate[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out = a.concat(b);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length || j < b.length) {
    const c = j >= b.length || (i < a.length && a[i]!.rank <= b[j]!.rank) ? a[i++]! : b[j++]!;
    if (k === 0 || out[k - 1] !== c) out[k++] = c;
  }
  if (k !== out.length) out.length = k; // (the length setter is a runtime call even when nothing changes)
  return out;
}
