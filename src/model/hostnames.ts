/**
 * Hostname wildcards and intersection (spec digest section 2.3; `site/content/en/docs/concepts/hostnames.md`).
 * A wildcard `*.example.com` matches one or more labels before `.example.com`, never
 * `example.com` itself. An absent hostname means "any" and is written `undefined` here.
 */

/** True when `pattern` (exact or `*.suffix`) matches the concrete `host`. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/**
 * How specific a listener hostname is for a host or TLS server name: lower is better; null when
 * it does not match. Exact first, then wildcards with more characters, then no hostname
 * (spec digest 3.3 and 9.2: the most specific listener is chosen).
 */
export function hostnameRank(hostname: string | null | undefined, host: string | undefined): number | null {
  if (hostname === null || hostname === undefined) return 1_000_000;
  if (host === undefined || isIPAddressHost(host)) return null; // an IP matches only "any" (digest 3.2)
  if (!hostname.startsWith('*.')) return hostname === host ? 0 : null;
  return hostMatches(hostname, host) ? 1000 - hostname.length : null;
}

/**
 * Intersection of a listener hostname and one route hostname, or `null` when they share no host.
 * `undefined` on either side means "any". The result is the more specific of the two.
 */
export function intersectHostnames(listener: string | undefined, route: string | undefined): string | undefined | null {
  if (listener === undefined) return route;
  if (route === undefined) return listener;
  const lw = listener.startsWith('*.');
  const rw = route.startsWith('*.');
  if (!lw && !rw) return listener === route ? route : null;
  if (lw && !rw) return hostMatches(listener, route) ? route : null;
  if (!lw && rw) return hostMatches(route, listener) ? listener : null;
  // Both wildcards: equal, or one suffix inside the other; the longer one is more specific.
  if (listener === route) return route;
  if (route.endsWith(listener.slice(1))) return route;
  if (listener.endsWith(route.slice(1))) return listener;
  return null;
}

/**
 * The hostnames a route answers on a listener: each route hostname intersected with the listener
 * hostname, non-empty ones kept, duplicates removed. `[undefined]` means every host.
 * An empty array means no intersection (status reason NoMatchingListenerHostname).
 */
export function effectiveHostnames(listener: string | undefined, routeHostnames: readonly string[] | undefined): (string | undefined)[] {
  if (!routeHostnames || routeHostnames.length === 0) return [listener];
  const out: (string | undefined)[] = [];
  for (const h of routeHostnames) {
    const i = intersectHostnames(listener, h);
    if (i !== null && !out.includes(i)) out.push(i);
  }
  return out;
}

/**
 * True for a normalised request host that is an IP address: a bracketed IPv6 literal, or a host
 * whose last label is a number, which WHATWG URL parsers read as IPv4 (`10.0.0.1`, `1.2.3`,
 * `0x7f.1`). An IP never matches a hostname, only "any" (digest 1.1 and 3.2), so a listener
 * or route hostname that looks like an IP (validation lets `10.0.0.1` through) matches nothing.
 */
export function isIPAddressHost(host: string): boolean {
  const last = host.charCodeAt(host.length - 1);
  if (host.charCodeAt(0) === 91 /* [ */) return true;
  if (!((last >= 48 && last <= 57) || (last >= 97 && last <= 102) || last === 120)) return false; // hot path: names end in a letter
  return /(^|\.)(0x[0-9a-f]*|[0-9]+)$/.test(host);
}

/** Lower-cases a request host and strips its port; IPv6 literals keep their brackets. */
export function normalizeRequestHost(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  // Hot path: a lower-case host without port, spaces or trailing dot is returned as is.
  let plain = true;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c === 58 /* : */ || c <= 32 || c === 91 /* [ */) {
      plain = false;
      break;
    }
  }
  if (plain && host.charCodeAt(host.length - 1) !== 46 /* . */) return host;
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/**
 * How well a certificate name covers a server name: 0 exact, then wildcards by length
 * (`*.a.example.com` beats `*.example.com`); null when it does not. Certificate wildcards
 * cover exactly one label (RFC 6125), unlike listener hostnames (spec digest 9.2).
 */
export function certificateNameRank(name: string, serverName: string): number | null {
  if (name === serverName) return 0;
  if (!name.startsWith('*.')) return null;
  const dot = serverName.indexOf('.');
  return dot > 0 && serverName.slice(dot) === name.slice(1) ? 1000 - name.length : null;
}
