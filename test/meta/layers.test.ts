// The pipeline runs in one direction: a folder of src/ imports only from folders to its left
// (plus types.ts and errors.ts). See STYLE: resources -> model -> ir -> match -> pick -> filters
// -> gateway -> adapters -> server -> testing -> cli.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ORDER = ['resources', 'model', 'ir', 'match', 'pick', 'filters', 'gateway', 'adapters', 'server', 'testing', 'cli'];
const src = fileURLToPath(new URL('../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const all = files(src).map((f) => relative(src, f));

describe('layering', () => {
  it('every src folder is a known layer', () => {
    const folders = new Set(all.filter((f) => f.includes('/')).map((f) => f.split('/')[0]!));
    for (const f of folders) expect(ORDER, `unknown layer ${f}`).toContain(f);
  });

  it.each(all.filter((f) => f.includes('/')))('%s imports only from layers to its left', (file) => {
    const layer = ORDER.indexOf(file.split('/')[0]!);
    const text = readFileSync(join(src, file), 'utf8');
    for (const m of text.matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const target = relative(src, join(src, file, '..', m[1]!));
      if (!target.includes('/')) {
        expect(['types.js', 'errors.js'], `${file} imports ${target}`).toContain(target);
        continue;
      }
      const targetLayer = ORDER.indexOf(target.split('/')[0]!);
      expect(targetLayer, `${file} imports ${target}`).toBeLessThanOrEqual(layer);
    }
  });

  // model/ holds one file per concern of the spec's resource model (issue 14): Gateways and
  // ListenerSets, listeners and their conflicts, references and grants, route attachment,
  // hostnames, the condition vocabulary, status. Merging any two would put two concepts in one
  // file, so the layer gets a deliberate exception.
  // gateway/ composes the request-time layers (issue 13): the composition root (create), the
  // runtime compilation, decide, explain, the route()/explain() entries, and the serving plan.
  const LIMITS: Record<string, number> = { model: 7, gateway: 6 };

  // Counted per folder, not per layer: a layer may group its files in subfolders (adapters/protocols/).
  it('a folder holds at most about four files', () => {
    const counts = new Map<string, number>();
    for (const f of all.filter((x) => x.includes('/'))) {
      const dir = f.slice(0, f.lastIndexOf('/'));
      counts.set(dir, (counts.get(dir) ?? 0) + 1);
    }
    for (const [dir, n] of counts) expect(n, `${dir} has ${n} files`).toBeLessThanOrEqual(LIMITS[dir] ?? 5);
  });

  // Issue 13: a file that outgrows this holds two concerns; split it along a seam (a concern with
  // its own name and doc comment), not in halves. Lines are counted as `wc -l` counts them.
  const MAX_LINES = 400;
  it(`no src file is over ${MAX_LINES} lines`, () => {
    const over = all.map((f) => [f, readFileSync(join(src, f), 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > MAX_LINES);
    expect(over.map(([f, n]) => `${f}: ${n} lines`)).toEqual([]);
  });

  // Issue 13: the IR is lowered, so request-time code never reaches into the manifests' layer.
  const requestTime = all.filter((f) => /^(match|pick|filters)\//.test(f));
  it.each(requestTime)('%s never imports from resources/ (request-time code reads the lowered IR)', (file) => {
    const text = readFileSync(join(src, file), 'utf8');
    for (const m of text.matchAll(/from '(\.\.?\/[^']+)'/g)) {
      expect(relative(src, join(src, file, '..', m[1]!)), `${file} imports ${m[1]}`).not.toMatch(/^resources\//);
    }
  });

  it('ir/types.ts carries no spec types: it imports nothing from resources/ or model/', () => {
    const text = readFileSync(join(src, 'ir/types.ts'), 'utf8');
    expect(text).not.toMatch(/from '\.\.\/(resources|model)\//);
  });

  it.each([...requestTime, ...all.filter((f) => f.startsWith('gateway/'))])('%s never parses a duration or normalises header operations (the IR holds them lowered)', (file) => {
    const text = readFileSync(join(src, file), 'utf8');
    expect(text).not.toMatch(/\bdurationMs\(/);
    expect(text).not.toMatch(/\bheaderOps\(/);
    expect(text).not.toMatch(/sessionPersistence as/);
  });
});
