// Every error and issue code is documented in docs/errors.md with meaning, cause and fix,
// and the document lists no code that does not exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, IssueCodes } from '../../src/index.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^### (GW_[A-Z_]+)$/gm)].map((m) => m[1]);

describe('docs/errors.md', () => {
  it('documents exactly the error and issue codes the library has', () => {
    expect([...documented].sort()).toEqual([...Object.keys(ErrorCodes), ...Object.keys(IssueCodes)].sort());
  });

  it.each(documented)('%s has a meaning, a typical cause and a fix', (code) => {
    const section = doc.split(`### ${code}\n`)[1]!.split('\n### ')[0]!;
    expect(section).toMatch(/- Meaning: \S/);
    expect(section).toMatch(/- Typical cause: \S/);
    expect(section).toMatch(/- How to fix: \S/);
  });
});
