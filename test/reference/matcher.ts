/**
 * The reference matcher: the spec transcribed naively, for checking the compiled matcher.
 * It shares no routing logic with src/ (it only uses loadManifests to parse YAML and apply CRD
 * defaults). Everything is a linear scan; clarity over speed.
 *
 * Spec digest sections: 2 (attachment, hostname intersection), 3 (listener selection),
 * 4 (matching), 5.1 and 5.2 (precedence, virtual-host semantics).
 */
import type { Resource } from '../../src/index.js';

export interface RefRequest {
  method: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
  port?: number;
}

/** What the reference decides: the winning match, or a 404. */
export type RefDecision =
  | { type: 'match'; listener: string; route: string; rule: number; match: number }
  | { type: 'not-found'; listener: string | null };

interface Candidate {
  listener: string;
  routeKey: string; // namespace/name
  created: number;
  hostname: string | null; // intersected hostname; null = any
  rule: number;
  match: number;
  pathType: string;
  pathValue: string;
  method: string | undefined;
  headers: { name: string; type: string; value: string }[];
  query: { name: string; type: string; value: string }[];
}

/** "*.example.com" matches hosts with one or more labels before ".example.com". */
function wildcardMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.substring(1);
  return host.endsWith(suffix) && host.length > suffix.length;
}

/** Digest 2.3 table, row by row. */
function intersect(listener: string | undefined, route: string | undefined): string | null | 'none' {
  if (listener === undefined && route === undefined) return null;
  if (listener === undefined) return route!;
  if (route === undefined) return listener;
  const lw = listener.startsWith('*.');
  const rw = route.startsWith('*.');
  if (!lw && !rw) return listener === route ? route : 'none';
  if (lw && !rw) return wildcardMatches(listener, route) ? route : 'none';
  if (!lw && rw) return wildcardMatches(route, listener) ? listener : 'none';
  const s = listener.substring(2);
  const t = route.substring(2);
  if (s === t) return route;
  if (s.endsWith('.' + t)) return listener;
  if (t.endsWith('.' + s)) return route;
  return 'none';
}

/** creationTimestamp in ms; objects without one were loaded together at `now` and tie. */
function created(r: Resource, now: number): number {
  const ts = r.metadata.creationTimestamp;
  return typeof ts === 'string' ? Date.parse(ts) : ts instanceof Date ? ts.getTime() : now;
}

/** Builds every candidate of every HTTPRoute attached to `gatewayName`, per listener. */
function candidates(resources: Resource[], gatewayName: string, now: number): { listeners: { name: string; port: number; hostname: string | undefined; protocol: string }[]; cands: Candidate[] } {
  const gw = resources.find((r) => r.kind === 'Gateway' && r.metadata.name === gatewayName);
  if (!gw || gw.kind !== 'Gateway') throw new Error('reference: no gateway');
  const gwNs = gw.metadata.namespace!;
  const listeners = gw.spec.listeners.map((l) => ({ name: l.name, port: l.port, hostname: l.hostname, protocol: l.protocol, from: l.allowedRoutes.namespaces.from }));
  const cands: Candidate[] = [];
  resources.forEach((r) => {
    if (r.kind !== 'HTTPRoute') return;
    const ns = r.metadata.namespace!;
    const attached = new Map<string, Set<string | null>>();
    for (const p of r.spec.parentRefs ?? []) {
      if (p.kind !== 'Gateway' || p.name !== gatewayName || (p.namespace ?? ns) !== gwNs) continue;
      for (const l of listeners) {
        if (p.sectionName !== undefined && p.sectionName !== l.name) continue;
        if (p.port !== undefined && p.port !== l.port) continue;
        if (l.from === 'Same' && ns !== gwNs) continue;
        if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') continue;
        const hs = r.spec.hostnames && r.spec.hostnames.length > 0 ? r.spec.hostnames : [undefined];
        for (const h of hs) {
          const i = intersect(l.hostname, h);
          if (i === 'none') continue;
          if (!attached.has(l.name)) attached.set(l.name, new Set());
          attached.get(l.name)!.add(i);
        }
      }
    }
    for (const [listener, hosts] of attached) {
      for (const hostname of hosts) {
        r.spec.rules.forEach((rule, ri) => {
          rule.matches.forEach((m, mi) => {
            // Only the first entry for a header name counts; same for query names.
            const headers: Candidate['headers'] = [];
            for (const h of m.headers ?? []) if (!headers.some((x) => x.name.toLowerCase() === h.name.toLowerCase())) headers.push(h);
            const query: Candidate['query'] = [];
            for (const q of m.queryParams ?? []) if (!query.some((x) => x.name === q.name)) query.push(q);
            cands.push({ listener, routeKey: `${ns}/${r.metadata.name}`, created: created(r, now), hostname, rule: ri, match: mi, pathType: m.path.type, pathValue: m.path.value, method: m.method, headers, query });
          });
        });
      }
    }
  });
  return { listeners: listeners.map(({ name, port, hostname, protocol }) => ({ name, port, hostname, protocol })), cands };
}

function pathOK(c: Candidate, path: string): boolean {
  if (c.pathType === 'Exact') return path === c.pathValue;
  if (c.pathType === 'PathPrefix') {
    let p = c.pathValue;
    if (p !== '/' && p.endsWith('/')) p = p.substring(0, p.length - 1);
    return p === '/' || path === p || path.startsWith(p + '/');
  }
  return new RegExp(`^(?:${c.pathValue})$`).test(path);
}

function matchOK(c: Candidate, req: RefRequest, path: string, query: URLSearchParams): boolean {
  if (!pathOK(c, path)) return false;
  if (c.method !== undefined && c.method !== req.method) return false;
  for (const h of c.headers) {
    const entry = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === h.name.toLowerCase());
    if (!entry) return false;
    if (h.type === 'Exact' ? entry[1] !== h.value : !new RegExp(`^(?:${h.value})$`).test(entry[1])) return false;
  }
  for (const q of c.query) {
    const v = query.get(q.name); // first value
    if (v === null) return false;
    if (q.type === 'Exact' ? v !== q.value : !new RegExp(`^(?:${q.value})$`).test(v)) return false;
  }
  return true;
}

/** Digest 5.1 precedence, steps 1 to 7, as one sort key. */
function compare(a: Candidate, b: Candidate): number {
  const exactLen = (h: string | null) => (h !== null && !h.startsWith('*') ? h.length : 0);
  const len = (h: string | null) => (h === null ? 0 : h.length);
  const rank = (t: string) => (t === 'Exact' ? 0 : t === 'RegularExpression' ? 1 : 2);
  const keys = [
    exactLen(b.hostname) - exactLen(a.hostname),
    len(b.hostname) - len(a.hostname),
    rank(a.pathType) - rank(b.pathType),
    b.pathValue.length - a.pathValue.length,
    (b.method ? 1 : 0) - (a.method ? 1 : 0),
    b.headers.length - a.headers.length,
    b.query.length - a.query.length,
    a.created - b.created,
    a.routeKey < b.routeKey ? -1 : a.routeKey > b.routeKey ? 1 : 0,
    a.rule - b.rule,
    a.match - b.match,
  ];
  return keys.find((k) => k !== 0) ?? 0;
}

/**
 * A reference router for one Gateway: candidates are collected and sorted once; each request is
 * then a linear scan, the slow way: choose the listener, keep the candidates of routes attached
 * to it whose hostname matches the host, keep the most specific hostname (virtual-host
 * semantics), and return the first in precedence order that matches.
 */
export function createReference(resources: Resource[], gatewayName: string, now = 0): (req: RefRequest) => RefDecision {
  const { listeners, cands } = candidates(resources, gatewayName, now);
  cands.sort(compare);
  return (req) => {
    const host = req.host?.toLowerCase().replace(/:\d+$/, '');
    const hostOK = (pattern: string | null) => pattern === null || (host !== undefined && wildcardMatches(pattern, host));
    // Listener: same port, HTTP; exact hostname > longer wildcard > none.
    const specificity = (h: string | undefined) => (h === undefined ? 0 : h.startsWith('*') ? h.length : 10_000 + h.length);
    const eligible = listeners
      .filter((l) => l.protocol === 'HTTP' && (req.port === undefined || l.port === req.port) && hostOK(l.hostname ?? null))
      .sort((a, b) => specificity(b.hostname) - specificity(a.hostname) || a.port - b.port);
    const listener = eligible[0];
    if (!listener) return { type: 'not-found', listener: null };
    const q = req.path.indexOf('?');
    const path = q >= 0 ? req.path.slice(0, q) : req.path;
    const query = new URLSearchParams(q >= 0 ? req.path.slice(q + 1) : '');
    let top: string | null | undefined;
    for (const c of cands) {
      if (c.listener !== listener.name || !hostOK(c.hostname)) continue;
      if (top === undefined) top = c.hostname; // the most specific matching hostname: no fall-through below it
      if (c.hostname !== top) break;
      if (matchOK(c, req, path, query)) return { type: 'match', listener: listener.name, route: c.routeKey, rule: c.rule, match: c.match };
    }
    return { type: 'not-found', listener: listener.name };
  };
}

/** One-shot form of {@link createReference}. */
export function referenceRoute(resources: Resource[], gatewayName: string, req: RefRequest, now = 0): RefDecision {
  return createReference(resources, gatewayName, now)(req);
}
