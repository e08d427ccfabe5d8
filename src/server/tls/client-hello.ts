/**
 * Reads the server name (SNI) from a TLS ClientHello without terminating TLS, for TLSRoute
 * passthrough (spec digest 9.2: "Passthrough needs a net/tls front end (SNI peek)"). The parser is
 * a pure function over the bytes received so far; it never throws and reads nothing beyond the
 * lengths it has checked. Formats: RFC 8446 section 4.1.2 (ClientHello), RFC 6066 section 3
 * (server_name), RFC 5246 section 6.2 (records).
 */

/** The most bytes read before a ClientHello must be complete: 64 KiB is four full TLS records. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

/** What the bytes so far say. */
export type ClientHelloResult =
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string }
  /** `serverName` lower-case without a trailing dot; null when the client sent none. */
  | { status: 'ok'; serverName: string | null };

const INCOMPLETE: ClientHelloResult = { status: 'incomplete' };
const invalid = (reason: string): ClientHelloResult => ({ status: 'invalid', reason });

/**
 * Parses the TLS records at the start of `buf` as far as the ClientHello goes. Handshake
 * messages may span several records; only handshake records (type 22) may precede the end of
 * the ClientHello.
 */
export function parseClientHello(buf: Uint8Array): ClientHelloResult {
  // 1. Reassemble the handshake layer from the records received so far.
  const parts: Uint8Array[] = [];
  let have = 0;
  let need = -1; // the ClientHello's total length (4-byte header included), once known
  let off = 0;
  while (need < 0 || have < need) {
    if (off + 5 > buf.length) return buf.length > MAX_CLIENT_HELLO_BYTES ? invalid('ClientHello too large') : INCOMPLETE;
    if (buf[off] !== 22) return invalid('not a TLS handshake record');
    if (buf[off + 1] !== 3) return invalid('not a TLS record version');
    const len = (buf[off + 3]! << 8) | buf[off + 4]!;
    if (len === 0 || len > 16384) return invalid('bad TLS record length');
    if (off + 5 + len > buf.length) return off + 5 + len > MAX_CLIENT_HELLO_BYTES ? invalid('ClientHello too large') : INCOMPLETE;
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = concat(parts, 4);
      if (hs[0] !== 1) return invalid('first handshake message is not a ClientHello');
      need = 4 + ((hs[1]! << 16) | (hs[2]! << 8) | hs[3]!);
      if (need > MAX_CLIENT_HELLO_BYTES) return invalid('ClientHello too large');
    }
  }
  return parseBody(concat(parts, need).subarray(4));
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length >= n) return parts[0]!.subarray(0, n);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    const take = Math.min(p.length, n - o);
    out.set(p.subarray(0, take), o);
    o += take;
    if (o === n) break;
  }
  return out;
}

/** The ClientHello body: version, random, session id, cipher suites, compression, extensions. */
function parseBody(b: Uint8Array): ClientHelloResult {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > b.length) return invalid('truncated ClientHello');
  p += 1 + b[p]!; // legacy_session_id
  if (p + 2 > b.length) return invalid('truncated ClientHello');
  const suites = (b[p]! << 8) | b[p + 1]!;
  if (suites < 2 || suites % 2 !== 0) return invalid('bad cipher_suites length');
  p += 2 + suites;
  if (p + 1 > b.length) return invalid('truncated ClientHello');
  p += 1 + b[p]!; // legacy_compression_methods
  if (p === b.length) return { status: 'ok', serverName: null }; // no extensions (TLS 1.2 and older)
  if (p + 2 > b.length) return invalid('truncated ClientHello');
  const end = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  if (end !== b.length) return invalid('extensions length does not match the ClientHello');
  p += 2;
  let serverName: string | null = null;
  let seen = false;
  while (p < end) {
    if (p + 4 > end) return invalid('truncated extension');
    const type = (b[p]! << 8) | b[p + 1]!;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
    if (p + len > end) return invalid('truncated extension');
    if (type === 0) {
      if (seen) return invalid('two server_name extensions');
      seen = true;
      const r = parseServerName(b.subarray(p, p + len));
      if (typeof r !== 'string' && r !== null) return r;
      serverName = r;
    }
    p += len;
  }
  return { status: 'ok', serverName };
}

/** The host_name of a server_name extension (RFC 6066 section 3), validated as a DNS name. */
function parseServerName(e: Uint8Array): string | null | ClientHelloResult {
  if (e.length === 0) return null; // a server's empty echo; a client sends a list
  if (e.length < 2) return invalid('truncated server_name');
  const listEnd = 2 + ((e[0]! << 8) | e[1]!);
  if (listEnd !== e.length) return invalid('server_name list length does not match');
  let p = 2;
  let name: string | null = null;
  while (p < listEnd) {
    if (p + 3 > listEnd) return invalid('truncated server_name');
    const type = e[p]!;
    const len = (e[p + 1]! << 8) | e[p + 2]!;
    p += 3;
    if (p + len > listEnd) return invalid('truncated server_name');
    if (type === 0) {
      if (name !== null) return invalid('two host_name entries');
      name = hostName(e.subarray(p, p + len));
      if (name === null) return invalid('host_name is not a DNS name');
    }
    p += len;
  }
  return name;
}

/** Letters, digits, '-', '_' and '.', 1 to 253 characters, labels of 1 to 63; lower-cased, trailing dot removed. */
function hostName(bytes: Uint8Array): string | null {
  let n = bytes.length;
  if (n > 0 && bytes[n - 1] === 46) n--;
  if (n === 0 || n > 253) return null;
  let out = '';
  let label = 0;
  for (let i = 0; i < n; i++) {
    let c = bytes[i]!;
    if (c === 46) {
      if (label === 0) return null;
      label = 0;
    } else {
      if (c >= 65 && c <= 90) c += 32;
      if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95)) return null;
      if (++label > 63) return null;
    }
    out += String.fromCharCode(c);
  }
  return label === 0 ? null : out;
}
