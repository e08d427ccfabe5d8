// One-process A/B of route() at a table size: the code of a git ref ("old") against the working
// tree ("new"), interleaved, in CPU time, with bare find-my-way beside both. Not part of npm test.
//
//   node bench/ab.mjs [REF] [--shape S,S] [--mix mixed,hit,miss] [--n 10] [--rounds 12]
//
// REF defaults to HEAD (with a clean tree, a check of the method itself: new/old should be 1.00).
// Why it is shaped this way (measured on 2 cores shared with other work):
// - CPU time (process.cpuUsage), not wall time: a process descheduled by other work is not charged.
// - Each copy's gateway is built twice, in the order old, new, new, old, and each figure pools its
//   two gateways: in one process, of two gateways of identical code, the one built second measured
//   3 to 8% faster on misses, consistently, so a plain old-then-new build reads as a gain.
// - Rounds alternate the order of the contenders; the ratio reported is the median over rounds of
//   new/old within a round, with the range.
// - Both copies must return the same Decisions (the random source is reset and seeded for each
//   copy) before anything is timed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const ref = args[0] !== undefined && !args[0].startsWith('--') ? args[0] : 'HEAD';
const old = '.bench/ab-old';
rmSync(old, { recursive: true, force: true });
mkdirSync(old, { recursive: true });
execFileSync('sh', ['-c', `git archive ${JSON.stringify(ref)} src | tar -x -C ${old}`], { stdio: 'inherit' });

const entry = `
import { do_not_optimize } from 'mitata';
import * as A from './ab-old/src/index.js';
import * as B from '../src/index.js';
import { generateTable, requestSet, rng, SHAPES } from '../bench/tables.js';
import { bareFindMyWay } from '../bench/lookup.js';

const args = ${JSON.stringify(args)};
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const shapes = opt('--shape', SHAPES.join(',')).split(',');
const mixes = opt('--mix', 'mixed,hit,miss').split(',');
const n = Number(opt('--n', '10'));
const rounds = Number(opt('--rounds', '12'));
const iters = Number(opt('--iters', '100000'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
console.log('old = ' + ${JSON.stringify(ref)} + ', new = working tree; ' + n + ' routes; ns per call in CPU time, median over ' + rounds + ' rounds');
for (const shape of shapes) {
  const t = generateTable(n, shape);
  // Seeded random per gateway, reset before the agreement check.
  const seeds = [rng(7), rng(7), rng(7), rng(7)];
  const gw = (lib, k) => lib.createGateway({ manifests: t.manifests, now: () => new Date(0), random: () => seeds[k]() });
  const a1 = gw(A, 0);
  const b1 = gw(B, 1);
  const b2 = gw(B, 2);
  const a2 = gw(A, 3);
  const fmw = bareFindMyWay(t);
  for (const mix of mixes) {
    const reqs = mix === 'hit' ? requestSet(t, { missShare: 0, seed: 3 }) : mix === 'miss' ? requestSet(t, { missShare: 1, seed: 4 }) : requestSet(t);
    const len = reqs.length;
    const paths = reqs.map((r) => r.path.split('?')[0]);
    for (let k = 0; k < 4; k++) seeds[k] = rng(7);
    for (const r of reqs) {
      const x = JSON.stringify(a1.route(r));
      const y = JSON.stringify(b1.route(r));
      if (x !== y || JSON.stringify(b2.route(r)) !== y || JSON.stringify(a2.route(r)) !== x) {
        console.error('old and new decide differently:', JSON.stringify(r), x, y);
        process.exit(1);
      }
    }
    const cs = [
      ['a1', (i) => a1.route(reqs[i % len])],
      ['b1', (i) => b1.route(reqs[i % len])],
      ['fmw', (i) => fmw.find('GET', paths[i % len])],
      ['b2', (i) => b2.route(reqs[i % len])],
      ['a2', (i) => a2.route(reqs[i % len])],
    ];
    const ns = { a1: [], b1: [], b2: [], a2: [], fmw: [] };
    for (let r = 0; r <= rounds; r++) {
      for (const [name, fn] of r % 2 ? [...cs].reverse() : cs) {
        const c0 = process.cpuUsage();
        for (let i = 0; i < iters; i++) do_not_optimize(fn(i));
        const c = process.cpuUsage(c0);
        if (r > 0) ns[name].push(((c.user + c.system) * 1000) / iters); // round 0 warms up
      }
    }
    const o = ns.a1.map((v, k) => (v + ns.a2[k]) / 2);
    const w = ns.b1.map((v, k) => (v + ns.b2[k]) / 2);
    const q = w.map((v, k) => v / o[k]);
    const f = median(ns.fmw);
    console.log(shape.padEnd(11) + ' ' + mix.padEnd(5) + ' old ' + median(o).toFixed(0) + ' new ' + median(w).toFixed(0) + ' find-my-way ' + f.toFixed(0) +
      ' | old/fmw ' + (median(o) / f).toFixed(2) + ' new/fmw ' + (median(w) / f).toFixed(2) + ' | new/old ' + median(q).toFixed(3) + ' [' + Math.min(...q).toFixed(2) + '-' + Math.max(...q).toFixed(2) + ']' + (args.includes('--each') ? ' | a1 ' + median(ns.a1).toFixed(0) + ' b1 ' + median(ns.b1).toFixed(0) + ' b2 ' + median(ns.b2).toFixed(0) + ' a2 ' + median(ns.a2).toFixed(0) : ''));
  }
}
`;
writeFileSync('.bench/ab-entry.ts', entry);
await build({ entryPoints: { ab: '.bench/ab-entry.ts' }, outdir: '.bench', bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outExtension: { '.js': '.mjs' }, logLevel: 'warning' });
const r = spawnSync(process.execPath, ['--expose-gc', '.bench/ab.mjs'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
