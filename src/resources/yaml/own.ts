/**
 * Loaded values own their strings: a copy of each long string, so that the resources do not keep
 * the parser's text alive. One home for the block reader (plain.ts) and the js-yaml path (fast.ts).
 */

/**
 * A fresh copy of a slice of the input (V8 copies short slices itself). The copy is flat: a
 * slice of 13 characters or more is a 32-byte view of its parent string, so `(' ' + s).slice(1)`
 * would keep a view plus a parent one character longer for every long value (measured: about
 * 40 bytes per string, several MB of the loaded objects at 50,000 routes). decodeURIComponent
 * of a string without `%` returns its characters unchanged, in a new flat string.
 */
export function own(s: string): string {
  if (s.length < 13) return s;
  return s.indexOf('%') < 0 ? decodeURIComponent(s) : (' ' + s).slice(1);
}

/**
 * Replaces, in place, the strings of a parsed value with copies, so that it does not keep the
 * parser's text alive (js-yaml's strings are slices of its copy of each document). For values
 * without aliases (a tree, nested within the depth limit): the fast path's.
 */
export function ownStrings(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === 'string') v[i] = own(x);
        else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    } else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (typeof x === 'string') o[k] = own(x);
        else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    }
  }
}
