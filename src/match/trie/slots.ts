/**
 * The segment trie's nodes and their child tables: how compile.ts stores path segments and how
 * the lookup finds a child. The candidate lists a node carries are compile.ts's.
 */
import type { Candidate, CandidateList, FullList, Scan } from '../compile.js';
import { keysHash } from './path-keys.js';

/**
 * One node of a virtual host's segment trie. A node with one child (most: "/svc-1" above
 * "/svc-1/users-7") holds it in `one*` fields only, with no table. The children of a node with
 * two or more are an open-addressing hash table of
 * stride 6 (`[hash, key 1, key 2, key 3, more keys, node, ...]`, a power of two of slots, at
 * most half full). A segment is its chunk keys (path-keys.ts), computed by the scan that checked
 * the request path: a lookup reads no character of the path, slices nothing and allocates
 * nothing, and equal keys are equal segments. The first three keys (12 characters) are held in
 * the slot itself, 0 where the segment has fewer (no chunk's key is 0); the rest, if any, in
 * `more`. `mask` is the slot count minus one, or -1 for a leaf (most nodes).
 */
export interface TrieNode extends CandidateList {
  // The fields the walk reads come first, so that they share the node's first cache line (the
  // field order is newNode's, which every node is created by).
  mask: number;
  /**
   * With exactly one child (a chain such as "/api/v1/"), its segment's keys and node: compared,
   * not hashed. Such a node has no table (`mask` 0, `slots` ONE_CHILD): find its child here.
   */
  one1: number;
  one2: number;
  one3: number;
  oneMore: number[] | null;
  oneNode: TrieNode | null;
  slots: Slot[];
  /**
   * The node is its own CandidateList (its inherited fields), so that a hit reads its winner
   * from the node the walk just read, one memory hop fewer at 10,000 routes: the list for a path
   * that ends exactly at it (its Exact matches merged in, when it has any: `/health` is then
   * answered without reading another object). `below`, when not null, is the list for a path
   * that goes on below it (or null: the same).
   */
  below: CandidateList | null;
}

export const NO_SCAN: Scan = Object.freeze([]) as unknown as Scan;
export const NO_FULL: FullList = Object.freeze({ all: Object.freeze([]) as unknown as Candidate[], get: NO_SCAN });

/** The slots of every leaf: one shared empty array, never written to. */
export const NO_SLOTS: Slot[] = Object.freeze([]) as unknown as Slot[];

/**
 * The slots of every node with exactly one child (held in its `one*` fields): one free slot,
 * shared, never written to, so that a probe of such a node's table ends (finding nothing).
 */
const ONE_CHILD: Slot[] = Object.freeze([0, 0, 0, 0, null, null]) as unknown as Slot[];

/** A slot's hash, keys, further keys (or null) and child (null when the slot is free). */
export type Slot = number | number[] | TrieNode | null;
export const STRIDE = 6;

export function newNode(): TrieNode {
  return { mask: -1, one1: 0, one2: 0, one3: 0, oneMore: null, oneNode: null, slots: NO_SLOTS, below: null, c: null, t: null, then: null, m1: null, w1: null, full: NO_FULL };
}

/** The child of `node` for the segment with keys `keys[from, to)`, or null; for building (the lookup inlines it). */
export function findChild(node: TrieNode, keys: ArrayLike<number>, from: number, to: number): TrieNode | null {
  if (node.mask < 0) return null;
  if (node.oneNode !== null) return sameSegment(node.one1, node.one2, node.one3, node.oneMore, keys, from, to) ? node.oneNode : null;
  return childOf(node, keys, from, to, keysHash(keys, from, to));
}

/** The child of a node with a table (two or more children) for the segment with keys `keys[from, to)` and hash `h`, or null. */
export function childOf(node: TrieNode, keys: ArrayLike<number>, from: number, to: number, h: number): TrieNode | null {
  const slots = node.slots;
  const mask = node.mask;
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const k = i * STRIDE;
    const child = slots[k + 5] as TrieNode | null;
    if (child === null) return null;
    if (slots[k] === h && sameSegment(slots[k + 1] as number, slots[k + 2] as number, slots[k + 3] as number, slots[k + 4] as number[] | null, keys, from, to)) return child;
  }
}

/** True when the segment stored as `k1`, `k2`, `k3` and `more` is the one with keys `keys[from, to)`. */
export function sameSegment(k1: number, k2: number, k3: number, more: number[] | null, keys: ArrayLike<number>, from: number, to: number): boolean {
  const n = to - from;
  if (k1 !== (n > 0 ? keys[from] : 0) || k2 !== (n > 1 ? keys[from + 1] : 0) || k3 !== (n > 2 ? keys[from + 2] : 0)) return false;
  if (n <= 3) return more === null;
  if (more === null || more.length !== n - 3) return false;
  for (let j = 0; j < more.length; j++) if (more[j] !== keys[from + 3 + j]) return false;
  return true;
}

/**
 * Adds a child for the segment with keys `keys[from, to)` to a node. The first child goes in the
 * node's `one*` fields; the second makes a table of 4 slots holding both, which grows (to stay at
 * most half full) as needed. `counts` holds, while building, how many children each node with a
 * table has (the nodes do not carry it).
 */
export function addChild(node: TrieNode, keys: ArrayLike<number>, from: number, to: number, child: TrieNode, counts: Map<TrieNode, number>): void {
  const n = to - from;
  const k1 = n > 0 ? keys[from]! : 0;
  const k2 = n > 1 ? keys[from + 1]! : 0;
  const k3 = n > 2 ? keys[from + 2]! : 0;
  const more = n > 3 ? Array.from({ length: n - 3 }, (_, j) => keys[from + 3 + j]!) : null;
  if (node.mask < 0) {
    node.mask = 0;
    node.slots = ONE_CHILD;
    node.one1 = k1;
    node.one2 = k2;
    node.one3 = k3;
    node.oneMore = more;
    node.oneNode = child;
    return;
  }
  if (node.oneNode !== null) {
    // The second child: a table for both (the first's keys are its `one*` fields).
    node.slots = emptySlots(4);
    node.mask = 3;
    const first = [node.one1, node.one2, node.one3, ...(node.oneMore ?? [])];
    const length = node.oneMore !== null ? first.length : node.one3 !== 0 ? 3 : node.one2 !== 0 ? 2 : node.one1 !== 0 ? 1 : 0;
    put(node.slots, node.mask, keysHash(first, 0, length), node.one1, node.one2, node.one3, node.oneMore, node.oneNode);
    node.one1 = node.one2 = node.one3 = 0;
    node.oneMore = null;
    node.oneNode = null;
    counts.set(node, 1);
  }
  const count = counts.get(node)! + 1;
  counts.set(node, count);
  if (count * 2 > node.mask + 1) {
    const old = node.slots;
    const size = (node.mask + 1) * 2;
    const slots = emptySlots(size);
    node.slots = slots;
    node.mask = size - 1;
    for (let k = 0; k < old.length; k += STRIDE) if (old[k + 5] !== null) place(slots, node.mask, old, k);
  }
  put(node.slots, node.mask, keysHash(keys, from, to), k1, k2, k3, more, child);
}

/** Writes an entry at the first free slot from its hash. */
function put(slots: Slot[], mask: number, h: number, k1: number, k2: number, k3: number, more: number[] | null, child: TrieNode): void {
  let i = h & mask;
  while (slots[i * STRIDE + 5] !== null) i = (i + 1) & mask;
  const at = i * STRIDE;
  slots[at] = h;
  slots[at + 1] = k1;
  slots[at + 2] = k2;
  slots[at + 3] = k3;
  slots[at + 4] = more;
  slots[at + 5] = child;
}

/**
 * Empty slot tables by size (a power of two), filled with push once and copied for each new table:
 * no holes (a holey array is slower to read), and exactly STRIDE * size slots (push would leave up
 * to half again as many unused). Only small sizes are kept: a hub node's table (32,768 slots at
 * 50,000 routes is 1.5 MB) is rare, and its template would outlive the build.
 */
const emptyTables = new Map<number, Slot[]>();
const KEPT_TEMPLATES = 1024;

/** A new empty table of `size` slots (a power of two), packed and of exactly its length. */
function emptySlots(size: number): Slot[] {
  if (size > KEPT_TEMPLATES) {
    // A hub's table: copies of the largest kept template joined in one allocation (no template
    // of this size filled by push, and no copy of it, both garbage at once).
    const part = templateOf(KEPT_TEMPLATES);
    return part.concat(...new Array<Slot[]>(size / KEPT_TEMPLATES - 1).fill(part));
  }
  return templateOf(size).slice();
}

/** The kept empty table of `size` slots (at most KEPT_TEMPLATES), made on first use. */
function templateOf(size: number): Slot[] {
  let t = emptyTables.get(size);
  if (t === undefined) {
    t = [];
    for (let i = 0; i < size; i++) t.push(0, 0, 0, 0, null, null);
    emptyTables.set(size, t);
  }
  return t;
}

/** Moves the entry at `from[k, k + STRIDE)` (`[hash, key 1, key 2, key 3, more, child]`) to the first free slot of `slots` from its hash. */
function place(slots: Slot[], mask: number, from: Slot[], k: number): void {
  let i = (from[k] as number) & mask;
  while (slots[i * STRIDE + 5] !== null) i = (i + 1) & mask;
  for (let j = 0; j < STRIDE; j++) slots[i * STRIDE + j] = from[k + j]!;
}
