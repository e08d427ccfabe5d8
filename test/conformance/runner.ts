/**
 * Runs the ported conformance cases in ./cases. Each case is our own data file carrying the
 * facts of one upstream test (kubernetes-sigs/gateway-api conformance/tests/<name>.go/.yaml):
 * the manifests it applies, the status it expects, and the requests it sends with the answer
 * each must get. See ./README.md for the format.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { createGateway, type Decision, type GatewayRouter, type RouteRequest } from '../../src/index.js';

export interface StatusExpectation {
  kind: 'Gateway' | 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute';
  name: string;
  namespace?: string;
  /** For routes: the parentRef name (and optionally namespace/sectionName) the conditions are under. */
  parent?: { name: string; namespace?: string; sectionName?: string };
  /** Conditions that must be present; `reason` omitted = any reason. */
  conditions?: { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string }[];
  /** For routes: true when the route must have no status entry for `parent` (or none at all). */
  noParent?: boolean;
  /** For Gateways: listeners that must be present with these fields. */
  listeners?: { name: string; attachedRoutes?: number; supportedKinds?: string[]; conditions?: { type: string; status: string; reason?: string }[] }[];
}

export interface RequestExpectation {
  /** Which Gateway serves this request (`namespace/name`); default: the case's `gateway`. */
  gateway?: string;
  request: Partial<RouteRequest> & { path: string };
  /** The answer: an HTTP status, and for 200 the backend that must receive it. */
  expect: {
    status: number;
    backend?: string;
    namespace?: string;
    /** For weighted tests: run `count` requests and check each backend's share within `tolerance`. */
    distribution?: { count: number; tolerance: number; shares: Record<string, number> };
  };
  /** One line on what the upstream test checks with this request. */
  why?: string;
}

export interface ConformanceCase {
  /** Upstream file stem, e.g. `httproute-matching`. */
  name: string;
  /** Upstream ShortName(s). */
  shortName: string;
  features: string[];
  /** The Gateway served by default, `namespace/name`. */
  gateway: string;
  /** Manifests applied on top of base.yaml (YAML text). */
  manifests: string;
  status?: StatusExpectation[];
  requests?: RequestExpectation[];
  /** When set, the case is listed as not passing, with this reason, and its checks are skipped. */
  skip?: string;
}

const here = new URL('.', import.meta.url);

export function loadCases(): ConformanceCase[] {
  const dir = new URL('./cases/', here);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(new URL(f, dir), 'utf8')) as ConformanceCase);
}

export const BASE = readFileSync(new URL('./base.yaml', here), 'utf8');

/** A seeded PRNG (mulberry32), so weighted checks are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gatewayFor(c: ConformanceCase, key: string): GatewayRouter {
  const [namespace, name] = key.split('/') as [string, string];
  return createGateway({
    manifests: [BASE, c.manifests],
    gateway: { namespace, name },
    now: () => new Date('2026-01-01T00:00:00Z'),
    random: seeded(42),
  });
}

/** The HTTP status a decision answers with (200 for forward). */
export function statusOf(d: Decision): number {
  return d.type === 'forward' ? 200 : d.status;
}

export function toRequest(r: RequestExpectation['request']): RouteRequest {
  return { method: 'GET', ...r } as RouteRequest;
}
