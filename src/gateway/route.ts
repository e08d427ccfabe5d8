/**
 * route() and explain(): the entries. Both decide through decide.ts, which runs the one lookup
 * (match/find.ts); explain() passes a trace. Request-time code never throws: bad input gets a
 * 400, a broken invariant a 500.
 */
import type { Decision, RouteRequest } from '../types.js';
import { newTrace } from '../match/find.js';
import { RequestView } from '../match/request.js';
import { decide, respond, type DecideTrace } from './decide.js';
import { buildExplanation, type Explanation } from './explain.js';
import type { Runtime } from './runtime.js';

export type { CandidateExplanation, Explanation } from './explain.js';
export { compileRuntime, type RoutingOptions, type Runtime } from './runtime.js';

/** Routes one request. Never throws. */
export function routeRequest(rt: Runtime, request: RouteRequest): Decision {
  try {
    return decide(rt, new RequestView(request), null);
  } catch (e) {
    return respond(null, 500, 'bad-request', `Internal error while routing: ${(e as Error).message}`);
  }
}

/** Explains one request: the decision plus every step that led to it. Never throws. */
export function explainRequest(rt: Runtime, request: RouteRequest): Explanation {
  const req = new RequestView(request);
  const trace: DecideTrace = { find: newTrace() };
  let decision: Decision;
  try {
    decision = decide(rt, req, trace);
  } catch (e) {
    decision = respond(null, 500, 'bad-request', `Internal error while routing: ${(e as Error).message}`);
  }
  return buildExplanation(rt, req, decision, trace.find, trace.pick);
}
