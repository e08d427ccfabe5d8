// Issue 13 (first build): shortcuts taken at load for the common case must decide exactly what
// the full rules decide. The path-value CEL rules (spec digest section 1.4) are checked with
// three scans and the pattern when a value passes them all; measureValue counts a number's
// characters without making its string.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HTTPRouteMatchSchema } from '../../src/resources/schemas-route.js';
import { measureValue, resolveLimits } from '../../src/resources/parse.js';

const TYPES = "when type one of ['Exact', 'PathPrefix']";
const VALID = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

/** The path-value rules as the CRD states them, one message per rule broken, in the CRD's order. */
function celMessages(v: string): string[] {
  const out: string[] = [];
  if (!v.startsWith('/')) out.push(`value must be an absolute path and start with '/' ${TYPES}`);
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#']) if (v.includes(bad)) out.push(`must not contain '${bad}' ${TYPES}`);
  for (const bad of ['/..', '/.']) if (v.endsWith(bad)) out.push(`must not end with '${bad}' ${TYPES}`);
  if (!VALID.test(v)) out.push(`must only contain valid characters (matching ${VALID.source}) for types ['Exact', 'PathPrefix']`);
  return out;
}

describe('shortcuts of the first build', () => {
  it('path values: the shortcut for valid values gives the CRD rules’ messages on every value (digest 1.4)', () => {
    const chars = fc.constantFrom('/', '.', '%', '2', 'f', 'F', '#', 'a', '7', 'E', '-', ' ');
    fc.assert(
      fc.property(fc.array(chars, { minLength: 1, maxLength: 12 }).map((c) => c.join('')), fc.constantFrom('Exact', 'PathPrefix'), (value, type) => {
        const r = HTTPRouteMatchSchema.safeParse({ path: { type, value } });
        const got = r.success ? [] : r.error.issues.map((i) => i.message);
        expect(got).toEqual(celMessages(value));
      }),
      { numRuns: 3000, seed: 13 },
    );
  });

  it('measureValue counts a number as its JSON text: integers, negatives, -0, fractions, huge values', () => {
    const limits = resolveLimits(undefined);
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.maxSafeInteger(), fc.double({ noNaN: false }), fc.constant(-0)), (n) => {
        expect(measureValue([n], limits).bytes).toBe(3 + String(n).length);
      }),
      { numRuns: 2000, seed: 7 },
    );
    expect(measureValue({ a: true, b: false }, limits).bytes).toBe(2 + (1 + 4) + 4 + (1 + 4) + 5);
  });

  it('measureValue: a walk after another starts from its own root', () => {
    const limits = resolveLimits(undefined);
    const leaf = { deep: 'x' };
    measureValue({ a: [leaf, { b: leaf }] }, limits);
    const again = measureValue('text', limits);
    expect(again).toEqual({ hasNullField: false, bytes: 6 });
    // The next walk starts from its own root only: a stale entry would be counted or dropped.
    expect(measureValue({ k: 1 }, limits).bytes).toBe(2 + 1 + 4 + 1);
  });
});
