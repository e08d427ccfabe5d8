/**
 * Lookup benchmarks: gw.route() against bare find-my-way find() over the same path table (and
 * the reference matcher at small sizes), per table shape and size, on request sets of 20,000
 * distinct requests spread over the whole table.
 */
import FindMyWay from 'find-my-way';
import { createGateway, loadManifests, type RouteRequest } from '../src/index.js';
import { createReference } from '../test/reference/matcher.js';
import { compare, type Contender } from './harness.js';
import { generateTable, requestSet, type Shape, type Table } from './tables.js';

export interface LookupResult {
  shape: Shape;
  routes: number;
  mix: 'mixed' | 'hit' | 'miss';
  /** Share of the mix that route() forwards (a check that the table and requests agree). */
  forwarded: number;
  ns: { route: number; reference: number | null; findMyWay: number };
}

/**
 * find-my-way in its best form for these paths: a static route for every Exact value and for
 * every PathPrefix value itself; a wildcard route only below a prefix, where a prefix needs one.
 */
export function bareFindMyWay(t: Table) {
  const router = FindMyWay({ ignoreTrailingSlash: false, caseSensitive: true });
  const seen = new Set<string>();
  const add = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    router.on('GET', p.replace(/:/g, '::'), () => {});
  };
  for (const [type, value] of t.paths) {
    add(value);
    if (type === 'PathPrefix') add(`${value.replace(/\/$/, '')}/*`);
  }
  return router;
}

export function setupLookup(n: number, shape: Shape) {
  const t = generateTable(n, shape);
  const gw = createGateway({ manifests: t.manifests, now: () => new Date(0) });
  const ref = n <= 1000 ? createReference(loadManifests(t.manifests).resources, 'gw') : null;
  const fmw = bareFindMyWay(t);
  return { t, gw, ref, fmw };
}

export async function benchLookup(n: number, shape: Shape, withReference: boolean): Promise<LookupResult[]> {
  const { t, gw, ref, fmw } = setupLookup(n, shape);
  const out: LookupResult[] = [];
  const sets: [LookupResult['mix'], RouteRequest[]][] = [
    ['mixed', requestSet(t)],
    ['hit', requestSet(t, { missShare: 0, seed: 3 })],
    ['miss', requestSet(t, { missShare: 1, seed: 4 })],
  ];
  for (const [mix, reqs] of sets) {
    const len = reqs.length;
    // find-my-way gets the path already split from its query, so it is not charged for that.
    const paths = reqs.map((r) => r.path.split('?')[0]!);
    const forwarded = reqs.filter((r) => gw.route(r).type === 'forward').length / len;
    const contenders: Contender[] = [
      { name: 'route', fn: (i) => gw.route(reqs[i % len]!) },
      { name: 'findMyWay', fn: (i) => fmw.find('GET', paths[i % len]!) },
    ];
    const useRef = withReference && ref !== null && mix === 'mixed';
    if (useRef) contenders.push({ name: 'reference', fn: (i) => ref(reqs[i % len]! as never) });
    const r = await compare(contenders);
    out.push({ shape, routes: n, mix, forwarded, ns: { route: r.route!, findMyWay: r.findMyWay!, reference: useRef ? r.reference! : null } });
  }
  return out;
}
