// npm run demo is the README's main command: it must serve the seed scenario over real HTTP,
// get the guide's answers, and exit 0 within a minute.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('serves the seed scenario on localhost, answers as the guide does, and exits 0 in under a minute', async () => {
    const start = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'demo/demo.ts'], {
      cwd: new URL('..', import.meta.url).pathname,
      timeout: 60_000,
    });
    expect(Date.now() - start).toBeLessThan(60_000);
    expect(stdout).toContain('my-gateway   cilium   127.0.0.1   True         True');
    expect(stdout).toContain('"id":1');
    expect(stdout).toContain('Simple Bookstore App');
    expect(stdout.match(/-> 404 ok/g)?.length).toBe(3);
    expect(stdout).toMatch(/echo-2:\s+\d+ /);
    expect(stdout).toContain('Every answer matches the guide.');
    expect(stdout).not.toContain('FAILED');
  });
});
