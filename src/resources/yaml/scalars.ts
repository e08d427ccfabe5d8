/**
 * How a plain (unquoted) scalar resolves, exactly as the `yaml` package's YAML 1.2 core schema
 * reads it: null, bool, int (decimal, `0o` octal, `0x` hex) and float; anything else is a
 * string. One home for the rule: the js-yaml schema of fast.ts and the block reader of
 * plain.ts both resolve through it. (js-yaml's own core schema also reads `0b101`, `-0x1F`
 * and `+0o7` as numbers; `yaml` keeps them strings, and so does this.)
 */
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+)$/;
const FLOAT_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$|^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** Could `s` be a number: it starts with a digit, a sign or a dot (most plain scalars do not: names, paths, hosts). */
function isNumberStart(s: string): boolean {
  const c = s.charCodeAt(0);
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}

export const isNullScalar = (s: string): boolean => s.length <= 4 && NULL.test(s);
export const isBoolScalar = (s: string): boolean => (s.length === 4 || s.length === 5) && BOOL.test(s);
export const isIntScalar = (s: string): boolean => isNumberStart(s) && INT.test(s);
export const isFloatScalar = (s: string): boolean => isNumberStart(s) && (FLOAT_SPECIAL.test(s) || FLOAT.test(s));

export const boolOf = (s: string): boolean => s[0] === 't' || s[0] === 'T';
export const intOf = (s: string): number => (s[1] === 'o' ? parseInt(s.slice(2), 8) : s[1] === 'x' ? parseInt(s.slice(2), 16) : parseInt(s, 10));
export const floatOf = (s: string): number => (FLOAT_SPECIAL.test(s) ? (s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity) : parseFloat(s));

/** The value of a plain scalar. Hot: most scalars are names, paths and hosts, which leave at the first tests. */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
    if (INT.test(s)) return intOf(s);
    if (FLOAT_SPECIAL.test(s) || FLOAT.test(s)) return floatOf(s);
    return s;
  }
  if (s.length <= 5) {
    if (isNullScalar(s)) return null;
    if (isBoolScalar(s)) return boolOf(s);
  }
  return s;
}

/** Whether a plain scalar resolves to a string (a key that does not is left to the parsers that convert it). */
export function isStringScalar(s: string): boolean {
  return !(isNullScalar(s) || isBoolScalar(s) || isIntScalar(s) || isFloatScalar(s));
}
