/**
 * What every command shares: reading manifests as kubectl does (`-f FILE|DIR|-`), building the
 * gateway to serve, and the terminal (colour only on a TTY and without NO_COLOR, progress lines).
 */
import { readFileSync, statSync } from 'node:fs';
import { createGateway, type GatewayOptions, type GatewayRouter } from '../gateway/create.js';
import { isGatewayError, GatewayConfigError, formatIssue } from '../errors.js';
import { loadManifests, type Resource } from '../resources/load.js';
import { manifestFilesOf } from '../adapters/node.js';

/** One manifest input: its name as given (or `<stdin>`) and its text. */
export interface ManifestFile {
  filename: string;
  text: string;
}

/** A problem with the command line or the inputs: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure to report and exit 1 (the message is already meant for the terminal). */
export class CommandError extends Error {
  override name = 'CommandError';
}

/**
 * Reads `-f` arguments: files, directories (their manifest files, see manifestFilesOf) and `-`
 * for stdin. `onFile` is told of each file before it is read (a progress line for long runs).
 */
export function readManifestArgs(paths: readonly string[], readStdin: () => string, onFile?: (i: number, total: number, name: string) => void): ManifestFile[] {
  const names: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      names.push('-');
      continue;
    }
    try {
      statSync(p);
      names.push(...manifestFilesOf(p));
    } catch {
      throw new UsageError(`cannot read ${p}: no such file or directory`);
    }
  }
  return names.map((f, i) => {
    onFile?.(i, names.length, f === '-' ? '<stdin>' : f);
    return f === '-' ? { filename: '<stdin>', text: readStdin() } : { filename: f, text: readFileSync(f, 'utf8') };
  });
}

/** Options that choose and configure the gateway a command works on. */
export interface GatewayFlags {
  gateway?: string | undefined;
  controllerName?: string | undefined;
  picker?: 'random' | 'smooth';
  backends?: Record<string, unknown>;
  /** Who enforces the listeners' TLS settings (createGateway's option); `serve` opens them itself. */
  tlsTermination?: GatewayOptions['tlsTermination'];
}

/** `name` or `namespace/name`. */
export function parseGatewayName(s: string): { namespace?: string; name: string } {
  const i = s.indexOf('/');
  return i < 0 ? { name: s } : { namespace: s.slice(0, i), name: s.slice(i + 1) };
}

/**
 * The controllerName to answer to: the flag, else the one controllerName every GatewayClass in
 * the manifests names (so `check` and `explain` act as that class's controller), else the default.
 */
function controllerNameFor(resources: readonly Resource[], flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  const names = new Set(resources.flatMap((r) => (r.kind === 'GatewayClass' ? [r.spec.controllerName] : [])));
  return names.size === 1 ? [...names][0] : undefined;
}

/** The Gateways in the manifests, as `namespace/name`. */
export function gatewaysIn(resources: readonly Resource[]): string[] {
  return resources.filter((r) => r.kind === 'Gateway').map((r) => `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`);
}

/**
 * Builds the gateway for a command. `anyGateway`: when the manifests hold several Gateways and
 * none is named, serve the first (status covers them all). Manifest errors and Gateway choice
 * problems become a CommandError with every error located.
 */
export function buildGateway(files: readonly ManifestFile[], flags: GatewayFlags, anyGateway = false): GatewayRouter {
  // `{ filename, text }` items: the loader locates each issue in its own file.
  const loaded = loadManifests(files);
  const errors = loaded.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new CommandError(new GatewayConfigError(errors).message + '\nRun `gateway-api-router check` for the details.');
  const resources = loaded.resources;
  const controllerName = controllerNameFor(resources, flags.controllerName);
  const all = gatewaysIn(resources);
  const gateway = flags.gateway !== undefined ? parseGatewayName(flags.gateway) : anyGateway && all.length > 1 ? parseGatewayName(all[0]!) : undefined;
  const options: GatewayOptions = {
    manifests: files,
    ...(gateway ? { gateway } : {}),
    ...(controllerName !== undefined ? { controllerName } : {}),
    ...(flags.picker ? { picker: flags.picker } : {}),
    ...(flags.backends ? { backends: flags.backends } : {}),
    ...(flags.tlsTermination !== undefined ? { tlsTermination: flags.tlsTermination } : {}),
  };
  try {
    return createGateway(options);
  } catch (e) {
    if (isGatewayError(e) && e.code === 'GW_ERR_GATEWAY_AMBIGUOUS') throw new CommandError(`The manifests hold ${all.length} Gateways (${all.join(', ')}); choose one with --gateway NAME or --gateway NAMESPACE/NAME.`);
    if (e instanceof GatewayConfigError) throw new CommandError(e.issues.filter((i) => i.severity === 'error').map(formatIssue).join('\n'));
    if (isGatewayError(e)) throw new CommandError(e.message);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The terminal

/** ANSI styles, or identity functions when colour is off. */
export interface Style {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

/**
 * Colour for a stream: only on a TTY, never when NO_COLOR is set to a non-empty value
 * (no-color.org), and as `--color`/`--no-color` force it.
 */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag: boolean | undefined): Style {
  const on = flag ?? (stream.isTTY === true && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb');
  if (!on) return { red: plain, yellow: plain, green: plain, dim: plain, bold: plain };
  return { red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/**
 * A progress line on stderr for runs of more than a few items, redrawn in place; only on a TTY,
 * so logs and pipes stay clean.
 */
export function progress(stream: NodeJS.WriteStream, total: number): { step(i: number, label: string): void; done(): void } {
  const on = stream.isTTY === true && total > 5;
  let drawn = false;
  return {
    step(i, label) {
      if (!on) return;
      const text = `[${i + 1}/${total}] ${label}`;
      const width = (stream.columns ?? 80) - 1;
      stream.write(`\r${text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write(`\r${' '.repeat((stream.columns ?? 80) - 1)}\r`);
    },
  };
}
