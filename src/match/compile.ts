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
import type { ListenerChoice, Miss } from './find.js';
import { configuredPathKeys } from './normalize.js';
import { keysHash, PathKeys } from './trie/path-keys.js';
import { addChild, childOf, findChild, newNode, NO_FULL, NO_SCAN, sameSegment, STRIDE, type TrieNode } from './trie/slots.js';
import { checkCompiler, type Check, type CompiledChecks, type RegexCompiler, type ScanTest } from './checks.js';

export type { Check, CompiledChecks, RegexCompiler } from './checks.js';

/**
 * One match, ready to test. `test` checks everything except the path's Exact/Prefix part. The
 * caller of compileMatcher makes the candidates (see CandidateMaker) and may give them fields of
 * its own: what a hit needs then lies in the candidate the lookup returns, no hop away.
 */
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

const EMPTY: CandidateList = Object.freeze({ c: null, t: null, then: null, m1: null, w1: null, full: NO_FULL });

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
  /** Recent hosts and their vhosts, one per slot (`host.length & 15`, find.ts; null: empty). */
  slotHosts: (string | undefined | null)[];
  slotVhosts: (CompiledVHost | null)[];
  /** The listener's two misses, made at its first miss (find.ts). */
  misses: { noRoute: Miss; misdirected: Miss } | null;
}

// The lookup's memos (find.ts) live in the matcher and its listeners, never in module state: a
// module-level memo kept the listeners of old runtimes, and their whole tables, after a reload or
// a closed handler (up to 16 tables, one per vhost slot). Each memo goes with the table it serves.
export interface CompiledMatcher {
  gateway: IR.Gateway;
  listeners: CompiledListener[];
  /** The previous request's listener choice (find.ts); made with port NaN, which no request's port equals. */
  choice: ListenerChoice;
}

/** Vhost slots per listener (a power of two: find.ts masks host lengths with it minus one). */
export const VHOST_SLOTS = 16;


/**
 * Makes the candidate of match `m` (rank, compiled checks, listener as given), with every field
 * of Candidate set from them and whatever fields of its own the caller adds. Called once per
 * candidate (a match listed in several vhosts is asked for each); every candidate a maker returns
 * should have the same fields in the same order, so that the lookup's reads stay monomorphic.
 */
export type CandidateMaker = (m: IR.Match, rank: number, checks: CompiledChecks, listener: ListenerRef) => Candidate;

/** The candidate with no fields of the caller's. */
export const plainCandidate: CandidateMaker = (m, rank, c, listener) => ({ match: m, rank, test: c.test, checks: c.checks, scan: c.scan, index: m.index, listener });

/**
 * Compiles the IR. Pure; throws only on a broken invariant (a bug). `make` makes each candidate,
 * so that the caller's per-match data lies in the candidate itself (see CandidateMaker).
 */
export function compileMatcher(gw: IR.Gateway, regex: RegexCompiler, make: CandidateMaker = plainCandidate): CompiledMatcher {
  const re = checkCompiler(regex);
  return {
    gateway: gw,
    choice: { https: false, port: Number.NaN, host: undefined, sni: undefined, hostFree: false, chosen: null },
    listeners: gw.listeners.map((l) => {
      const r: ListenerRef = { gateway: gw.key, name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname };
      if (l.listenerSet !== undefined) r.listenerSet = l.listenerSet;
      const ref = Object.freeze(r);
      const slotHosts = new Array<string | undefined | null>(VHOST_SLOTS).fill(null);
      const slotVhosts = new Array<CompiledVHost | null>(VHOST_SLOTS).fill(null);
      const c: CompiledListener = { listener: l, ref, exactHosts: new Map(), wildcardHosts: new Map(), anyHost: null, hostMemo: new Map(), lastHost: null, lastVhost: null, slotHosts, slotVhosts, misses: null };
      for (const vh of l.vhosts) {
        const compiled = compileVHost(vh, ref, re, make);
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
 * Candidates for a normalised path, given by its segment keys (trie/path-keys.ts: RequestView keeps
 * them), in a vhost, winner-first. Never throws.
 */
export function candidatesFor(vh: CompiledVHost, path: PathKeys, grpc: boolean): CandidateList {
  // Hot path: walk the trie segment by segment, comparing chunk keys (numbers) instead of
  // characters; a path that ends exactly at a node gets the node's own list, one that goes on
  // below the deepest node reached gets that node's `below` list. A leaf ends the walk.
  let node = grpc && vh.grpc ? vh.grpc.root : vh.root;
  const keys = path.keys;
  const starts = path.starts;
  const last = path.count - 1;
  for (let s = 0; s <= last; s++) {
    if (node.mask < 0) return node.below ?? node;
    const from = starts[s]!;
    const to = starts[s + 1]!;
    let child = node.oneNode;
    if (child !== null) {
      // One child (a chain such as "/api/v1/"): compare its keys, no hash.
      if (!sameSegment(node.one1, node.one2, node.one3, node.oneMore, keys, from, to)) return node.below ?? node;
    } else {
      child = childOf(node, keys, from, to, keysHash(keys, from, to));
      if (child === null) return node.below ?? node;
    }
    node = child;
    if (s === last) return node;
  }
  return node;
}

function compileVHost(vh: IR.VirtualHost, listener: ListenerRef, re: (m: IR.Match) => CompiledChecks, make: CandidateMaker): CompiledVHost {
  return { vhost: vh, root: compileIndex(vh.matches, listener, re, make), grpc: vh.grpcMatches.length > 0 ? { root: compileIndex(vh.grpcMatches, listener, re, make) } : null };
}

/**
 * Builds the trie of one vhost. Prefix values and Exact values both become nodes (an Exact value
 * "/a/b" is the node reached by the segments "a", "b"; "/a/" adds an empty last segment). Each
 * node's list is its own prefixes, its ancestors' prefixes and every regex, merged by rank.
 * Runs over every match at every load: one candidate object per match, no intermediate arrays.
 */
function compileIndex(matches: IR.Match[], listener: ListenerRef, checksOf: (m: IR.Match) => CompiledChecks, make: CandidateMaker): TrieNode {
  const root = newNode();
  const regexes: Candidate[] = [];
  // A node's own candidates while the trie is built: its first PathPrefix candidate in its `c`
  // field and its first Exact one in `w1` (fill gives both fields their final values), any more
  // in these maps, by node. Most nodes have at most one of each: the maps stay small.
  const morePrefix = new Map<TrieNode, Candidate[]>();
  const moreExact = new Map<TrieNode, Candidate[]>();
  const scratch = new PathKeys();
  const counts = new Map<TrieNode, number>();

  for (let rank = 0; rank < matches.length; rank++) {
    const m = matches[rank]!;
    const c = make(m, rank, checksOf(m), listener);
    const p = m.path;
    if (p.type === 'RegularExpression') regexes.push(c);
    else {
      // Requests are normalised before matching; the configured value gets the same treatment
      // (a valid value only changes if it percent-encodes an unreserved character, e.g. %7E).
      configuredPathKeys(p.value, p.type !== 'Exact', scratch);
      const node = nodeFor(root, scratch, counts);
      if (p.type === 'Exact') {
        if (node.w1 === null) node.w1 = c;
        else push(moreExact, node, c);
      } else {
        if (node.c === null) node.c = c;
        else push(morePrefix, node, c);
      }
    }
  }
  fill(root, EMPTY, morePrefix, moreExact, regexes, []);
  return root;
}

/**
 * Gives `node` and its subtree their candidate lists. A node without prefixes of its own and no
 * regexes in the vhost (most nodes: "/svc-1" above "/svc-1/users-7") has exactly its parent's
 * list, so it shares the parent's list object instead of copying it.
 */
function fill(node: TrieNode, inherited: CandidateList, morePrefix: Map<TrieNode, Candidate[]>, moreExact: Map<TrieNode, Candidate[]>, regexes: Candidate[], scratch: Scan): void {
  // The node's own candidates (see compileIndex), read before its fields get their final values.
  const own = ownList(node.c, morePrefix.get(node));
  const exact = ownList(node.w1, moreExact.get(node));
  const withPrefixes = own === undefined ? inherited : list(mergeByRank(inherited.full.all, own), scratch);
  // The children straight from the node (fill does not change them; no closure per node).
  if (node.oneNode !== null) fill(node.oneNode, withPrefixes, morePrefix, moreExact, regexes, scratch);
  else {
    const slots = node.slots;
    for (let k = 5; k < slots.length; k += STRIDE) if (slots[k] !== null) fill(slots[k] as TrieNode, withPrefixes, morePrefix, moreExact, regexes, scratch);
  }
  const all = regexes.length === 0 ? withPrefixes : list(mergeByRank(withPrefixes.full.all, regexes), scratch);
  const here = exact ? list(mergeByRank(exact, all.full.all), scratch) : all;
  node.c = here.c;
  node.t = here.t;
  node.then = here.then;
  node.m1 = here.m1;
  node.w1 = here.w1;
  node.full = here.full;
  node.below = exact ? all : null;
}

/**
 * The node for the segments whose keys are in `path` (configuredPathKeys: "/a/b" is "a", "b"; "/"
 * is one empty segment; none is the root), created as needed.
 */
function nodeFor(root: TrieNode, path: PathKeys, counts: Map<TrieNode, number>): TrieNode {
  let node = root;
  const { keys, starts } = path;
  for (let s = 0; s < path.count; s++) {
    const from = starts[s]!;
    const to = starts[s + 1]!;
    let child = findChild(node, keys, from, to);
    if (child === null) {
      child = newNode();
      addChild(node, keys, from, to, child, counts);
    }
    node = child;
  }
  return node;
}

function push<K>(map: Map<K, Candidate[]>, key: K, c: Candidate): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [c]);
  else list.push(c);
}

/**
 * A node's own list: `first` then `more`, or undefined when it has none. It may become the node's
 * list as is (see mergeByRank), so it is made with exactly its length (push would reserve 17 slots).
 */
function ownList(first: Candidate | null, more: Candidate[] | undefined): Candidate[] | undefined {
  if (first === null) return undefined;
  return more === undefined ? [first] : [first].concat(more);
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
