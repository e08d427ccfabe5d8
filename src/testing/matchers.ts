/**
 * gateway-api-router/testing: route assertions for vitest and jest, and helpers.
 *
 *   import { expect } from 'vitest';
 *   import { gatewayMatchers } from 'gateway-api-router/testing';
 *   expect.extend(gatewayMatchers);
 *   expect(gw).toRoute({ method: 'GET', path: '/details/1' }, 'details:9080');
 *
 * A failing assertion prints what differs and the explain() table of the request.
 */
import type { GatewayRouter } from '../gateway/create.js';
import { checkRoute, toRouteRequest, type RequestSpec, type RouteExpectation } from './route-test.js';
import { formatExplanation } from './format.js';

/**
 * The matchers' types, to merge into your runner's (docs/testing.md):
 * vitest `declare module 'vitest' { interface Matchers<T = any> extends GatewayMatchers<T> {} }`,
 * jest `declare global { namespace jest { interface Matchers<R> extends GatewayMatchers<R> {} } }`.
 */
export interface GatewayMatchers<R = unknown> {
  /**
   * Asserts that `request` reaches `expected` on the gateway under test: a backend as
   * `name[:port]`, or an expectation `{ backend?, status?, redirect?, headers?, path?, split? }`.
   * The received value is a gateway (createGateway), or anything with a `.router` (handlers,
   * Express middleware's `.handler`, Fastify's `app.gateway`).
   */
  toRoute(request: RequestSpec, expected: string | RouteExpectation): R;
}

interface MatcherState {
  isNot?: boolean;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function gatewayOf(received: unknown): GatewayRouter | null {
  if (typeof received !== 'object' && typeof received !== 'function') return null;
  if (received === null) return null;
  const r = received as Partial<GatewayRouter> & { router?: unknown; handler?: { router?: unknown } };
  if (typeof r.route === 'function' && typeof r.explain === 'function' && typeof r.inject === 'function') return r as GatewayRouter;
  if (r.router !== undefined) return gatewayOf(r.router);
  if (r.handler !== undefined) return gatewayOf(r.handler);
  return null;
}

function describeRequest(request: RequestSpec): string {
  const r = toRouteRequest(request);
  return `${r.method} ${r.host !== undefined ? `${r.scheme ?? 'http'}://${r.host}` : ''}${r.path}`;
}

/** The matchers, for `expect.extend(gatewayMatchers)` in vitest or jest. */
export const gatewayMatchers = {
  toRoute(this: MatcherState, received: unknown, request: RequestSpec, expected: string | RouteExpectation): MatcherResult {
    const gw = gatewayOf(received);
    if (gw === null) {
      return { pass: false, message: () => 'toRoute expects a gateway: the value createGateway() returns, or a handler, middleware or Fastify decorator with a .router.' };
    }
    const want = typeof expected === 'string' ? expected : JSON.stringify(expected);
    const { failures, explanation } = checkRoute(gw, request, expected);
    const pass = failures.length === 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected ${describeRequest(request)} not to route to ${want}, but it does.\n\n${formatExplanation(gw.explain(toRouteRequest(request)))}`
          : `expected ${describeRequest(request)} to route to ${want}:\n${failures.map((f) => `  - ${f}`).join('\n')}\n\n${explanation}`,
    };
  },
};

export { backendOf, describeDecision, formatExplanation } from './format.js';
export { seededRandom } from './random.js';
export { checkRoute, runRouteTestFile, sampleSplit, toRouteRequest } from './route-test.js';
export type { RequestSpec, RouteCheck, RouteExpectation, RouteTestFileResult, RouteTestResult } from './route-test.js';
