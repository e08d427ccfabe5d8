// Bundles the benchmarks with esbuild, as tsup bundles the package, so that what is measured is
// compiled the way users run it (a loader such as tsx changes the numbers).
import { build } from 'esbuild';

await build({
  entryPoints: { run: 'bench/run.ts', 'e2e-server': 'bench/e2e-server.ts', fresh: 'bench/fresh.ts' },
  outdir: '.bench',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
