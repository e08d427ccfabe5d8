/**
 * Watching manifests: the files a path stands for, and reloading a router when they change
 * (including the `..data` symlink swap Kubernetes performs for ConfigMap volumes).
 */
import { readFileSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { GatewayError } from '../../errors.js';
import type { GatewayRouter } from '../../gateway/create.js';
import type { ManifestFile } from '../../resources/load.js';

/** What a reload triggered by a watch reports. */
export type ReloadResult = { ok: true } | { ok: false; error: Error };

/** Called after each reload triggered by a watch. */
export type OnReload = (result: ReloadResult) => void;

/**
 * The manifest files a path stands for: the file itself, or every .yaml/.yml/.json file of a
 * directory, sorted, not recursing, ignoring dot entries (`..data`) and route-test files
 * (`*.test.yaml`, docs/testing.md).
 */
export function manifestFilesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => !f.startsWith('.') && /\.(ya?ml|json)$/.test(f) && !/\.test\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** Reads a manifest file, or every manifest file of a directory (see manifestFilesOf), each named by its path so that issues point at the right file. */
export function readManifestPath(path: string): ManifestFile[] {
  return manifestFilesOf(path).map((f) => ({ filename: f, text: readFileSync(f, 'utf8') }));
}

/**
 * Reloads `router` whenever `path` changes. The directory is watched, not the file, so that the
 * atomic `..data` symlink swap of a Kubernetes ConfigMap volume is seen too. A failed reload
 * keeps the running table; `onReload` says why.
 */
export function watchManifests(router: GatewayRouter, path: string, onReload?: OnReload): { close(): void } {
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  let last = JSON.stringify(safeRead(path));
  let timer: NodeJS.Timeout | undefined;
  // Runs in a timer: nothing may escape it, or the process would die on a bad file.
  const check = () => {
    const files = safeRead(path);
    if (files === null) return; // mid-swap or deleted: keep the running table, try on the next event
    const now = JSON.stringify(files);
    if (now === last) return;
    let result: ReloadResult;
    try {
      const r = router.reload(files);
      if (r.ok) last = now;
      result = r.ok ? { ok: true } : { ok: false, error: r.error };
    } catch (e) {
      result = { ok: false, error: e instanceof GatewayError ? e : new GatewayError('GW_ERR_INTERNAL', `Reloading ${path} failed unexpectedly: ${String(e)}.`, { cause: e }) };
    }
    try {
      onReload?.(result);
    } catch {
      // a throwing onReload callback must not take the server down; the reload itself is done
    }
  };
  // Any event in the directory triggers a debounced re-read; unchanged content is ignored.
  let w: FSWatcher | null = watch(dir, { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(check, 50);
    timer.unref();
  });
  w.on('error', () => {});
  return {
    close() {
      clearTimeout(timer);
      w?.close();
      w = null;
    },
  };
}

function safeRead(path: string): ManifestFile[] | null {
  try {
    return readManifestPath(path);
  } catch {
    return null;
  }
}
