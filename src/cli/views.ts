/**
 * What `routes`, `status` and `test` print: the compiled table per listener and host, status
 * like `kubectl get`, and route-test results.
 */
import { stringify } from 'yaml';
import type { GatewayRouter } from '../gateway/create.js';
import type { StatusObject } from '../model/status.js';
import type * as IR from '../ir/types.js';
import { formatTable, targetName } from '../testing/format.js';
import type { RouteTestFileResult } from '../testing/route-test.js';
import type { Style } from './inputs.js';

/** The routing table of the served Gateway: per listener and virtual host, matches in precedence order. */
export function formatRoutes(gw: GatewayRouter): string {
  const ir = gw.ir;
  const out: string[] = [`Gateway ${ir.key}`];
  for (const l of ir.listeners) {
    out.push('', `Listener ${l.name} (${l.protocol} port ${l.port}, ${l.hostname ?? 'any host'})${l.programmed ? '' : ' NOT PROGRAMMED: receives no traffic'}`);
    if (l.vhosts.length === 0) out.push('  (no routes attached)');
    for (const vh of l.vhosts) {
      out.push(`  Host ${vh.hostname ?? '*'}`);
      const matches = [...vh.matches, ...vh.grpcMatches];
      out.push(...formatTable(['#', 'ROUTE', 'RULE', 'MATCH', 'PATH', 'METHOD', 'HEADERS', 'QUERY', 'BACKENDS'], matches.map((m, i) => matchRow(ir, m, i)), '    '));
    }
  }
  return out.join('\n');
}

function matchRow(ir: IR.Gateway, m: IR.Match, i: number): string[] {
  const route = ir.routes[m.route]!;
  const rule = ir.rules[m.rule]!;
  const cond = (cs: IR.Condition[]) => (cs.length === 0 ? '-' : cs.map((c) => `${c.name}${c.type === 'Exact' ? '=' : '~'}${c.value}`).join(','));
  const backends = rule.backends.length === 0 ? '(none)' : rule.backends.map((b) => `${b.namespace === route.namespace ? '' : `${b.namespace}/`}${targetName(b)}${rule.backends.length > 1 ? `(${b.weight})` : ''}${b.state === 'ok' ? '' : ` [${b.state}]`}`).join(' ');
  const filters = rule.filters.length > 0 ? ` +${rule.filters.map((f) => f.type).join(',')}` : '';
  return [String(i + 1), `${route.kind}/${route.namespace}/${route.name}`, `${rule.index}${rule.name ? ` (${rule.name})` : ''}`, String(m.index), `${m.path.type} ${m.path.value}`, m.method ?? '*', cond(m.headers), cond(m.query), backends + filters];
}

/** `kubectl get`-like tables: GatewayClasses, Gateways, then routes. */
export function formatStatus(gw: GatewayRouter): string {
  const items = gw.status.items;
  const cond = (cs: { type: string; status: string }[], type: string) => cs.find((c) => c.type === type)?.status ?? 'Unknown';
  const ns = (o: StatusObject) => o.metadata.namespace ?? '';
  const blocks: string[] = [];
  const classes = items.filter((i) => i.kind === 'GatewayClass');
  if (classes.length > 0) blocks.push(formatTable(['NAME', 'ACCEPTED', 'FEATURES'], classes.map((c) => [c.metadata.name, cond(c.status.conditions, 'Accepted'), String(c.status.supportedFeatures?.length ?? 0)]), '').join('\n'));
  const gateways = items.filter((i) => i.kind === 'Gateway');
  if (gateways.length > 0) {
    blocks.push(
      formatTable(
        ['NAMESPACE', 'NAME', 'ADDRESS', 'ACCEPTED', 'PROGRAMMED', 'LISTENERS', 'ATTACHED ROUTES'],
        gateways.map((g) => [ns(g), `gateway/${g.metadata.name}`, g.status.addresses.map((a) => a.value).join(','), cond(g.status.conditions, 'Accepted'), cond(g.status.conditions, 'Programmed'), String(g.status.listeners.length), String(g.status.listeners.reduce((n, l) => n + l.attachedRoutes, 0))]),
        '',
      ).join('\n'),
    );
  }
  const sets = items.filter((i) => i.kind === 'ListenerSet');
  if (sets.length > 0) {
    blocks.push(
      formatTable(
        ['NAMESPACE', 'NAME', 'ACCEPTED', 'PROGRAMMED', 'LISTENERS', 'ATTACHED ROUTES'],
        sets.map((l) => [ns(l), `listenerset/${l.metadata.name}`, cond(l.status.conditions, 'Accepted'), cond(l.status.conditions, 'Programmed'), String(l.status.listeners.length), String(l.status.listeners.reduce((n, x) => n + x.attachedRoutes, 0))]),
        '',
      ).join('\n'),
    );
  }
  const routes = items.filter((i): i is Exclude<StatusObject, { kind: 'Gateway' | 'GatewayClass' | 'ListenerSet' | 'BackendTLSPolicy' }> => i.kind !== 'Gateway' && i.kind !== 'GatewayClass' && i.kind !== 'ListenerSet' && i.kind !== 'BackendTLSPolicy');
  if (routes.length > 0) {
    const rows: string[][] = [];
    for (const r of routes) {
      const parents = r.status.parents.length === 0 ? [null] : r.status.parents;
      for (const p of parents) {
        rows.push([ns(r), `${r.kind.toLowerCase()}/${r.metadata.name}`, p ? `${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ''}` : '(none)', p ? cond(p.conditions, 'Accepted') : '-', p ? cond(p.conditions, 'ResolvedRefs') : '-']);
      }
    }
    blocks.push(formatTable(['NAMESPACE', 'NAME', 'PARENT', 'ACCEPTED', 'RESOLVEDREFS'], rows, '').join('\n'));
  }
  return blocks.join('\n\n');
}

/** The status as `kubectl get -o yaml` prints a List. */
export function statusYaml(gw: GatewayRouter): string {
  // Routes with the same status share its objects (docs/status.md): print each in full, never as a YAML alias.
  return stringify(gw.status, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Route-test results: a line per test, failures with their reasons and explain() table. */
export function formatTestResults(results: readonly RouteTestFileResult[], style: Style): { text: string; failed: number } {
  const out: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    out.push(style.bold(r.file));
    if (r.error !== undefined) {
      failed++;
      out.push(`  ${style.red('✗ cannot run:')} ${r.error}`);
      continue;
    }
    for (const t of r.results) {
      if (t.ok) {
        passed++;
        out.push(`  ${style.green('✓')} ${t.name}`);
        continue;
      }
      failed++;
      out.push(`  ${style.red('✗')} ${t.name}`);
      for (const f of t.failures) out.push(`      - ${f}`);
      if (t.explanation) out.push('', ...t.explanation.split('\n').map((l) => style.dim(`      ${l}`.trimEnd())), '');
    }
  }
  const summary = `${passed} passed, ${failed} failed`;
  out.push('', failed > 0 ? style.red(summary) : style.green(summary));
  return { text: out.join('\n'), failed };
}
