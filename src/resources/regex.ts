/**
 * RegularExpression values (path, header, query and gRPC method matches).
 *
 * The dialect is RE2's, the engine Envoy uses, and patterns run on re2js, a port of RE2 that
 * matches in time linear in the input. No pattern can backtrack catastrophically, so none is
 * rejected for its shape; what RE2 cannot run in linear time (backreferences, lookaround) is
 * rejected when the manifests load, with the reason. Matching is full-match (the whole path,
 * header value or query value), as Envoy's `safe_regex` does. See docs/routing.md.
 */
import { RE2JS } from 're2js';

/** A compiled full-match regular expression. */
export interface FullMatcher {
  (input: string): boolean;
}

const cache = new Map<string, FullMatcher>();

/** Compiles `pattern` for full matching, or explains why it is refused. */
export function compileFullMatch(pattern: string): { ok: true; test: FullMatcher } | { ok: false; reason: string } {
  const cached = cache.get(pattern);
  if (cached) return { ok: true, test: cached };
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    return { ok: false, reason: explainRE2Error(pattern, (e as Error).message) };
  }
  const test: FullMatcher = (input) => re.matches(input);
  cache.set(pattern, test);
  return { ok: true, test };
}

function explainRE2Error(pattern: string, message: string): string {
  if (/\\[1-9]|\\k</.test(pattern) && /escape/.test(message)) {
    return 'backreferences are not supported: they cannot run in linear time (RE2 dialect)';
  }
  if (/\(\?<?[=!]/.test(pattern)) {
    return 'lookahead and lookbehind are not supported: they cannot run in linear time (RE2 dialect)';
  }
  return message.replace(/^error parsing regexp: /, 'not valid RE2 syntax: ');
}
