/**
 * npm run bench: every comparison in one process, printed as ratios with the target beside each.
 * Exits non-zero when a target is missed by more than 10%. Not part of npm test.
 *
 *   npm run bench                  everything (about 3 minutes on 2 cores)
 *   npm run bench -- --quick       lookups at 10 and 1,000 routes, no end-to-end runs
 *   npm run bench -- --no-e2e      everything but the end-to-end runs
 *   npm run bench -- --e2e-only    the end-to-end runs only (an adapter change's check)
 *   npm run bench -- --no-load     no compile, load and reload figures
 *   npm run bench -- --shape S     lookups, allocation and load figures of one table shape only
 *   npm run bench -- --json F      also write the results to file F
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchLookup, type LookupResult } from './lookup.js';
import { SHAPES, type Shape } from './tables.js';
import { benchPick } from './pick.js';
import { benchCompile, fresh } from './compile.js';
import { comparePair } from './e2e.js';
import { fmtNs } from './harness.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const e2eOnly = args.includes('--e2e-only');
const e2e = !quick && !args.includes('--no-e2e');
const loading = !quick && !e2eOnly && !args.includes('--no-load');
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const out = (s = '') => process.stdout.write(`${s}\n`);

interface Row {
  what: string;
  figure: string;
  target: string;
  /** Measured / bound (<= 1 meets it); null when informative only. */
  score: number | null;
}
const rows: Row[] = [];
const atMost = (what: string, value: number, bound: number, unit = '×', digits = 2) => rows.push({ what, figure: `${value.toFixed(digits)}${unit}`, target: `≤ ${bound}${unit}`, score: value / bound });
const atLeast = (what: string, value: number, bound: number, unit = '×', digits = 2) => rows.push({ what, figure: `${value.toFixed(digits)}${unit}`, target: `≥ ${bound}${unit}`, score: bound / value });
const info = (what: string, figure: string) => rows.push({ what, figure, target: '', score: null });
const en = (n: number) => n.toLocaleString('en');

const machine = `Node ${process.version}, ${cpus()[0]?.model?.trim() ?? 'cpu'} ×${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
out(`gateway-api-router benchmarks — ${machine}`);
if (!(globalThis as { gc?: unknown }).gc) out('(run with --expose-gc for steadier numbers: npm run bench does)');

// ---------------------------------------------------------------- lookups
const sizes = quick ? [10, 1000] : [10, 1000, 10_000];
const shapes = e2eOnly ? [] : args.includes('--shape') ? [args[args.indexOf('--shape') + 1] as Shape] : SHAPES;
const lookups: LookupResult[] = [];
for (const shape of shapes) {
  for (const n of sizes) {
    out(`… lookups, ${shape}, ${en(n)} routes`);
    lookups.push(...(await benchLookup(n, shape, n === 1000)));
  }
}
const lookup = (shape: Shape, n: number, mix: LookupResult['mix']) => lookups.find((r) => r.shape === shape && r.routes === n && r.mix === mix);
for (const shape of shapes) {
  for (const n of sizes) {
    for (const mix of ['mixed', 'hit', 'miss'] as const) {
      const r = lookup(shape, n, mix)!;
      const label = `${shape}, ${mix}, ${en(n)} routes`;
      info(`route() ${label} (${Math.round(r.forwarded * 100)}% forwarded)`, fmtNs(r.ns.route));
      const vsFmw = r.ns.route / r.ns.findMyWay;
      if (mix === 'mixed' && n === 10_000) atMost(`route() / find-my-way find(), ${label}`, vsFmw, 0.75);
      else if (mix === 'mixed' && n === 10) atMost(`route() / find-my-way find(), ${label}`, vsFmw, 2.0);
      else info(`route() / find-my-way find(), ${label}`, `${vsFmw.toFixed(2)}×`);
      if (r.ns.reference !== null) {
        const speedup = r.ns.reference / r.ns.route;
        if (shape === 'services') atLeast(`speed-up over the reference matcher, ${label}`, speedup, 50, '×', 1);
        else info(`speed-up over the reference matcher, ${label}`, `${speedup.toFixed(1)}×`);
      }
    }
    const hit = lookup(shape, n, 'hit')!;
    const miss = lookup(shape, n, 'miss')!;
    info(`route() miss / hit, ${shape}, ${en(n)} routes`, `${(miss.ns.route / hit.ns.route).toFixed(2)}×`);
  }
  const small = lookup(shape, 10, 'mixed');
  const large = lookup(shape, 10_000, 'mixed');
  if (small && large) info(`route() at 10,000 / at 10 routes, ${shape}, mixed`, `${(large.ns.route / small.ns.route).toFixed(2)}×`);
}

// ---------------------------------------------------------------- allocation per call
if (!quick) {
  for (const shape of shapes) {
    out(`… bytes per route(), ${shape}`);
    for (const n of [10, 10_000]) {
      const a = fresh<{ hit: number; miss: number }>('alloc', shape, n);
      atMost(`bytes per forward route() without filters, ${shape}, ${en(n)} routes`, a.hit, 256, ' B', 0);
      info(`bytes per 404 route(), ${shape}, ${en(n)} routes`, `${a.miss.toFixed(0)} B`);
    }
  }
}

// ---------------------------------------------------------------- picks
if (!e2eOnly) out('… weighted picks');
for (const p of e2eOnly ? [] : await benchPick()) {
  for (const kind of ['random', 'smooth'] as const) {
    const what = `weighted pick, ${kind}, ${p.backends} backends`;
    if (p.backends === 100) atMost(`${what} (ns on this machine)`, p[kind], 30, ' ns', 0);
    else info(what, fmtNs(p[kind]));
  }
}

// ---------------------------------------------------------------- compile, load, heap, reload
if (loading) {
  for (const n of [1000, 10_000]) {
    out(`… compile and reload in this process, ${en(n)} routes`);
    const c = benchCompile(n);
    if (n === 10_000) atMost(`heap after compiling ${en(n)} routes`, c.heapMB, 60, ' MB', 1);
    else info(`heap after compiling ${en(n)} routes`, `${c.heapMB.toFixed(1)} MB`);
    info(`reload ${en(n)} routes (same manifests, warm)`, `${c.reloadMs.toFixed(0)} ms`);
  }
  for (const shape of shapes) {
    out(`… first compile in a fresh process, ${shape}`);
    for (const n of [1000, 10_000, 50_000]) {
      const c = fresh<{ firstMs: number; secondMs: number; loadMs: number }>('objects', shape, n);
      const label = `${shape}, ${en(n)} routes as objects`;
      if (n === 10_000) atMost(`createGateway, first in a fresh process, ${label}`, c.firstMs, 250, ' ms', 0);
      else info(`createGateway, first in a fresh process, ${label}`, `${c.firstMs.toFixed(0)} ms`);
      info(`  per route: first build, loadManifests (warm), ${label}`, `${((c.firstMs * 1000) / n).toFixed(1)} µs, ${((c.loadMs * 1000) / n).toFixed(1)} µs`);
    }
  }
  for (const shape of shapes) {
    out(`… YAML in a fresh process, ${shape}`);
    for (const n of shape === 'one-vhost' ? [1000, 10_000, 50_000] : [10_000]) {
      const y = fresh<{ firstMs: number; loadMs: number; heapMB: number; heapTotalMB: number; textMB: number }>('yaml', shape, n);
      const label = `${shape}, ${en(n)} routes as YAML (${y.textMB.toFixed(1)} MB)`;
      if (n === 10_000) atMost(`createGateway, ${label}`, y.firstMs, 800, ' ms', 0);
      else if (n === 50_000) atMost(`createGateway, ${label}`, y.firstMs, 4000, ' ms', 0);
      else info(`createGateway, ${label}`, `${y.firstMs.toFixed(0)} ms`);
      if (n === 50_000) atMost(`  heap (V8 total) after createGateway, ${label}`, y.heapTotalMB, 250, ' MB', 0);
      info(`  per route: createGateway, loadManifests (warm), ${label}`, `${((y.firstMs * 1000) / n).toFixed(1)} µs, ${((y.loadMs * 1000) / n).toFixed(1)} µs`);
    }
  }
}

// ---------------------------------------------------------------- end to end
if (e2e) {
  out('… end to end: Fastify');
  const f = await comparePair('fastify-plain', 'fastify-gateway');
  atLeast('Fastify + plugin / plain Fastify route, req/s', f['fastify-gateway']! / f['fastify-plain']!, 0.9);
  info('  req/s plain Fastify, Fastify + plugin', `${Math.round(f['fastify-plain']!)}, ${Math.round(f['fastify-gateway']!)}`);
  out('… end to end: Express');
  const x = await comparePair('express-plain', 'express-gateway');
  atLeast('Express + middleware / plain Express route, req/s', x['express-gateway']! / x['express-plain']!, 0.95);
  info('  req/s plain Express, Express + middleware', `${Math.round(x['express-plain']!)}, ${Math.round(x['express-gateway']!)}`);
  out('… end to end: proxy');
  const p = await comparePair('proxy-fastify-http-proxy', 'proxy-gateway', { upstream: true });
  atLeast('proxy mode / @fastify/http-proxy, req/s', p['proxy-gateway']! / p['proxy-fastify-http-proxy']!, 1.0);
  info('  req/s @fastify/http-proxy, proxy mode', `${Math.round(p['proxy-fastify-http-proxy']!)}, ${Math.round(p['proxy-gateway']!)}`);
}

// ---------------------------------------------------------------- report
out('');
const w = Math.max(...rows.map((r) => r.what.length));
out(`| ${'what'.padEnd(w)} | ${'figure'.padStart(10)} | ${'target'.padStart(10)} | result |`);
out(`|${'-'.repeat(w + 2)}|${'-'.repeat(12)}|${'-'.repeat(12)}|--------|`);
let failed = 0;
for (const r of rows) {
  const verdict = r.score === null ? '' : r.score <= 1 ? 'met' : r.score <= 1.1 ? 'within 10%' : 'MISSED';
  if (verdict === 'MISSED') failed++;
  out(`| ${r.what.padEnd(w)} | ${r.figure.padStart(10)} | ${r.target.padStart(10)} | ${verdict.padEnd(6)} |`);
}
out(failed ? `\n${failed} target(s) missed by more than 10%.` : '\nEvery target met (or within 10%).');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ machine, date: new Date().toISOString(), rows }, null, 2));
process.exitCode = failed ? 1 : 0;
