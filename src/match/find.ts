/**
 * find: the one lookup. Listener (spec digest section 3), then virtual host (5.2), then the path
 * index, then the first candidate whose compiled checks pass (section 5). route() calls it
 * without a trace; explain() passes a trace and reads what the same walk saw.
 */
import { hostnameRank, isIPAddressHost } from '../model/hostnames.js';
import { candidatesFor, vhostsFor, VHOST_SLOTS, type Candidate, type CandidateList, type Check, type CompiledListener, type CompiledMatcher, type CompiledVHost } from './compile.js';
import { passes, type ScanTest } from './checks.js';
import type { RequestView } from './request.js';
import type { RespondDecision } from '../types.js';

/** Why a lookup found no candidate: no listener, a misdirected request (421), or no route. */
export interface Miss {
  readonly miss: 'no-listener' | 'misdirected' | 'no-route';
  readonly listener: CompiledListener | null;
  /** The Decision's message, made once. */
  readonly message: string;
  /** The whole answer, made once per listener and frozen: a miss allocates nothing. */
  readonly decision: RespondDecision;
}

/** What the lookup returns: the winning candidate, or a miss. */
export type Found = Candidate | Miss;

/** True when `f` is a miss. */
export function isMiss(f: Found): f is Miss {
  return (f as Partial<Miss>).miss !== undefined;
}

/** One listener as explain() reports it. */
export interface ListenerTrace {
  name: string;
  /** `namespace/name` of the ListenerSet that declares the listener, if one does. */
  listenerSet?: string;
  port: number;
  protocol: string;
  hostname: string | null;
  outcome: string;
}

/** One candidate the lookup tested: the check it failed, or null when all passed. */
export interface TestedCandidate {
  candidate: Candidate;
  failed: Check | null;
}

/** One virtual host of the selected listener that matches the host, most specific first. */
export interface VHostTrace {
  vhost: CompiledVHost;
  /** False when a more specific virtual host was searched and hostFallthrough is off. */
  searched: boolean;
  /** The precedence-sorted candidates the path index returned, in the order they were tested. */
  list: CandidateList | null;
  tested: TestedCandidate[];
  /** True when the gRPC index was used. */
  grpc: boolean;
}

/** What explain() learns from the lookup. With a trace, every candidate of the path is tested. */
export interface FindTrace {
  listeners: ListenerTrace[];
  listener: CompiledListener | null;
  vhosts: VHostTrace[];
  winner: Candidate | null;
}

export function newTrace(): FindTrace {
  return { listeners: [], listener: null, vhosts: [], winner: null };
}

/** A miss and its frozen 404 or 421 Decision. */
function missFor(miss: Miss['miss'], cl: CompiledListener | null, message: string): Miss {
  const decision: RespondDecision = Object.freeze({
    type: 'respond',
    listener: cl === null ? null : cl.ref,
    status: miss === 'misdirected' ? 421 : 404,
    reason: miss === 'misdirected' ? 'misdirected-request' : miss,
    message,
  });
  return Object.freeze({ miss, listener: cl, message, decision });
}

const NO_LISTENER: Miss = missFor('no-listener', null, "No listener matches the request's scheme, port and host (explain() lists every listener and why).");

function missOf(cl: CompiledListener, kind: 'no-route' | 'misdirected'): Miss {
  // Per listener, its two misses, made once and kept on the listener (they go with it).
  let m = cl.misses;
  if (m === null) {
    const name = cl.listener.listenerSet !== undefined ? `${cl.listener.listenerSet}/${cl.listener.name}` : cl.listener.name;
    cl.misses = m = {
      noRoute: missFor('no-route', cl, `No route on listener ${name} matches the request (explain() lists every candidate and why).`),
      misdirected: missFor('misdirected', cl, `The Host is served by another listener than ${name}, which the TLS server name selected.`),
    };
  }
  return kind === 'no-route' ? m.noRoute : m.misdirected;
}

/**
 * The lookup. Never throws on request input. `fallthrough`: when no match of the most specific
 * virtual host passes, try the less specific ones (the hostFallthrough option).
 */
export function find(m: CompiledMatcher, req: RequestView, fallthrough: boolean, trace: FindTrace | null): Found {
  const listener = selectListener(m, req, trace);
  if (listener === null) return NO_LISTENER;
  if (listener === MISDIRECTED) return missOf(misdirectedListener(m, req)!, 'misdirected');
  if (trace !== null) trace.listener = listener;
  if (trace === null && !fallthrough) {
    // Hot path: one virtual host, one path-index lookup, then a short precedence-sorted scan.
    // The content type is read only where the virtual host has gRPC routes.
    const vh = firstVhost(listener, req.host);
    if (vh !== null) {
      const c = firstPassing(candidatesFor(vh, req.segments, vh.grpc !== null && isGrpc(req)), req);
      if (c !== null) return c;
    }
    return missOf(listener, 'no-route');
  }
  const grpc = isGrpc(req);
  let winner: Candidate | null = null;
  const vhosts = vhostsFor(listener, req.host);
  for (let v = 0; v < vhosts.length; v++) {
    const vh = vhosts[v]!;
    const searched = v === 0 || fallthrough;
    const useGrpc = grpc && vh.grpc !== null;
    const vt: VHostTrace | null = trace === null ? null : { vhost: vh, searched, list: null, tested: [], grpc: useGrpc };
    if (vt !== null) trace!.vhosts.push(vt);
    if (!searched || (winner !== null && trace === null)) continue;
    const list = candidatesFor(vh, req.segments, useGrpc);
    if (vt === null) {
      winner = firstPassing(list, req);
      continue;
    }
    // Traced: test every candidate with its named checks; the first that passes wins.
    vt.list = list;
    for (const c of list.full.all) {
      const failed = firstFailing(c.checks, req);
      vt.tested.push({ candidate: c, failed });
      if (failed === null && winner === null) winner = c;
    }
  }
  if (trace !== null) trace.winner = winner;
  return winner ?? missOf(listener, 'no-route');
}

/**
 * The first candidate of a list that the request satisfies, as the list's GET scan or its first
 * other method answer it (see CandidateList in compile.ts), else by testing `all` in order.
 */
function firstPassing(l: CandidateList, req: RequestView): Candidate | null {
  const method = req.method;
  if (method !== 'GET' && l.m1 !== null) {
    // Hot path: a POST to a path whose first POST candidate needs no other test.
    if (method === l.m1) {
      const w = l.w1;
      if (w !== null) return w;
    }
    const all = l.full.all;
    for (let i = 0; i < all.length; i++) if (all[i]!.test(req)) return all[i]!;
    return null;
  }
  // Hot path: the first candidate and its test, and the second when it needs none, lie in the list.
  const c = l.c;
  if (c === null) return null;
  if (passes(l.t, req)) return c;
  const then = l.then;
  if (then !== null) return then;
  const s = l.full.get;
  for (let i = 2; i < s.length; i += 2) if (passes(s[i] as ScanTest, req)) return s[i + 1] as Candidate;
  return null;
}

function firstFailing(checks: readonly Check[], req: RequestView): Check | null {
  for (const c of checks) if (!c.test(req)) return c;
  return null;
}

/** A gRPC call: POST with an application/grpc content type (spec digest 9.1). */
export function isGrpc(req: RequestView): boolean {
  if (req.method !== 'POST') return false;
  const ct = req.header('content-type');
  return ct !== undefined && ct.startsWith('application/grpc');
}

/** The most specific virtual host of a listener that matches the host, or null. */
function firstVhost(cl: CompiledListener, host: string | undefined): CompiledVHost | null {
  // Hot path: most requests repeat the previous one's host; a string compare answers. Then a
  // slot per host length keeps the last host of that length: requests that alternate between a
  // few hosts find theirs without hashing the host. The slots are the listener's own (compile.ts).
  if (host === cl.lastHost) return cl.lastVhost;
  const slot = host === undefined ? 0 : host.length & VHOST_SLOT_MASK;
  const hosts = cl.slotHosts;
  let vh: CompiledVHost | null;
  if (hosts[slot] === host) vh = cl.slotVhosts[slot]!;
  else {
    vh = vhostOf(cl, host);
    hosts[slot] = host;
    cl.slotVhosts[slot] = vh;
  }
  cl.lastHost = host;
  cl.lastVhost = vh;
  return vh;
}

/** Masks a host's length to its vhost slot (see firstVhost). */
const VHOST_SLOT_MASK = VHOST_SLOTS - 1;

function vhostOf(cl: CompiledListener, host: string | undefined): CompiledVHost | null {
  if (host !== undefined && !isIPAddressHost(host)) { // an IP matches only "any" (digest 3.2)
    const exact = cl.exactHosts.get(host);
    if (exact !== undefined) return exact;
    if (cl.wildcardHosts.size > 0) {
      // Hot path: a host seen before is one Map probe; wildcard suffixes are probed (one slice
      // per label) only for a host not in the memo.
      const known = cl.hostMemo.get(host);
      if (known !== undefined) return known;
      const vh = wildcardVhost(cl, host);
      if (cl.hostMemo.size >= HOST_MEMO_LIMIT) cl.hostMemo.clear();
      cl.hostMemo.set(host, vh);
      return vh;
    }
  }
  return cl.anyHost;
}

/** Hosts per listener whose virtual host the memo keeps; cleared when full, so hostile Hosts never cost memory. */
const HOST_MEMO_LIMIT = 4096;

function wildcardVhost(cl: CompiledListener, host: string): CompiledVHost | null {
  for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
    if (dot === 0) continue;
    const vh = cl.wildcardHosts.get(host.slice(dot));
    if (vh) return vh;
  }
  return cl.anyHost;
}

// ---------------------------------------------------------------------------------------------
// Listener selection (spec digest section 3)

const MISDIRECTED = Symbol('misdirected');

/** 0 when a listener may take the request; otherwise why not (1 protocol, 2 port, 3 not programmed). */
function ineligible(cl: CompiledListener, protocol: string, port: number | undefined): 0 | 1 | 2 | 3 {
  const l = cl.listener;
  return l.protocol !== protocol ? 1 : port !== undefined && l.port !== port ? 2 : !l.programmed ? 3 : 0;
}

/**
 * The most specific eligible listener for `name` (a host or an SNI): exact hostname, then
 * longer wildcard, then no hostname; ties by lower port, then list order.
 */
function bestListener(m: CompiledMatcher, protocol: string, port: number | undefined, name: string | undefined): CompiledListener | null {
  let chosen: CompiledListener | null = null;
  let rank = Infinity;
  const ls = m.listeners;
  for (let i = 0; i < ls.length; i++) {
    const cl = ls[i]!;
    if (ineligible(cl, protocol, port) !== 0) continue;
    const r = hostnameRank(cl.listener.hostname, name);
    if (r === null) continue;
    if (r < rank || (r === rank && chosen !== null && cl.listener.port < chosen.listener.port)) {
      chosen = cl;
      rank = r;
    }
  }
  return chosen;
}

/**
 * The listener for the request's port, protocol and host (or SNI). Spec digest 3.6: the SNI
 * chooses the listener; a Host that another listener matches (as well or better) is a
 * misdirected request (421); a Host no listener matches is 404.
 */
function selectListener(m: CompiledMatcher, req: RequestView, trace: FindTrace | null): CompiledListener | typeof MISDIRECTED | null {
  if (trace === null) {
    // Hot path: the choice depends only on the matcher, scheme, port, Host and SNI, and most
    // requests repeat the previous one's (a hostless listener: any Host). Compares, no loop.
    const https = req.scheme === 'https';
    const port = req.port;
    const host = req.host;
    const sni = req.sni;
    const c = m.choice;
    if (c.port === port && c.https === https && c.sni === sni && (c.host === host || c.hostFree)) return c.chosen as CompiledListener | typeof MISDIRECTED | null;
    const chosen = chooseListener(m, https, port, host, sni);
    c.https = https;
    c.port = port;
    c.host = host;
    c.sni = sni;
    c.hostFree = hostFree(m);
    c.chosen = chosen;
    return chosen;
  }
  const protocol = req.scheme === 'https' ? 'HTTPS' : 'HTTP';
  const port = req.port;
  const sni = protocol === 'HTTPS' && req.sni !== undefined ? req.sni.toLowerCase() : undefined;
  const chosen = chooseListener(m, protocol === 'HTTPS', port, req.host, req.sni);
  const selected = chosen === MISDIRECTED ? bestListener(m, protocol, port, sni) : chosen;
  for (const cl of m.listeners) {
    const l = cl.listener;
    const why = ineligible(cl, protocol, port);
    const outcome =
      why === 1 ? `protocol ${l.protocol} is not ${protocol}` :
      why === 2 ? `port ${l.port} is not ${port}` :
      why === 3 ? 'not programmed (see its status conditions)' :
      cl === selected ? 'selected' :
      hostnameRank(l.hostname, sni ?? req.host) === null ? `hostname ${l.hostname} does not match ${sni ?? req.host ?? '(no host)'}` :
      'less specific than the selected listener';
    trace.listeners.push({ name: l.name, ...(l.listenerSet !== undefined ? { listenerSet: l.listenerSet } : {}), port: l.port, protocol: l.protocol, hostname: l.hostname, outcome });
  }
  return chosen;
}

/** The listener choice of selectListener, computed (spec digest 3.6). */
function chooseListener(m: CompiledMatcher, https: boolean, port: number | undefined, host: string | undefined, rawSni: string | undefined): CompiledListener | typeof MISDIRECTED | null {
  const protocol = https ? 'HTTPS' : 'HTTP';
  const byHost = bestListener(m, protocol, port, host);
  if (!https || rawSni === undefined) return byHost;
  const bySni = bestListener(m, protocol, port, rawSni.toLowerCase());
  return bySni === null ? null : byHost !== null && byHost !== bySni ? MISDIRECTED : byHost === null && host !== undefined ? null : bySni;
}

/**
 * The previous request's listener choice and what it was computed from (kept in the matcher,
 * compile.ts): one entry, no growth, so hostile Hosts or SNIs cost the computation, never memory.
 * `hostFree`: no listener of the matcher has a hostname, so the choice does not depend on the
 * Host or the SNI. `chosen`: a listener, null (none), or MISDIRECTED.
 */
export interface ListenerChoice {
  https: boolean;
  port: number | undefined;
  host: string | undefined;
  sni: string | undefined;
  hostFree: boolean;
  chosen: CompiledListener | symbol | null;
}

/** True when no listener of `m` has a hostname: every Host and SNI rank alike (hostnameRank). */
function hostFree(m: CompiledMatcher): boolean {
  for (const cl of m.listeners) if (cl.listener.hostname !== null && cl.listener.hostname !== undefined) return false;
  return true;
}

/** For a misdirected request: the listener the SNI chose (whose ref the 421 names). */
function misdirectedListener(m: CompiledMatcher, req: RequestView): CompiledListener | null {
  return bestListener(m, req.scheme === 'https' ? 'HTTPS' : 'HTTP', req.port, req.sni?.toLowerCase());
}
