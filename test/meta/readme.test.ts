// The README's example is examples/quickstart.ts verbatim, and it runs against the built package.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const example = readFileSync(`${root}examples/quickstart.ts`, 'utf8');

describe('README', () => {
  it('opens with the two-command quick start', () => {
    const quick = readme.split('## Quick start')[1]!.split('##')[0]!;
    expect(quick).toContain('npm ci && npm run demo');
    expect(quick).toContain('npm test');
  });

  it('shows examples/quickstart.ts verbatim', () => {
    expect(readme).toContain('```ts\n' + example + '```');
  });

  it('its example runs against the built package and routes as its comment says', () => {
    expect(existsSync(`${root}dist/index.js`), 'run `npm run build` first (npm test does)').toBe(true);
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], { cwd: root, encoding: 'utf8' });
    const lines = out.split('\n');
    expect(lines[0]).toBe('forward productpage');
    expect(lines[1]).toContain('404');
    expect(out).toContain('method POST is not GET');
    expect(out).toContain("type: 'Accepted'");
  });
});
