/**
 * npm run bench: every comparison in one process, printed as ratios with the target beside each.
 * Exits non-zero when a target is missed by more than 10%. Not part of npm test.
 *
 *   npm run bench                 all benchmarks
 *   npm run bench -- --quick      fewer sizes (10 and 1,000 routes)
 */
import { cpus } from 'node:os';
import { benchLookup } from './lookup.js';
import { benchPick } from './pick.js';
import { fmtNs } from './harness.js';

const quick = process.argv.includes('--quick');
const out = (s = '') => process.stdout.write(`${s}\n`);

interface Row {
  what: string;
  figure: string;
  target: string;
  /** Ratio of measured to target bound (<= 1 meets it); null when informative only. */
  score: number | null;
}
const rows: Row[] = [];
const atMost = (what: string, value: number, bound: number, unit = '×') => rows.push({ what, figure: `${value.toFixed(2)}${unit}`, target: `≤ ${bound}${unit}`, score: value / bound });
const atLeast = (what: string, value: number, bound: number, unit = '×') => rows.push({ what, figure: `${value.toFixed(1)}${unit}`, target: `≥ ${bound}${unit}`, score: bound / value });
const info = (what: string, figure: string) => rows.push({ what, figure, target: '', score: null });

out(`gateway-api-router benchmarks — Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}`);
const sizes = quick ? [10, 1000] : [10, 100, 1000, 10_000];
const byN = new Map<number, Awaited<ReturnType<typeof benchLookup>>>();
for (const n of sizes) {
  out(`… lookup, ${n.toLocaleString('en')} routes`);
  byN.set(n, await benchLookup(n, ['mixed', 'hit', 'miss', 'header'], n <= 1000));
}
for (const [n, results] of byN) {
  for (const r of results) {
    info(`lookup ${r.mix} (${n.toLocaleString('en')} routes): route()`, fmtNs(r.ns.route));
    if (r.mix === 'mixed' && n >= 1000) atMost(`route() / find-my-way find(), mixed, ${n.toLocaleString('en')} routes`, r.ns.route / r.ns.findMyWay, 0.75);
    else info(`route() / find-my-way find(), ${r.mix}, ${n.toLocaleString('en')} routes`, `${(r.ns.route / r.ns.findMyWay).toFixed(2)}×`);
    if (r.ns.reference !== null) {
      if (r.mix === 'mixed' && n === 1000) atLeast('reference / route(), mixed, 1,000 routes (speed-up)', r.ns.reference / r.ns.route, 50);
      else info(`reference / route(), ${r.mix}, ${n.toLocaleString('en')} routes`, `${(r.ns.reference / r.ns.route).toFixed(1)}×`);
    }
  }
}
const small = byN.get(10)?.find((r) => r.mix === 'mixed');
const large = byN.get(sizes[sizes.length - 1]!)?.find((r) => r.mix === 'mixed');
if (small && large && large.routes >= 10_000) atMost('route() at 10,000 routes / at 10 routes, mixed', large.ns.route / small.ns.route, 2.5);

out('… weighted picks');
for (const p of await benchPick()) {
  info(`pick random, ${p.backends} backends`, fmtNs(p.random));
  info(`pick smooth, ${p.backends} backends`, fmtNs(p.smooth));
  if (p.backends === 100) {
    atMost('pick random, 100 backends (ns, this machine)', p.random, 30, ' ns');
    atMost('pick smooth, 100 backends (ns, this machine)', p.smooth, 30, ' ns');
  }
}

out('');
const w = Math.max(...rows.map((r) => r.what.length));
out(`${'what'.padEnd(w)}  ${'figure'.padStart(10)}  ${'target'.padStart(10)}  result`);
let failed = 0;
for (const r of rows) {
  const verdict = r.score === null ? '' : r.score <= 1 ? 'met' : r.score <= 1.1 ? 'met within 10%' : 'MISSED';
  if (verdict === 'MISSED') failed++;
  out(`${r.what.padEnd(w)}  ${r.figure.padStart(10)}  ${r.target.padStart(10)}  ${verdict}`);
}
out(failed ? `\n${failed} target(s) missed by more than 10%.` : '\nAll targets met.');
process.exitCode = failed ? 1 : 0;
