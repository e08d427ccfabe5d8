/**
 * Session keys for sticky weighted splits: where a rule reads its key (sessionPersistence,
 * GEP-1619, or the `sticky` option) and how a new session is handed to the client.
 */
import type { RouteRequest } from '../types.js';
import type * as IR from '../ir/types.js';
import type { RequestView } from '../match/request.js';

/** The `sticky` routing option: the session key is this cookie's or header's value, or what the function returns. */
export type StickyOption = { cookie: string } | { header: string } | ((request: RouteRequest) => string | undefined);

/** Where a rule's session key comes from, and how a new session is started. */
export interface SessionSource {
  read: (req: RequestView) => string | undefined;
  /** For sessionPersistence: how to hand a new session to the client. */
  start?: (id: string) => { cookie: string } | { header: [string, string] };
}

/** A cookie's value from the Cookie header. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(/[;,]\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The session source of a rule: its sessionPersistence (GEP-1619, lowered with its defaults in
 * ir/lower.ts), else the `sticky` option, else none.
 */
export function sessionSource(rule: IR.Rule, sticky: StickyOption | undefined): SessionSource | null {
  const sp = rule.session;
  if (sp) {
    const name = sp.name;
    if (sp.type === 'Header') return { read: (req) => req.header(name), start: (id) => ({ header: [name, id] }) };
    const attributes = `; Path=${sp.path}; HttpOnly${sp.maxAge !== undefined ? `; Max-Age=${sp.maxAge}` : ''}`;
    return { read: (req) => cookieValue(req.header('cookie'), name), start: (id) => ({ cookie: `${name}=${id}${attributes}` }) };
  }
  if (!sticky) return null;
  if (typeof sticky === 'function') {
    return {
      read: (req) => {
        try {
          const k = sticky(req.request);
          return typeof k === 'string' && k !== '' ? k : undefined;
        } catch {
          return undefined; // a throwing key function falls back to the ordinary pick
        }
      },
    };
  }
  if ('cookie' in sticky) return { read: (req) => cookieValue(req.header('cookie'), sticky.cookie) };
  const h = sticky.header.toLowerCase();
  return { read: (req) => req.header(h) };
}

/** A random session id: 16 hex digits from the configured RNG. */
export function sessionId(random: () => number): string {
  const part = () => Math.floor(random() * 0x100000000).toString(16).padStart(8, '0');
  return part() + part();
}
