/**
 * Measuring with mitata: the contenders of one comparison are measured in the same process, in
 * interleaved rounds, and what is reported is the ratio of their medians, which holds on a noisy
 * machine where absolute numbers do not.
 */
import { do_not_optimize, measure } from 'mitata';

export interface Contender {
  name: string;
  /** Runs one operation; `i` counts calls, to cycle through inputs. */
  fn: (i: number) => unknown;
}

/** Median nanoseconds per operation of each contender (median over rounds of mitata's p50). */
export async function compare(contenders: Contender[], opts: { rounds?: number; cpuMs?: number } = {}): Promise<Record<string, number>> {
  const rounds = opts.rounds ?? 3;
  const p50s: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      let i = 0;
      const stats = await measure(() => do_not_optimize(c.fn(i++)), { min_cpu_time: (opts.cpuMs ?? 150) * 1e6, min_samples: 12 });
      p50s[c.name]!.push(stats.p50);
    }
  }
  return Object.fromEntries(Object.entries(p50s).map(([k, v]) => [k, median(v)]));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Formats nanoseconds for humans. */
export function fmtNs(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
}
