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

/**
 * The request view route() reads requests into, reused from call to call so that a decision
 * allocates only what the caller keeps. Taken while a call runs and given back after it: a
 * call made while another one runs (an ExtensionRef filter or a sticky key function calling
 * route()) finds none and makes its own. Nothing keeps the view past the call: the Decision
 * copies what it needs.
 */
let spare: RequestView | null = null;

/** Routes one request. Never throws. */
export function routeRequest(rt: Runtime, request: RouteRequest): Decision {
  const req = spare ?? new RequestView();
  spare = null;
  try {
    req.reset(request, rt.options.paths);
  } catch {
    req.release();
    spare = req;
    return respond(null, 400, 'bad-request', 'The request could not be read (a field threw when read).');
  }
  try {
    return decide(rt, req, null);
  } catch (e) {
    return respond(null, 500, 'bad-request', `Internal error while routing: ${(e as Error).message}`);
  } finally {
    req.release();
    spare = req;
  }
}

/** Explains one request: the decision plus every step that led to it. Never throws. */
export function explainRequest(rt: Runtime, request: RouteRequest): Explanation {
  let req: RequestView;
  try {
    req = new RequestView(request, rt.options.paths);
  } catch {
    req = new RequestView(); // a request whose fields throw when read: 400
  }
  const trace: DecideTrace = { find: newTrace() };
  let decision: Decision;
  try {
    decision = decide(rt, req, trace);
  } catch (e) {
    decision = respond(null, 500, 'bad-request', `Internal error while routing: ${(e as Error).message}`);
  }
  return buildExplanation(rt, req, decision, trace.find, trace.pick);
}
