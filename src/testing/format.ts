/**
 * Plain-text views of decisions and explanations, shared by the test matchers (failure
 * messages) and the CLI (`explain`, `test`). Output is stable: no colour codes, no timestamps.
 */
import type { Explanation } from '../gateway/route.js';
import type { BackendTarget, Decision } from '../types.js';

/**
 * Where a decision sends the request, in one short string: `name:port` for a forward (`name`
 * when the backendRef has no port), otherwise the status code, e.g. `'404'` or `'302'`.
 */
export function backendOf(decision: Decision): string {
  return decision.type === 'forward' ? targetName(decision.backend) : String(decision.status);
}

/** `name:port`, or `name` when the reference has no port. */
export function targetName(b: Pick<BackendTarget, 'name' | 'port'>): string {
  return b.port === undefined ? b.name : `${b.name}:${b.port}`;
}

/** One line saying what the gateway does with a request. */
export function describeDecision(d: Decision): string {
  const where = d.type === 'respond' && d.route === undefined ? '' : ` (${d.route?.kind ?? 'route'} ${d.route?.namespace}/${d.route?.name} rule ${d.rule?.index}${d.rule?.name ? ` "${d.rule.name}"` : ''} match ${d.match})`;
  if (d.type === 'forward') return `forward to ${d.backend.namespace}/${targetName(d.backend)}${where}`;
  if (d.type === 'redirect') return `redirect ${d.status} to ${d.location}${where}`;
  return `respond ${d.status} ${d.reason}: ${d.message}${where}`;
}

/** Aligns rows into columns: two spaces between columns, the last one unpadded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * The explanation as a readable table: the request, the decision, the listeners considered,
 * the virtual hosts, every candidate in precedence order with why it failed or lost, and the pick.
 */
export function formatExplanation(e: Explanation): string {
  const r = e.request;
  const out: string[] = [];
  out.push(`Request:  ${r.method} ${r.scheme}://${r.host ?? '(no host)'}${r.port !== undefined ? ` port ${r.port}` : ''}${r.path}${r.query ? `?${r.query}` : ''}${r.sni !== undefined ? ` (SNI ${r.sni})` : ''}`);
  out.push(`Decision: ${describeDecision(e.decision)}`);
  if (e.listeners.length > 0) {
    out.push('', 'Listeners:');
    out.push(...formatTable(['NAME', 'PORT', 'PROTOCOL', 'HOSTNAME', 'OUTCOME'], e.listeners.map((l) => [l.name, String(l.port), l.protocol, l.hostname ?? '*', l.outcome])));
  }
  if (e.virtualHosts.length > 0) out.push('', `Virtual hosts (most specific first): ${e.virtualHosts.map((h) => h ?? '*').join(', ')}`);
  if (e.candidates.length > 0) {
    out.push('', 'Candidates (precedence order):');
    out.push(
      ...formatTable(
        ['#', 'ROUTE', 'RULE', 'MATCH', 'HOSTNAME', 'PATH', 'OUTCOME', 'WHY'],
        e.candidates.map((c, i) => [
          String(i + 1),
          `${c.route.kind}/${c.route.namespace}/${c.route.name}`,
          String(c.rule),
          String(c.match),
          c.hostname ?? '*',
          `${c.path.type} ${c.path.value}`,
          c.outcome,
          c.failed ?? (c.lostOn !== undefined ? `the selected match wins on ${c.lostOn}` : c.skipped ?? ''),
        ]),
      ),
    );
  }
  if (e.pick) {
    const p = e.pick;
    out.push('', `Pick (${p.algorithm}${p.sessionKey !== undefined ? `, session key ${p.sessionKey}` : ''}, total weight ${p.totalWeight}):`);
    out.push(
      ...formatTable(
        ['', 'BACKEND', 'WEIGHT', 'SHARE', 'STATE'],
        p.backends.map((b, i) => [i === p.chosen ? '>' : '', `${b.namespace}/${targetName(b)}`, String(b.weight), `${round(b.share * 100)}%`, b.state]),
      ),
    );
  }
  for (const note of e.notes ?? []) out.push('', `Note: ${note}`);
  return out.join('\n');
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}
