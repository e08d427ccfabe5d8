/**
 * Data-driven corpus of invalid manifests: every file in ./bad/ states, in its leading comments,
 * the rule it breaks and the issues loadManifests must report for it:
 *
 *   # rule: HTTPRoute path CEL: must not contain '//' (spec digest 1.4)
 *   # expect: GW_MANIFEST_RULE spec.rules[0].matches[0].path.value @ 12:16
 *
 * `path` is `-` when the issue has none; `@ line:col` is left out only when the issue has no
 * position. Each file must also make createGateway throw a GatewayConfigError carrying the same
 * issues.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { GatewayConfigError, IssueCodes, createGateway, isGatewayError, loadManifests } from '../../src/index.js';
import type { Issue, IssueCode } from '../../src/index.js';

const dir = new URL('./bad/', import.meta.url);

/** The fields of an issue the corpus pins down. */
interface Expected {
  severity: 'error';
  code: IssueCode;
  path: string | undefined;
  line: number | undefined;
  column: number | undefined;
  file: string;
}

interface Case {
  file: string;
  text: string;
  rule: string;
  expected: Expected[];
  /** Header lines that do not parse; reported by the case's own test. */
  problems: string[];
}

const EXPECT = /^# expect: (\S+) (\S+)(?: @ (\d+):(\d+))?\s*$/;

function isIssueCode(code: string): code is IssueCode {
  return Object.hasOwn(IssueCodes, code);
}

function readCase(file: string): Case {
  const text = readFileSync(new URL(file, dir), 'utf8');
  const header: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('#')) break;
    header.push(line);
  }
  const problems: string[] = [];
  const rules = header.filter((l) => l.startsWith('# rule:')).map((l) => l.slice('# rule:'.length).trim());
  if (!header[0]?.startsWith('# rule:')) problems.push('the first line must be "# rule: ..."');
  if (rules.length !== 1) problems.push(`expected exactly one "# rule:" line, found ${rules.length}`);
  const expected: Expected[] = [];
  for (const line of header.filter((l) => l.startsWith('# expect:'))) {
    const m = EXPECT.exec(line);
    const code = m?.[1];
    const path = m?.[2];
    if (!m || code === undefined || path === undefined) {
      problems.push(`cannot parse ${JSON.stringify(line)}`);
      continue;
    }
    if (!isIssueCode(code)) {
      problems.push(`unknown issue code ${code} in ${JSON.stringify(line)}`);
      continue;
    }
    expected.push({
      severity: 'error',
      code,
      path: path === '-' ? undefined : path,
      line: m[3] === undefined ? undefined : Number(m[3]),
      column: m[4] === undefined ? undefined : Number(m[4]),
      file,
    });
  }
  if (expected.length === 0 && problems.length === 0) problems.push('no "# expect:" line');
  return { file, text, rule: rules[0] ?? '(no rule)', expected, problems };
}

/** Projects an issue onto the fields the corpus states, so toContainEqual compares just those. */
function shape(issue: Issue): Omit<Expected, 'severity' | 'file'> & { severity: Issue['severity']; file: string | undefined } {
  return { severity: issue.severity, code: issue.code, path: issue.path, line: issue.line, column: issue.column, file: issue.file };
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const cases = files.map(readCase);

describe('bad manifests corpus', () => {
  it('has at least 35 well-formed cases covering every validation family', () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
    for (const c of cases) {
      expect(c.file, 'file names are NN-short-name.yaml').toMatch(/^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml$/);
    }
    const numbers = cases.map((c) => c.file.slice(0, 2));
    expect(new Set(numbers).size, 'case numbers are unique').toBe(numbers.length);
    expect(cases.flatMap((c) => c.problems.map((p) => `${c.file}: ${p}`))).toEqual([]);
    const covered = new Set(cases.flatMap((c) => c.expected.map((e) => e.code)));
    const required: IssueCode[] = [
      'GW_MANIFEST_YAML',
      'GW_MANIFEST_MISSING_KIND',
      'GW_MANIFEST_UNKNOWN_VERSION',
      'GW_MANIFEST_UNKNOWN_FIELD',
      'GW_MANIFEST_REQUIRED',
      'GW_MANIFEST_TYPE',
      'GW_MANIFEST_ENUM',
      'GW_MANIFEST_PATTERN',
      'GW_MANIFEST_LIMIT',
      'GW_MANIFEST_RULE',
      'GW_MANIFEST_NOT_OBJECT',
    ];
    expect([...covered]).toEqual(expect.arrayContaining(required));
  });

  for (const c of cases) {
    it(`${c.file}: ${c.rule}`, () => {
      expect(c.problems, 'the case header must parse').toEqual([]);

      // Issues are reported, never written to the process's stderr (a library's warnings would be).
      const warn = vi.spyOn(process, 'emitWarning');
      let loaded: ReturnType<typeof loadManifests>;
      try {
        loaded = loadManifests(c.text, { filename: c.file });
      } finally {
        warn.mockRestore();
      }
      expect(warn, 'process warnings while loading').not.toHaveBeenCalled();
      const reported = loaded.issues.map(shape);
      for (const e of c.expected) expect.soft(reported, 'loadManifests issues').toContainEqual(e);

      let thrown: unknown;
      try {
        createGateway({ manifests: c.text, filename: c.file });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, 'createGateway must throw').toBeDefined();
      expect(isGatewayError(thrown), 'isGatewayError(thrown)').toBe(true);
      expect(thrown).toBeInstanceOf(GatewayConfigError);
      if (thrown instanceof GatewayConfigError) {
        const attached = thrown.issues.map(shape);
        for (const e of c.expected) expect.soft(attached, 'GatewayConfigError.issues').toContainEqual(e);
      }
    });
  }
});
