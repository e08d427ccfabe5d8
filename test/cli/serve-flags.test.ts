// serve's flags (docs/cli.md, "serve"): --port LISTENER=BIND into listen()'s `ports`, and
// --backend name:port=URL into `backends` (HTTP) or `streams` (tcp://, TLSRoute backends).
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVE_PORT, parseBackendFlags, parsePortFlags } from '../../src/cli/serve.js';
import { UsageError } from '../../src/cli/inputs.js';

describe('parsePortFlags', () => {
  it('binds a single listener port on 8080 by default, as serve always did; several bind their own numbers', () => {
    expect(DEFAULT_SERVE_PORT).toBe(8080);
    expect(parsePortFlags([], [80])).toEqual({ 80: 8080 });
    expect(parsePortFlags([], [80, 443])).toEqual({});
  });

  it('maps LISTENER=BIND (repeatable, 0 for any free port), or a plain BIND for a single listener port', () => {
    expect(parsePortFlags(['80=0', '443=8443'], [80, 443])).toEqual({ 80: 0, 443: 8443 });
    expect(parsePortFlags(['3000'], [80])).toEqual({ 80: 3000 });
  });

  it('refuses a plain BIND with several listener ports, and malformed values', () => {
    expect(() => parsePortFlags(['8080'], [80, 443])).toThrow(/listens on ports 80, 443; map each with --port LISTENER=BIND/);
    for (const bad of ['x', '80=', '=80', '0=80', '80=70000', '80=-1', '80=1.5']) expect(() => parsePortFlags([bad], [80]), bad).toThrow(UsageError);
  });
});

describe('parseBackendFlags', () => {
  it('splits HTTP(S) backends from tcp:// stream backends, and refuses anything else', () => {
    expect(parseBackendFlags(['details:9080=http://127.0.0.1:9080', 'tls-echo:443=tcp://127.0.0.1:8443'])).toEqual({
      backends: { 'details:9080': 'http://127.0.0.1:9080' },
      streams: { 'tls-echo:443': 'tcp://127.0.0.1:8443' },
    });
    for (const bad of ['details', '=http://x', 'details:9080=ftp://x']) expect(() => parseBackendFlags([bad]), bad).toThrow(UsageError);
  });
});
