/**
 * Lookup benchmarks: gw.route() against the reference matcher (test/reference) and against bare
 * find-my-way find() over the same path table, at several table sizes and request mixes.
 */
import FindMyWay from 'find-my-way';
import { createGateway, loadManifests, type RouteRequest } from '../src/index.js';
import { createReference } from '../test/reference/matcher.js';
import { compare, type Contender } from './harness.js';
import { generateTable, requestMix, type Table } from './tables.js';

export interface LookupResult {
  routes: number;
  mix: string;
  ns: { route: number; reference: number | null; findMyWay: number };
}

function bareFindMyWay(t: Table) {
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

export function setupLookup(n: number) {
  const t = generateTable(n);
  const gw = createGateway({ manifests: t.manifests, now: () => new Date(0) });
  const ref = createReference(loadManifests(t.manifests).resources, 'gw');
  const fmw = bareFindMyWay(t);
  return { t, gw, ref, fmw };
}

export async function benchLookup(n: number, mixes: ('mixed' | 'hit' | 'miss' | 'header')[], withReference: boolean): Promise<LookupResult[]> {
  const { t, gw, ref, fmw } = setupLookup(n);
  const out: LookupResult[] = [];
  for (const mix of mixes) {
    const reqs: RouteRequest[] =
      mix === 'mixed' ? requestMix(t) : mix === 'hit' ? t.requests.hits : mix === 'miss' ? t.requests.misses : t.requests.headerHits;
    const len = reqs.length;
    // find-my-way gets the path already split from its query, so it is not charged for that.
    const paths = reqs.map((r) => r.path.split('?')[0]!);
    const contenders: Contender[] = [
      { name: 'route', fn: (i) => gw.route(reqs[i % len]!) },
      { name: 'findMyWay', fn: (i) => fmw.find('GET', paths[i % len]!) },
    ];
    if (withReference) contenders.push({ name: 'reference', fn: (i) => ref(reqs[i % len]! as never) });
    const r = await compare(contenders);
    out.push({ routes: n, mix, ns: { route: r.route!, findMyWay: r.findMyWay!, reference: withReference ? r.reference! : null } });
  }
  return out;
}
