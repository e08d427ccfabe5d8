/**
 * route() and explain(): listener selection (spec digest section 3), virtual host and match
 * selection (sections 4, 5), and the weighted pick (section 6), composed into a Decision.
 * Request-time code never throws: bad input gets a 400, a broken invariant a 500.
 */
import type { BackendTarget, Decision, ForwardDecision, ForwardedRequest, ListenerRef, RouteRef, RespondDecision, RespondReason, RouteRequest } from '../types.js';
import type * as IR from '../ir/types.js';
import { compareMatches, type PrecedenceKey } from '../ir/precedence.js';
import { hostnameRank } from '../model/hostnames.js';
import { compileMatcher, candidatesFor, vhostsFor, type Candidate, type CandidateList, type CompiledListener, type CompiledMatcher, type CompiledVHost } from '../match/compile.js';
import { RequestView } from '../match/request.js';
import { canonicalPathValue, type PathOptions } from '../match/normalize.js';
import { compileFullMatch } from '../resources/regex.js';
import { createPicker, type Picker } from '../pick/weighted.js';
import { createStickyPicker, hash32, type StickyPicker } from '../pick/sticky.js';
import { applyFilters, ruleTimeouts, type ExtensionFilter, type FilterContext, type FilterState } from '../filters/apply.js';
import { durationMs } from '../resources/schemas-route.js';

/** Routing options (part of createGateway's options). */
export interface RoutingOptions extends PathOptions {
  /** `random` (default; stateless, like Envoy) or `smooth` (deterministic, exact over every window of sum(weights) picks). */
  picker?: 'random' | 'smooth';
  /** Random source in [0, 1) for the `random` picker. Default `Math.random`. */
  random?: () => number;
  /**
   * When no match of the most specific hostname matches, try less specific hostnames
   * (wildcards, then any-host). Default false: virtual-host semantics, as Envoy-based
   * implementations (spec digest 5.2).
   */
  hostFallthrough?: boolean;
  /**
   * ExtensionRef filters, keyed `group/Kind/name` as the filter's extensionRef names them. A
   * filter may change the request or answer it. An ExtensionRef nobody registered answers 500.
   */
  extensions?: Record<string, ExtensionFilter>;
  /**
   * Sticky weighted splits for every rule: the session key is this cookie's or header's value,
   * or what the function returns. A request without a key gets the ordinary pick. Rules with
   * `sessionPersistence` use their own cookie or header instead. Default: none.
   */
  sticky?: { cookie: string } | { header: string } | ((request: RouteRequest) => string | undefined);
}

/** Where a rule's session key comes from, and how a new session is started. */
interface SessionSource {
  read: (req: RequestView) => string | undefined;
  /** For sessionPersistence: how to hand a new session to the client. */
  start?: (id: string) => { cookie: string } | { header: [string, string] };
}

interface RuleRuntime {
  rule: IR.Rule;
  picker: Picker | null;
  /** Rendezvous picker for the `sticky` option's keys. */
  sticky: StickyPicker | null;
  session: SessionSource | null;
  /** Per backendRef, the prefix of its session tokens (sessionPersistence pins a session to one). */
  tokens: string[];
  /** Frozen references shared by every Decision of this rule. */
  routeRef: RouteRef;
  ruleRef: { index: number; name?: string };
  /** True when any filter (rule or backend) may touch the request. */
  hasFilters: boolean;
  timeouts: { request?: number; backendRequest?: number } | undefined;
  /** Per backendRef, what a pick needs, in one object each (fewer memory hops on a hit). */
  choices: Choice[];
  /** The only backendRef with weight > 0, or -1: that pick needs no picker call. */
  single: number;
  /** `choices[single]` when there is one, one hop closer. */
  singleChoice: Choice | null;
  /** The retry policy as the Decision carries it (frozen, shared). */
  retry: ForwardDecision['retry'];
}

/** One backendRef of a rule, as a pick needs it. */
interface Choice {
  target: BackendTarget;
  state: IR.Backend['state'];
  registered: string | undefined;
  filters: IR.Filter[];
  message: string | undefined;
}

/**
 * What each compiled candidate carries (its payload): the rule's runtime, and for the common
 * case (no filters, no session, one valid backendRef) every field of the forward Decision, so a
 * hit reads one object. One per candidate, allocated beside it: at 10,000 routes a lookup is
 * bound by memory hops, and a payload shared by the rule's matches (its RuleRuntime) lies
 * elsewhere in the heap (measured: route() 5 to 15% slower at 10,000 routes).
 */
interface MatchPayload {
  rr: RuleRuntime;
  /** Set when the rule has no filters, no session and exactly one live, valid backendRef. */
  fast: { target: BackendTarget; registered: string | undefined } | null;
  routeRef: RouteRef;
  ruleRef: { index: number; name?: string };
  timeouts: ForwardDecision['timeouts'];
  retry: ForwardDecision['retry'];
}

/** A listener with its frozen reference, shared by every Decision it handles. */
interface RuntimeListener {
  cl: CompiledListener;
  ref: ListenerRef;
}

/** The compiled, ready-to-route form of one IR. */
export interface Runtime {
  ir: IR.Gateway;
  matcher: CompiledMatcher;
  rules: RuleRuntime[];
  /** Programmed listeners by protocol, for the fast listener choice. */
  byProtocol: { HTTP: RuntimeListener[]; HTTPS: RuntimeListener[] };
  refs: Map<CompiledListener, ListenerRef>;
  options: Required<Pick<RoutingOptions, 'picker' | 'hostFallthrough' | 'extensions'>> & { random: () => number; paths: PathOptions };
}

export function compileRuntime(ir: IR.Gateway, options: RoutingOptions): Runtime {
  const random = options.random ?? Math.random;
  const picker = options.picker ?? 'random';
  // The frozen references are shared as widely as their content allows: one per route, one per
  // unnamed rule index, one per backend. This runs for every rule at every load.
  const routeRefs: RouteRef[] = [];
  const unnamedRuleRefs: { index: number }[] = [];
  const targets: Targets = new Map();
  const rules: RuleRuntime[] = [];
  for (const rule of ir.rules) {
    const backends = rule.backends;
    let live = 0;
    let single = -1;
    let hasFilters = rule.filters.length > 0;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i]!;
      if (b.weight > 0) {
        live++;
        single = i;
      }
      if (b.filters.length > 0) hasFilters = true;
    }
    if (live !== 1) single = -1;
    // map() sizes these arrays exactly; most rules have one backendRef.
    const weights = backends.map((b) => b.weight);
    const choices = backends.map((b): Choice => ({ target: targetOf(targets, b), state: b.state, registered: b.registered, filters: b.filters, message: b.message }));
    const session = sessionSource(ir, rule, options.sticky);
    // Backend ids (for sticky hashing and session tokens) only matter to rules with sessions.
    const ids = session === null ? NO_IDS : backends.map((b, i) => `${b.namespace}/${b.name}:${b.port ?? ''}#${backends.slice(0, i).filter((o) => o.name === b.name && o.namespace === b.namespace && o.port === b.port).length}`);
    const route = ir.routes[rule.route]!;
    const singleChoice = single >= 0 ? choices[single]! : null;
    rules.push({
      rule,
      picker: createPicker(weights, picker, random),
      sticky: session && !session.start ? createStickyPicker(ids, weights) : null,
      session,
      tokens: ids.length === 0 ? NO_IDS : ids.map((id) => hash32(id, 0x5bd1e995).toString(36)),
      timeouts: freeze(ruleTimeouts(rule.timeouts)),
      routeRef: (routeRefs[rule.route] ??= Object.freeze({ kind: route.kind, namespace: route.namespace, name: route.name })),
      ruleRef: rule.name !== undefined ? Object.freeze({ index: rule.index, name: rule.name }) : (unnamedRuleRefs[rule.index] ??= Object.freeze({ index: rule.index })),
      hasFilters,
      choices,
      single,
      singleChoice,
      retry: rule.retry
        ? Object.freeze({ codes: rule.retry.codes ?? [], ...(rule.retry.attempts !== undefined ? { attempts: rule.retry.attempts } : {}), ...(rule.retry.backoff !== undefined ? { backoffMs: durationMs(rule.retry.backoff) } : {}) })
        : undefined,
    });
  }
  const matcher = compileMatcher(ir, (m): MatchPayload => {
    const rr = rules[m.rule]!;
    const c = rr.singleChoice;
    const fast = !rr.hasFilters && rr.session === null && c !== null && c.state === 'ok' ? { target: c.target, registered: c.registered } : null;
    return { rr, fast, routeRef: rr.routeRef, ruleRef: rr.ruleRef, timeouts: rr.timeouts, retry: rr.retry };
  });
  const refs = new Map<CompiledListener, ListenerRef>();
  const byProtocol: Runtime['byProtocol'] = { HTTP: [], HTTPS: [] };
  for (const cl of matcher.listeners) {
    const ref = Object.freeze(listenerRef(ir, cl.listener));
    refs.set(cl, ref);
    const p = cl.listener.protocol;
    if (cl.listener.programmed && (p === 'HTTP' || p === 'HTTPS')) byProtocol[p].push({ cl, ref });
  }
  return {
    ir,
    matcher,
    byProtocol,
    refs,
    rules,
    options: {
      picker,
      hostFallthrough: options.hostFallthrough ?? false,
      random,
      extensions: options.extensions ?? {},
      paths: { mergeSlashes: options.mergeSlashes === true, escapedSlashes: options.escapedSlashes ?? 'keep' },
    },
  };
}

/** The ids and tokens of a rule without sessions: shared, never written to. */
const NO_IDS: string[] = [];

/** Backend targets by namespace, then name: found with the strings at hand, no key is built. */
type Targets = Map<string, Map<string, BackendTarget[]>>;

/** The frozen target of a backendRef, one per distinct backend (many rules share a Service). */
function targetOf(targets: Targets, b: IR.Backend): BackendTarget {
  let byName = targets.get(b.namespace);
  if (!byName) targets.set(b.namespace, (byName = new Map()));
  let list = byName.get(b.name);
  if (!list) byName.set(b.name, (list = []));
  for (const t of list) if (t.port === b.port && t.group === b.group && t.kind === b.kind) return t;
  const t = Object.freeze({ group: b.group, kind: b.kind, namespace: b.namespace, name: b.name, port: b.port });
  list.push(t);
  return t;
}

/** The shared, frozen empty list of Decisions without response header operations or mirrors. */
const NONE: never[] = Object.freeze([]) as never[];

function freeze<T>(o: T): T {
  return o === undefined ? o : Object.freeze(o);
}

/** A cookie's value from the Cookie header. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(/[;,]\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The session source of a rule: its sessionPersistence (GEP-1619; both the v1.6.1 and the main
 * shapes), else the `sticky` option, else none.
 */
function sessionSource(ir: IR.Gateway, rule: IR.Rule, sticky: RoutingOptions['sticky']): SessionSource | null {
  const sp = rule.sessionPersistence as
    | { type?: string; sessionName?: string; absoluteTimeout?: string; cookieConfig?: { lifetimeType?: string }; cookie?: { name?: string; path?: string; lifetimeType?: string }; header?: { name: string } }
    | undefined;
  if (sp) {
    const route = ir.routes[rule.route]!;
    // Rules must not share sessions: the default name is unique per route and rule.
    const fallback = `gw-session-${route.namespace}-${route.name}-${rule.index}`;
    if (sp.type === 'Header') {
      const name = (sp.header?.name ?? sp.sessionName ?? fallback).toLowerCase();
      return { read: (req) => req.header(name), start: (id) => ({ header: [name, id] }) };
    }
    const name = sp.cookie?.name ?? sp.sessionName ?? fallback;
    const path = sp.cookie?.path ?? '/';
    const permanent = (sp.cookie?.lifetimeType ?? sp.cookieConfig?.lifetimeType) === 'Permanent' && sp.absoluteTimeout !== undefined;
    const maxAge = permanent ? `; Max-Age=${Math.floor(durationMs(sp.absoluteTimeout!) / 1000)}` : '';
    return { read: (req) => cookieValue(req.header('cookie'), name), start: (id) => ({ cookie: `${name}=${id}; Path=${path}; HttpOnly${maxAge}` }) };
  }
  if (!sticky) return null;
  if (typeof sticky === 'function') {
    return {
      read: (req) => {
        try {
          const k = sticky(req.request);
          return typeof k === 'string' && k !== '' ? k : undefined;
        } catch {
          return undefined; // a throwing key function falls back to the ordinary pick
        }
      },
    };
  }
  if ('cookie' in sticky) return { read: (req) => cookieValue(req.header('cookie'), sticky.cookie) };
  const h = sticky.header.toLowerCase();
  return { read: (req) => req.header(h) };
}

// ---------------------------------------------------------------------------------------------
// Listener selection

function listenerRef(gw: IR.Gateway, l: IR.Listener): ListenerRef {
  const ref: ListenerRef = { gateway: gw.key, name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname };
  if (l.listenerSet !== undefined) ref.listenerSet = l.listenerSet;
  return ref;
}

interface ListenerChoice {
  listener: CompiledListener | null;
  /** 421 when the Host belongs to another listener than the SNI chose (connection coalescing). */
  misdirected: boolean;
  /** `listenerSet`: `namespace/name` of the ListenerSet that declares the listener, if one does. */
  considered: { name: string; listenerSet?: string; port: number; protocol: string; hostname: string | null; outcome: string }[];
}

/**
 * The most specific programmed listener for the request's port, protocol and host (or SNI):
 * exact hostname, then longer wildcard, then no hostname; ties by lower port, then list order.
 */
function selectListener(rt: Runtime, req: RequestView, explain: boolean): ListenerChoice {
  const protocol = req.scheme === 'https' ? 'HTTPS' : 'HTTP';
  const port = req.port;
  const sni = req.sni !== undefined ? req.sni.toLowerCase() : undefined;
  const considered: ListenerChoice['considered'] = [];
  const eligible: CompiledListener[] = [];
  for (const cl of rt.matcher.listeners) {
    const l = cl.listener;
    const outcome =
      l.protocol !== protocol ? `protocol ${l.protocol} is not ${protocol}` :
      port !== undefined && l.port !== port ? `port ${l.port} is not ${port}` :
      !l.programmed ? 'not programmed (see its status conditions)' : '';
    if (outcome === '') eligible.push(cl);
    if (explain) considered.push({ name: l.name, ...(l.listenerSet !== undefined ? { listenerSet: l.listenerSet } : {}), port: l.port, protocol: l.protocol, hostname: l.hostname, outcome });
  }
  const best = (name: string | undefined) => {
    let chosen: CompiledListener | null = null;
    let rank = Infinity;
    for (const cl of eligible) {
      const r = hostnameRank(cl.listener.hostname, name);
      if (r === null) continue;
      if (r < rank || (r === rank && chosen && cl.listener.port < chosen.listener.port)) {
        chosen = cl;
        rank = r;
      }
    }
    return chosen;
  };
  const byHost = best(req.host);
  let chosen = byHost;
  let misdirected = false;
  if (protocol === 'HTTPS' && sni !== undefined) {
    // Spec digest 3.6: the SNI chooses the listener; a Host that another listener matches
    // (as well or better) is a misdirected request (421); a Host no listener matches is 404.
    const bySni = best(sni);
    chosen = bySni;
    if (bySni && byHost && byHost !== bySni) misdirected = true;
    if (bySni && !byHost && req.host !== undefined) chosen = null;
  }
  if (explain) {
    for (const c of considered) {
      if (c.outcome !== '') continue;
      // Names repeat across a Gateway and its ListenerSets: the ListenerSet tells them apart.
      const cl = eligible.find((e) => e.listener.name === c.name && e.listener.listenerSet === c.listenerSet)!;
      c.outcome = cl === chosen ? 'selected' : hostnameRank(c.hostname, sni ?? req.host) === null ? `hostname ${c.hostname} does not match ${sni ?? req.host ?? '(no host)'}` : 'less specific than the selected listener';
    }
  }
  return { listener: chosen, misdirected, considered };
}

/**
 * The listener choice without SNI and without explanation: the common case, with no
 * allocation. Same rule as selectListener.
 */
function fastListener(rt: Runtime, req: RequestView): RuntimeListener | null {
  const list = req.scheme === 'https' ? rt.byProtocol.HTTPS : rt.byProtocol.HTTP;
  const port = req.port;
  const host = req.host;
  let best: RuntimeListener | null = null;
  let rank = Infinity;
  for (let i = 0; i < list.length; i++) {
    const l = list[i]!;
    if (port !== undefined && l.cl.listener.port !== port) continue;
    const r = hostnameRank(l.cl.listener.hostname, host);
    if (r === null) continue;
    if (r < rank || (r === rank && best !== null && l.cl.listener.port < best.cl.listener.port)) {
      best = l;
      rank = r;
    }
  }
  return best;
}

/** The most specific virtual host of a listener that matches the host, or null. */
function firstVhost(cl: CompiledListener, host: string | undefined): CompiledVHost | null {
  if (host !== undefined) {
    const exact = cl.exactHosts.get(host);
    if (exact) return exact;
    if (cl.wildcardHosts.size > 0) {
      for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
        if (dot === 0) continue;
        const vh = cl.wildcardHosts.get(host.slice(dot));
        if (vh) return vh;
      }
    }
  }
  return cl.anyHost;
}

// ---------------------------------------------------------------------------------------------
// route()

function isGrpc(req: RequestView): boolean {
  const ct = req.header('content-type');
  return req.method === 'POST' && ct !== undefined && ct.startsWith('application/grpc');
}

function respond(listener: ListenerRef | null, status: number, reason: RespondReason, message: string, extra?: Partial<RespondDecision>): RespondDecision {
  const d: RespondDecision = { type: 'respond', listener, status, reason, message };
  return extra === undefined ? d : Object.assign(d, extra);
}

/** The first candidate of a list that the request satisfies. */
function firstPassing(l: CandidateList, req: RequestView): Candidate | null {
  // Hot path: the first candidate usually wins; only then is the array read.
  const first = l.first;
  if (first === null) return null;
  if (first.test(req)) return first;
  const all = l.all;
  for (let i = 1; i < all.length; i++) {
    const c = all[i]!;
    if (c.test(req)) return c;
  }
  return null;
}

/** Finds the winning candidate: vhost by vhost (only the first unless hostFallthrough). */
function findMatch(rt: Runtime, cl: CompiledListener, req: RequestView): Candidate | null {
  if (!rt.options.hostFallthrough) {
    // Hot path: one virtual host, one path-index lookup, then a short precedence-sorted scan.
    const vh = firstVhost(cl, req.host);
    if (vh === null) return null;
    return firstPassing(candidatesFor(vh, req.path, vh.grpc !== null && isGrpc(req)), req);
  }
  for (const vh of vhostsFor(cl, req.host)) {
    const c = firstPassing(candidatesFor(vh, req.path, vh.grpc !== null && isGrpc(req)), req);
    if (c !== null) return c;
  }
  return null;
}

/** Routes one request. Never throws. */
export function routeRequest(rt: Runtime, request: RouteRequest): Decision {
  let req: RequestView;
  try {
    req = new RequestView(request, rt.options.paths);
  } catch {
    return respond(null, 400, 'bad-request', 'The request could not be read (a field threw when read).');
  }
  try {
    return decide(rt, req, null);
  } catch (e) {
    return respond(null, 500, 'bad-request', `Internal error while routing: ${(e as Error).message}`);
  }
}

interface PickTrace {
  /** How the backend was chosen: the picker, a sticky key, or an existing session. */
  algorithm: 'random' | 'smooth' | 'single' | 'sticky' | 'session' | 'none';
  /** The session key that keyed a sticky pick. */
  sessionKey?: string;
  backends: { name: string; namespace: string; port: number | undefined; weight: number; state: string; share: number }[];
  totalWeight: number;
  chosen: number | null;
}

function decide(rt: Runtime, req: RequestView, trace: { listener?: ListenerChoice; match?: IR.Match | null; pick?: PickTrace } | null): Decision {
  // A request that cannot be normalised (path, query, Host, method) is never routed (digest 11).
  if (req.invalid !== null) return respond(null, 400, 'bad-request', req.invalid);
  let cl: CompiledListener | null;
  let lref: ListenerRef;
  if (trace === null && req.sni === undefined) {
    const l = fastListener(rt, req);
    if (l === null) return respond(null, 404, 'no-listener', `No listener matches ${req.scheme} ${req.port !== undefined ? `port ${req.port} ` : ''}host ${req.host ?? '(none)'}.`);
    cl = l.cl;
    lref = l.ref;
  } else {
    const choice = selectListener(rt, req, trace !== null);
    if (trace) trace.listener = choice;
    if (!choice.listener) return respond(null, 404, 'no-listener', `No listener matches ${req.scheme} ${req.port !== undefined ? `port ${req.port} ` : ''}host ${req.host ?? '(none)'}.`);
    cl = choice.listener;
    lref = rt.refs.get(cl)!;
    if (choice.misdirected) {
      return respond(lref, 421, 'misdirected-request', `Host ${req.host} is served by another listener than the one the TLS server name ${req.sni} selected.`);
    }
  }
  const hit = findMatch(rt, cl, req);
  if (trace) trace.match = hit?.match ?? null;
  if (!hit) return respond(lref, 404, 'no-route', `No route on listener ${lref.name} matches ${req.method} ${req.path}${req.host ? ` for host ${req.host}` : ''}.`);
  const p = hit.payload as MatchPayload;
  const matchIndex = hit.index;
  const routeRef = p.routeRef;
  const ruleRef = p.ruleRef;
  const fast = p.fast;
  if (fast !== null && trace === null) {
    // Hot path: no filters, no session, one valid backend. Two allocations: request and Decision.
    const request: ForwardedRequest = { method: req.method, path: req.target, host: req.rawHost, scheme: req.scheme, headers: req.lowerCaseHeaders() };
    return forwardDecision(lref, routeRef, ruleRef, matchIndex, fast.target, fast.registered, request, NONE, NONE, p.timeouts, p.retry, undefined);
  }
  const rr = p.rr;
  // Only the answers other than forward need this one (forward builds its own fields).
  const matchedOf = () => ({ route: routeRef, rule: ruleRef, match: matchIndex });
  const request: ForwardedRequest = { method: req.method, path: req.target, host: req.rawHost, scheme: req.scheme, headers: req.lowerCaseHeaders() };
  // Filter state and context exist only for rules that have filters.
  let state: FilterState | null = null;
  let fctx: FilterContext | null = null;
  if (rr.hasFilters) {
    state = { request, responseHeaders: [], mirrors: [] };
    fctx = {
      method: req.method,
      header: (n) => req.header(n),
      listenerPort: lref.port,
      matchedPrefix: hit.match.path.type === 'PathPrefix' ? hit.match.path.value : null,
      extensions: rt.options.extensions,
      random: rt.options.random,
      route: routeRef,
      rule: ruleRef,
    };
    // Rule filters first, in the order listed; they may answer (redirect, CORS preflight, extension).
    const answered = filterAnswer(lref, matchedOf(), state, applyFilters(rr.rule.filters, state, fctx));
    if (answered) return answered;
  }
  const choices = rr.choices;
  if (choices.length === 0) {
    // HTTPRouteRule.BackendRefs: no backendRefs and no filter that answers => 500.
    return respond(lref, 500, 'no-backends', 'The matched rule has no backendRefs.', matchedOf());
  }
  let chosen = -1;
  let session: { cookie: string } | { header: [string, string] } | undefined;
  const key = rr.session === null ? undefined : rr.session.read(req);
  let how: PickTrace['algorithm'] = rr.picker?.kind ?? 'none';
  let b: Choice | undefined;
  if (rr.session === null && rr.singleChoice !== null) {
    chosen = rr.single; // Hot path: one live backendRef, nothing to draw.
    b = rr.singleChoice;
  } else if (rr.session?.start && key !== undefined) {
    // sessionPersistence (GEP-1619): a session stays on its backend while that backendRef is
    // listed, even if its weight changed or became 0. The token names the backend.
    chosen = rr.tokens.indexOf(key.slice(0, key.indexOf('.')));
    if (chosen >= 0) how = 'session';
  } else if (rr.sticky && key !== undefined) {
    chosen = rr.sticky.pick(key);
    how = 'sticky';
  }
  if (chosen < 0) {
    if (!rr.picker) {
      // All weights zero: unspecified upstream; 500, as Envoy Gateway answers (spec digest 13.7).
      return respond(lref, 500, 'all-weights-zero', 'Every backendRef of the matched rule has weight 0.', matchedOf());
    }
    chosen = rr.picker.pick();
    // A request without a session gets the ordinary pick; sessionPersistence then starts one.
    if (rr.session?.start) session = rr.session.start(`${rr.tokens[chosen]}.${sessionId(rt.options.random)}`);
  }
  if (trace) trace.pick = pickTrace(rr, chosen, key, how);
  if (b === undefined) b = choices[chosen]!;
  const target = b.target;
  if (b.state === 'invalid') {
    // An invalid backendRef keeps its weight; its share of requests gets 500 (HTTPBackendRef docs).
    return respond(lref, 500, 'invalid-backend', `Backend ${target.namespace}/${target.name} is invalid: ${b.message ?? 'see route status'}`, { ...matchedOf(), backend: target });
  }
  if (b.state === 'unavailable') {
    return respond(lref, 503, 'backend-unavailable', `Backend ${target.namespace}/${target.name} has no endpoints: ${b.message ?? 'see route status'}`, { ...matchedOf(), backend: target });
  }
  // Backend filters run only when this backend is picked (HTTPBackendRef.Filters).
  if (state !== null && fctx !== null && b.filters.length > 0) {
    const byBackend = filterAnswer(lref, matchedOf(), state, applyFilters(b.filters, state, fctx));
    if (byBackend) return byBackend;
  }
  return forwardDecision(
    lref,
    routeRef,
    ruleRef,
    matchIndex,
    target,
    b.registered,
    state !== null ? state.request : request,
    state !== null ? state.responseHeaders : NONE,
    state !== null ? state.mirrors : NONE,
    rr.timeouts,
    rr.retry,
    session,
  );
}

/** The forward Decision; optional fields are set only when present (plain data, no undefined keys). */
function forwardDecision(
  listener: ListenerRef,
  route: RouteRef,
  rule: { index: number; name?: string },
  match: number,
  backend: BackendTarget,
  registered: string | undefined,
  request: ForwardedRequest,
  responseHeaders: ForwardDecision['responseHeaders'],
  mirrors: ForwardDecision['mirrors'],
  timeouts: ForwardDecision['timeouts'],
  retry: ForwardDecision['retry'],
  session: ForwardDecision['session'],
): ForwardDecision {
  const d: ForwardDecision = { type: 'forward', listener, route, rule, match, backend, request, responseHeaders, mirrors };
  if (registered !== undefined) d.registered = registered;
  if (timeouts !== undefined) d.timeouts = timeouts;
  if (retry !== undefined) d.retry = retry;
  if (session !== undefined) d.session = session;
  return d;
}

function filterAnswer(lref: ListenerRef, matched: { route: RouteRef; rule: { index: number; name?: string }; match: number }, state: FilterState, r: ReturnType<typeof applyFilters>): Decision | null {
  if (r.type === 'continue') return null;
  if (r.type === 'redirect') return { type: 'redirect', listener: lref, ...matched, status: r.status, location: r.location, responseHeaders: state.responseHeaders };
  return respond(lref, r.status, r.reason, r.message, { ...matched, ...(r.headers ? { headers: r.headers } : {}), ...(r.body !== undefined ? { body: r.body } : {}) });
}

/** A random session id: 16 hex digits from the configured RNG. */
function sessionId(random: () => number): string {
  const part = () => Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return part() + part();
}


function pickTrace(rr: RuleRuntime, chosen: number | null, key: string | undefined, algorithm: PickTrace['algorithm']): PickTrace {
  const total = rr.rule.backends.reduce((n, b) => n + b.weight, 0);
  return {
    algorithm,
    ...(key !== undefined ? { sessionKey: key } : {}),
    backends: rr.rule.backends.map((b) => ({ name: b.name, namespace: b.namespace, port: b.port, weight: b.weight, state: b.state, share: total > 0 ? b.weight / total : 0 })),
    totalWeight: total,
    chosen,
  };
}

// ---------------------------------------------------------------------------------------------
// explain()

/** One match considered by explain(), in precedence order. */
export interface CandidateExplanation {
  route: { kind: string; namespace: string; name: string };
  rule: number;
  match: number;
  /** The virtual host (intersected hostname) it belongs to; null = any host. */
  hostname: string | null;
  path: { type: IR.PathType; value: string };
  outcome: 'selected' | 'failed' | 'lost' | 'skipped';
  /** For `failed`: the condition that did not match. */
  failed?: string;
  /** For `lost`: the precedence key on which the selected match beat it. */
  lostOn?: PrecedenceKey;
  /** For `skipped`: why it was never considered (another virtual host won). */
  skipped?: string;
}

/** What explain() returns: the decision and why. */
export interface Explanation {
  decision: Decision;
  request: { method: string; path: string; query: string; host: string | undefined; scheme: string; port: number | undefined; sni: string | undefined };
  listeners: ListenerChoice['considered'];
  /** Virtual hosts of the selected listener that match the host, most specific first. */
  virtualHosts: (string | null)[];
  candidates: CandidateExplanation[];
  pick: PickTrace | null;
  /** Hints about the request itself, e.g. a host-less request to hostname-only routes. Absent when none. */
  notes?: string[];
}

/** Explains one request: the decision plus every step that led to it. Never throws. */
export function explainRequest(rt: Runtime, request: RouteRequest): Explanation {
  let req: RequestView;
  try {
    req = new RequestView(request, rt.options.paths);
  } catch {
    req = new RequestView(undefined as unknown as RouteRequest); // a request whose fields throw when read: 400
  }
  const trace: { listener?: ListenerChoice; match?: IR.Match | null; pick?: PickTrace } = {};
  let decision: Decision;
  try {
    decision = decide(rt, req, trace);
  } catch (e) {
    decision = respond(null, 500, 'bad-request', `Internal error while routing: ${(e as Error).message}`);
  }
  const out: Explanation = {
    decision,
    request: { method: req.method, path: req.path, query: req.rawQuery, host: req.host, scheme: req.scheme, port: req.port, sni: req.sni },
    listeners: trace.listener?.considered ?? [],
    virtualHosts: [],
    candidates: [],
    pick: trace.pick ?? null,
  };
  const hostless = hostlessNote(req, decision, trace.listener);
  if (hostless !== null) out.notes = [hostless];
  const cl = trace.listener?.listener;
  if (!cl || trace.listener?.misdirected) return out;
  const vhosts = vhostsFor(cl, req.host);
  out.virtualHosts = vhosts.map((v) => v.vhost.hostname);
  const grpc = isGrpc(req);
  const winner = trace.match ?? null;
  vhosts.forEach((vh, v) => {
    const active = v === 0 || rt.options.hostFallthrough;
    for (const m of grpc && vh.vhost.grpcMatches.length > 0 ? vh.vhost.grpcMatches : vh.vhost.matches) {
      out.candidates.push(explainCandidate(rt, vh, m, req, winner, active));
    }
  });
  return out;
}

/** A request without a Host that got a 404 while listeners or routes of this Gateway name hostnames. */
function hostlessNote(req: RequestView, d: Decision, choice: ListenerChoice | undefined): string | null {
  if (req.host !== undefined || d.type !== 'respond' || (d.reason !== 'no-route' && d.reason !== 'no-listener')) return null;
  const names = new Set<string>();
  for (const l of choice?.considered ?? []) if (l.hostname !== null) names.add(l.hostname);
  for (const vh of choice?.listener?.listener.vhosts ?? []) if (vh.hostname !== null) names.add(vh.hostname);
  if (names.size === 0) return null;
  return `The request has no Host, so listeners and routes with hostnames (${[...names].join(', ')}) cannot match it; give the request a host.`;
}

function explainCandidate(rt: Runtime, vh: CompiledVHost, m: IR.Match, req: RequestView, winner: IR.Match | null, active: boolean): CandidateExplanation {
  const r = rt.ir.routes[m.route]!;
  const base: CandidateExplanation = {
    route: { kind: r.kind, namespace: r.namespace, name: r.name },
    rule: rt.ir.rules[m.rule]!.index,
    match: m.index,
    hostname: vh.vhost.hostname,
    path: m.path,
    outcome: 'failed',
  };
  if (m === winner) return { ...base, outcome: 'selected' };
  if (!active) return { ...base, outcome: 'skipped', skipped: 'a more specific hostname of this listener matches the host, and requests do not fall through to less specific hostnames' };
  const failed = failedCondition(m, req);
  if (failed) return { ...base, failed };
  if (winner) return { ...base, outcome: 'lost', lostOn: compareMatches(rt.ir, winner, m).key };
  return { ...base, failed: 'unknown' };
}

/** The first condition of `m` the request fails, described for humans; null if all pass. */
function failedCondition(m: IR.Match, req: RequestView): string | null {
  const p = { type: m.path.type, value: m.path.type === 'RegularExpression' ? m.path.value : canonicalPathValue(m.path.value) };
  if (p.type === 'Exact' && req.path !== p.value) return `path ${req.path} is not exactly ${p.value}`;
  if (p.type === 'PathPrefix') {
    const prefix = p.value.length > 1 && p.value.endsWith('/') ? p.value.slice(0, -1) : p.value;
    if (!(prefix === '/' || req.path === prefix || req.path.startsWith(`${prefix}/`))) return `path ${req.path} is not under prefix ${p.value} (prefixes match whole segments)`;
  }
  if (p.type === 'RegularExpression') {
    if (!fullMatch(p.value, req.path)) return `path ${req.path} does not fully match regular expression ${p.value}`;
  }
  if (m.method !== null && req.method !== m.method) return `method ${req.method} is not ${m.method}`;
  for (const h of m.headers) {
    const v = req.header(h.name);
    if (v === undefined) return `header ${h.name} is absent`;
    if (h.type === 'Exact' ? v !== h.value : !fullMatch(h.value, v)) {
      return `header ${h.name}: ${JSON.stringify(v)} does not ${h.type === 'Exact' ? 'equal' : 'fully match'} ${JSON.stringify(h.value)}`;
    }
  }
  for (const q of m.query) {
    const v = req.query(q.name);
    if (v === undefined) return `query parameter ${q.name} is absent (names are case-sensitive)`;
    if (q.type === 'Exact' ? v !== q.value : !fullMatch(q.value, v)) {
      return `query parameter ${q.name}: ${JSON.stringify(v)} does not ${q.type === 'Exact' ? 'equal' : 'fully match'} ${JSON.stringify(q.value)}`;
    }
  }
  return null;
}

/** True when `pattern` (validated at load) fully matches `value`. */
function fullMatch(pattern: string, value: string): boolean {
  const r = compileFullMatch(pattern);
  return r.ok && r.test(value);
}
