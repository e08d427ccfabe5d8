/**
 * decide: one request to one Decision. The lookup (match/find.ts) chooses the listener and the
 * match; the rule's filters run (spec digest section 7), the weighted pick chooses a backend
 * (section 6), and the answer is assembled as plain data.
 */
import type { BackendTarget, Decision, ForwardDecision, ForwardedRequest, ListenerRef, RespondDecision, RespondReason, RouteRef } from '../types.js';
import { find, isMiss, type FindTrace } from '../match/find.js';
import type { RequestView } from '../match/request.js';
import { sessionId } from '../pick/session.js';
import { drawAlias } from '../pick/weighted.js';
import type { Choice } from '../pick/choices.js';
import { applyFilters, type FilterContext, type FilterState } from '../filters/apply.js';
import { NONE, type MatchCandidate, type RuleRuntime, type Runtime } from './runtime.js';

/** The inputs and outcome of the weighted pick, for explain(). */
export interface PickTrace {
  /** How the backend was chosen: the picker, a sticky key, or an existing session. */
  algorithm: 'random' | 'smooth' | 'single' | 'sticky' | 'session' | 'none';
  /** The session key that keyed a sticky pick. */
  sessionKey?: string;
  backends: { name: string; namespace: string; port: number | undefined; weight: number; state: string; share: number }[];
  totalWeight: number;
  chosen: number | null;
}

/** What explain() collects while a request is decided. */
export interface DecideTrace {
  find: FindTrace;
  pick?: PickTrace;
}

export function respond(listener: ListenerRef | null, status: number, reason: RespondReason, message: string, extra?: Partial<RespondDecision>): RespondDecision {
  const d: RespondDecision = { type: 'respond', listener, status, reason, message };
  return extra === undefined ? d : Object.assign(d, extra);
}

export function decide(rt: Runtime, req: RequestView, trace: DecideTrace | null): Decision {
  // A request that cannot be normalised (path, query, Host, method) is never routed (digest 11).
  if (req.invalid !== null) return respond(null, 400, 'bad-request', req.invalid);
  const hit = find(rt.matcher, req, rt.options.hostFallthrough, trace === null ? null : trace.find);
  // A miss answers with its Decision made once per listener (frozen, shared): it costs less than
  // a hit and allocates nothing. explain() says why.
  if (isMiss(hit)) return hit.decision;
  const lref = hit.listener;
  const p = hit as MatchCandidate;
  const matchIndex = hit.index;
  const routeRef = p.routeRef;
  const ruleRef = p.ruleRef;
  const fast = p.fast;
  if (trace === null) {
    // Hot paths: no filters, no session, valid backends. Two allocations: request and Decision.
    if (fast !== null) {
      const request: ForwardedRequest = { method: req.method, path: req.target, host: req.rawHost, scheme: req.scheme, headers: req.lowerCaseHeaders() };
      return forwardDecision(lref, routeRef, ruleRef, matchIndex, fast, p.fastRegistered, request, NONE, NONE, p.timeouts, p.retry, undefined);
    }
    const alias = p.alias;
    if (alias !== null) {
      const i = 2 * drawAlias(alias, rt.options.random);
      const t = p.aliasTargets!;
      const request: ForwardedRequest = { method: req.method, path: req.target, host: req.rawHost, scheme: req.scheme, headers: req.lowerCaseHeaders() };
      return forwardDecision(lref, routeRef, ruleRef, matchIndex, t[i] as BackendTarget, t[i + 1] as string | undefined, request, NONE, NONE, p.timeouts, p.retry, undefined);
    }
    const split = p.split;
    if (split !== null) {
      const b = split.choices[split.pick()]!;
      const request: ForwardedRequest = { method: req.method, path: req.target, host: req.rawHost, scheme: req.scheme, headers: req.lowerCaseHeaders() };
      return forwardDecision(lref, routeRef, ruleRef, matchIndex, b.target, b.registered, request, NONE, NONE, p.timeouts, p.retry, undefined);
    }
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
    const answered = filterAnswer(lref, matchedOf(), state, applyFilters(rr.filters, state, fctx));
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
    if (rr.zeroWeights || rr.picker === null) {
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
    p.timeouts,
    p.retry,
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

function pickTrace(rr: RuleRuntime, chosen: number | null, key: string | undefined, algorithm: PickTrace['algorithm']): PickTrace {
  const total = rr.backends.reduce((n, b) => n + b.weight, 0);
  return {
    algorithm,
    ...(key !== undefined ? { sessionKey: key } : {}),
    backends: rr.backends.map((b) => ({ name: b.name, namespace: b.namespace, port: b.port, weight: b.weight, state: b.state, share: total > 0 ? b.weight / total : 0 })),
    totalWeight: total,
    chosen,
  };
}
