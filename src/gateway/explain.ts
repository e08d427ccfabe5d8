/**
 * explain(): the Decision and every step that led to it, read from the trace of the one lookup
 * (match/find.ts) that decided it. No condition is checked here: what failed is named by the
 * compiled check that failed.
 */
import type { Decision } from '../types.js';
import type * as IR from '../ir/types.js';
import { compareMatches, type PrecedenceKey } from '../ir/precedence.js';
import type { ListenerTrace, FindTrace, TestedCandidate } from '../match/find.js';
import type { RequestView } from '../match/request.js';
import { canonicalPathValue } from '../match/normalize.js';
import type { PickTrace } from './decide.js';
import type { Runtime } from './runtime.js';

/** One match considered by explain(), in precedence order. */
export interface CandidateExplanation {
  route: { kind: string; namespace: string; name: string };
  rule: number;
  match: number;
  /** The virtual host (intersected hostname) it belongs to; null = any host. */
  hostname: string | null;
  path: { type: IR.PathType; value: string };
  outcome: 'selected' | 'failed' | 'lost' | 'skipped';
  /** For `failed`: the condition that did not match. */
  failed?: string;
  /** For `lost`: the precedence key on which the selected match beat it. */
  lostOn?: PrecedenceKey;
  /** For `skipped`: why it was never considered (another virtual host won). */
  skipped?: string;
}

/** What explain() returns: the decision and why. */
export interface Explanation {
  decision: Decision;
  request: { method: string; path: string; query: string; host: string | undefined; scheme: string; port: number | undefined; sni: string | undefined };
  listeners: ListenerTrace[];
  /** Virtual hosts of the selected listener that match the host, most specific first. */
  virtualHosts: (string | null)[];
  candidates: CandidateExplanation[];
  pick: PickTrace | null;
  /** Hints about the request itself, e.g. a host-less request to hostname-only routes. Absent when none. */
  notes?: string[];
}

const SKIPPED = 'a more specific hostname of this listener matches the host, and requests do not fall through to less specific hostnames';

/** The explanation of a decided request, from the lookup's trace. */
export function buildExplanation(rt: Runtime, req: RequestView, decision: Decision, find: FindTrace, pick: PickTrace | undefined): Explanation {
  const out: Explanation = {
    decision,
    request: { method: req.method, path: req.path, query: req.rawQuery, host: req.host, scheme: req.scheme, port: req.port, sni: req.sni },
    listeners: find.listeners,
    virtualHosts: find.vhosts.map((v) => v.vhost.vhost.hostname),
    candidates: [],
    pick: pick ?? null,
  };
  const hostless = hostlessNote(req, decision, find);
  if (hostless !== null) out.notes = [hostless];
  const winner = find.winner;
  for (const vt of find.vhosts) {
    const tested = new Map<IR.Match, TestedCandidate>();
    for (const t of vt.tested) tested.set(t.candidate.match, t);
    const vh = vt.vhost.vhost;
    // Every match of the virtual host, in precedence order; the path index decided which of
    // them were candidates for this path, their checks decided the rest.
    for (const m of vt.grpc ? vh.grpcMatches : vh.matches) {
      const r = rt.ir.routes[m.route]!;
      const base: CandidateExplanation = { route: { kind: r.kind, namespace: r.namespace, name: r.name }, rule: rt.ir.rules[m.rule]!.index, match: m.index, hostname: vh.hostname, path: m.path, outcome: 'failed' };
      const t = tested.get(m);
      if (t !== undefined && t.candidate === winner) out.candidates.push({ ...base, outcome: 'selected' });
      else if (!vt.searched) out.candidates.push({ ...base, outcome: 'skipped', skipped: SKIPPED });
      else if (t === undefined) out.candidates.push({ ...base, failed: pathFailure(m, req) });
      else if (t.failed !== null) out.candidates.push({ ...base, failed: t.failed.why(req) });
      else if (winner !== null) out.candidates.push({ ...base, outcome: 'lost', lostOn: compareMatches(rt.ir, winner.match, m).key });
      else out.candidates.push({ ...base, failed: 'unknown' });
    }
  }
  return out;
}

/** A request without a Host that got a 404 while listeners or routes of this Gateway name hostnames. */
function hostlessNote(req: RequestView, d: Decision, find: FindTrace): string | null {
  if (req.host !== undefined || d.type !== 'respond' || (d.reason !== 'no-route' && d.reason !== 'no-listener')) return null;
  const names = new Set<string>();
  for (const l of find.listeners) if (l.hostname !== null) names.add(l.hostname);
  for (const vh of find.listener?.listener.vhosts ?? []) if (vh.hostname !== null) names.add(vh.hostname);
  if (names.size === 0) return null;
  return `The request has no Host, so listeners and routes with hostnames (${[...names].join(', ')}) cannot match it; give the request a host.`;
}

/** How a match the path index did not return for this path fails it, in words. */
function pathFailure(m: IR.Match, req: RequestView): string {
  const value = canonicalPathValue(m.path.value);
  return m.path.type === 'Exact' ? `path ${req.path} is not exactly ${value}` : `path ${req.path} is not under prefix ${value} (prefixes match whole segments)`;
}
