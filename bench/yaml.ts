/**
 * A small block-style YAML writer for the bench tables (plain objects, arrays, strings, numbers,
 * booleans): fast enough to write 50,000 routes, and its output is ordinary YAML as people write
 * it (block mappings and sequences, plain scalars where they are safe).
 */
export function toYaml(docs: readonly Record<string, unknown>[]): string {
  const out: string[] = [];
  for (const d of docs) {
    out.push('---');
    writeMap(d, '', out);
  }
  return `${out.join('\n')}\n`;
}

const PLAIN = /^[A-Za-z/][A-Za-z0-9_./-]*$/;
const RESERVED = new Set(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n', '~']);

function scalar(v: unknown): string {
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.has(v.toLowerCase()) ? v : JSON.stringify(v);
  return String(v);
}

function isComplex(v: unknown): v is object {
  return typeof v === 'object' && v !== null && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
}

function writeMap(o: Record<string, unknown>, indent: string, out: string[], first?: string): void {
  let lead = first;
  for (const [k, v] of Object.entries(o)) {
    const head = lead ?? indent;
    lead = undefined;
    if (isComplex(v)) {
      out.push(`${head}${k}:`);
      writeValue(v, `${indent}  `, out);
    } else {
      out.push(`${head}${k}: ${Array.isArray(v) ? '[]' : typeof v === 'object' && v !== null ? '{}' : scalar(v)}`);
    }
  }
}

function writeValue(v: object, indent: string, out: string[]): void {
  if (!Array.isArray(v)) return writeMap(v as Record<string, unknown>, indent, out);
  for (const item of v) {
    if (isComplex(item) && !Array.isArray(item)) writeMap(item as Record<string, unknown>, `${indent}  `, out, `${indent}- `);
    else out.push(`${indent}- ${scalar(item)}`);
  }
}
