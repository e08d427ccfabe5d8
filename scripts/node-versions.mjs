// npm run test:node -- 22 24 [vitest args]: the suite (vitest run) on other Node majors than the
// one installed. Each major's newest release comes from the npm registry as the `node-<os>-<arch>`
// package (a plain binary, no install script), kept under .node-versions/ (gitignored), and runs
// vitest with that binary first on PATH, so the suite's child processes use it too. Not part of
// npm test (CI runs the installed Node); the traffic plane reads a few node internals
// (docs/adapters.md), and this is how a new major is checked before `engines` claims it.
//
//   npm run test:node -- 22                        the whole suite on the newest Node 22
//   npm run test:node -- 22 24 test/security       some files, on two majors
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const majors = args.filter((a) => /^\d+$/.test(a));
const rest = args.filter((a) => !/^\d+$/.test(a));
if (majors.length === 0) {
  console.error('usage: npm run test:node -- MAJOR [MAJOR ...] [vitest args]');
  process.exit(2);
}
const os = process.platform === 'win32' ? 'win' : process.platform;
const pkg = `node-${os}-${process.arch}`;
const home = resolve('.node-versions');
mkdirSync(home, { recursive: true });

// Some tests run the built package (README, examples, the consumer test): build it once, with this Node.
if (!existsSync('dist/index.js')) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });

const results = [];
for (const major of majors) {
  const versions = JSON.parse(execFileSync('npm', ['view', pkg, 'versions', '--json'], { encoding: 'utf8' }));
  const newest = versions.filter((v) => v.startsWith(`${major}.`) && !v.includes('-')).at(-1);
  if (newest === undefined) {
    console.error(`${pkg} has no release of Node ${major}`);
    results.push([major, 'not found']);
    continue;
  }
  const dir = join(home, newest);
  const bin = join(dir, 'package', 'bin');
  if (!existsSync(join(bin, os === 'win' ? 'node.exe' : 'node'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tgz = execFileSync('npm', ['pack', `${pkg}@${newest}`, '--silent', '--pack-destination', dir], { encoding: 'utf8' }).trim().split('\n').at(-1);
    execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir]);
  }
  const sep = os === 'win' ? ';' : ':';
  const env = { ...process.env, PATH: `${bin}${sep}${process.env.PATH}` };
  console.log(`\n=== Node ${newest} ===`);
  const run = spawnSync(join(bin, 'node'), ['node_modules/vitest/vitest.mjs', 'run', ...rest], { stdio: 'inherit', env });
  results.push([newest, run.status === 0 ? 'passed' : `FAILED (exit ${run.status})`]);
}
console.log('\n' + results.map(([v, r]) => `Node ${v}: ${r}`).join('\n'));
process.exit(results.every(([, r]) => r === 'passed') ? 0 : 1);
