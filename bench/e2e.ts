/**
 * End-to-end comparisons over loopback: each server runs in its own process; autocannon drives
 * it from this one, bounded in time, only against 127.0.0.1. Contenders alternate round by
 * round and the median requests/second of each is compared.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { median } from './harness.js';

const serverScript = fileURLToPath(new URL('./e2e-server.mjs', import.meta.url));

async function start(mode: string, upstreamPort?: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [serverScript, mode, ...(upstreamPort ? [String(upstreamPort)] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { port, child };
}

async function load(port: number, seconds: number): Promise<number> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/details/1`, connections: 32, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

/** Median req/s of each contender over `rounds` alternating rounds. */
export async function comparePair(a: string, b: string, opts: { seconds?: number; rounds?: number; upstream?: boolean } = {}): Promise<Record<string, number>> {
  const seconds = opts.seconds ?? 3;
  const rounds = opts.rounds ?? 3;
  const up = opts.upstream ? await start('upstream') : null;
  const servers = { [a]: await start(a, up?.port), [b]: await start(b, up?.port) };
  const rps: Record<string, number[]> = { [a]: [], [b]: [] };
  try {
    for (const name of [a, b]) await load(servers[name]!.port, 1); // warm up
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [a, b] : [b, a];
      for (const name of order) rps[name]!.push(await load(servers[name]!.port, seconds));
    }
  } finally {
    for (const s of [...Object.values(servers), ...(up ? [up] : [])]) s.child.kill();
  }
  return { [a]: median(rps[a]!), [b]: median(rps[b]!) };
}
