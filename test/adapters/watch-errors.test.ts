// The watcher catches everything (issue 9 item 3): a hostile or broken file, or an onReload
// callback that throws, never escapes the timer and never takes the process down. Reload
// issues name the watched file and count documents from 1 (issue 12 item 4).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGateway, GatewayConfigError } from '../../src/index.js';
import { watchManifests } from '../../src/adapters/node.js';
import { waitFor, watchYaml } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-watch-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('watchManifests', () => {
  it('reports a bad reload naming the watched file and the document (from 1), and keeps the table', async () => {
    const file = join(dir, 'routes.yaml');
    writeFileSync(file, watchYaml('one'));
    const gw = createGateway({ manifests: watchYaml('one'), backends: { one: 1, two: 2 } });
    const results: { ok: boolean; error?: Error }[] = [];
    const w = watchManifests(gw, file, (r) => results.push(r));
    try {
      writeFileSync(file, `${watchYaml('two')}---\nkind: [broken\n`);
      await waitFor(() => results.length > 0, 5_000, 'the failed reload');
      const error = results[0]!.error;
      expect(error).toBeInstanceOf(GatewayConfigError);
      expect((error as GatewayConfigError).issues[0]).toMatchObject({ code: 'GW_MANIFEST_YAML', file, document: 3 });
      expect(error!.message).toContain(`${file}:`);
      expect(gw.route({ method: 'GET', path: '/w' })).toMatchObject({ type: 'forward', backend: { name: 'one' } });
    } finally {
      w.close();
    }
  });

  it('survives hostile YAML and an onReload that throws; the next good file still loads', async () => {
    const file = join(dir, 'hostile.yaml');
    writeFileSync(file, watchYaml('one'));
    const gw = createGateway({ manifests: watchYaml('one'), backends: { one: 1, two: 2 } });
    let calls = 0;
    const w = watchManifests(gw, file, () => {
      calls++;
      throw new Error('a buggy onReload');
    });
    try {
      writeFileSync(file, `a: &x [*x]\nb: ${'['.repeat(5000)}\n`);
      await waitFor(() => calls === 1, 5_000, 'the failed reload');
      writeFileSync(file, watchYaml('two'));
      await waitFor(() => calls === 2, 5_000, 'the good reload');
      expect(gw.route({ method: 'GET', path: '/w' })).toMatchObject({ type: 'forward', backend: { name: 'two' } });
    } finally {
      w.close();
    }
  });
});
