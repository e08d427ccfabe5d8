// Issue 12 item 4: errors are located per input. `{ filename, text }` items name their file,
// documents count from 1 within their input (like lines), an unnamed input among several is
// `<input n>`, and YAML syntax errors get plain words beside the parser's message.
import { describe, expect, it } from 'vitest';
import { createGateway, formatIssue, GatewayConfigError, loadManifests } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const gateway = `apiVersion: ${G}\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  gatewayClassName: x\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n`;
const svc = (name: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n`;
// The error is on line 12 of this text, in its second document.
const broken = `${svc('a')}---\napiVersion: ${G}\nkind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  parentRefs: [{name: gw}]\n  hostname: [x.example.com]\n`;

describe('issues are located in the input they come from', () => {
  it('an error in the second of two files names that file, its line and its document (from 1)', () => {
    const { issues } = loadManifests([
      { filename: 'a.yaml', text: `${gateway}---\n${svc('s1')}---\n${svc('s2')}` },
      { filename: 'b.yaml', text: broken },
    ]);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_UNKNOWN_FIELD', file: 'b.yaml', input: 2, document: 2, line: 12, column: 3, path: 'spec.hostname' })]);
    expect(formatIssue(issues[0]!)).toMatch(/^b\.yaml:12:3 \(document 2\) spec\.hostname: /);
  });

  it('unnamed texts among several are told apart as <input n>; the filename option names texts given without one', () => {
    const plain = loadManifests([gateway, broken]).issues[0]!;
    expect(plain).toMatchObject({ input: 2, document: 2, line: 12 });
    expect(plain.file).toBeUndefined();
    expect(formatIssue(plain)).toMatch(/^<input 2>:12:3 \(document 2\)/);
    expect(loadManifests([{ filename: 'gw.yaml', text: gateway }, broken], { filename: 'rest.yaml' }).issues[0]).toMatchObject({ file: 'rest.yaml', input: 2 });
  });

  it('a single input: documents count from 1, and no input number is given', () => {
    const issue = loadManifests(broken).issues[0]!;
    expect(issue).toMatchObject({ document: 2, line: 12 });
    expect(issue.input).toBeUndefined();
    expect(loadManifests(`${svc('a')}---\n${svc('a')}`).issues[0]!.message).toContain('first in document 1, line 1');
  });

  it('a duplicate across files names the file of the first definition (input numbers without names)', () => {
    const named = loadManifests([{ filename: 'a.yaml', text: `${svc('x')}---\n${svc('a')}` }, { filename: 'b.yaml', text: svc('a') }]).issues[0]!;
    expect(named).toMatchObject({ code: 'GW_MANIFEST_DUPLICATE', file: 'b.yaml', document: 1 });
    expect(named.message).toContain('(first in document 2, line 6 of a.yaml)');
    expect(loadManifests([svc('a'), svc('a')]).issues[0]!.message).toContain('(first in document 1, line 1 of input 1)');
  });

  it('an object among the inputs is its own input, document 1', () => {
    const { issues } = loadManifests([gateway, { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'gw' }], bogus: 1 } }]);
    expect(issues).toEqual([expect.objectContaining({ code: 'GW_MANIFEST_UNKNOWN_FIELD', input: 2, document: 1, path: 'spec.bogus' })]);
  });

  it('createGateway and GatewayConfigError carry the same locations', () => {
    try {
      createGateway({ manifests: [{ filename: 'gw.yaml', text: gateway }, { filename: 'route.yaml', text: broken }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GatewayConfigError);
      expect((e as Error).message).toContain('route.yaml:12:3 (document 2)');
    }
  });

  it.each([
    ['a tab used as indentation', `${svc('a')}spec:\n\tports: []\n`, 'A tab is used for indentation', 6],
    ['a flow sequence never closed', `${svc('a')}  labels: {a: [x\n`, 'A `[` or `{` is never closed', 6],
    ['a quote never closed', `${svc('a')}  labels: {a: "x}\n`, 'A closing character is missing', 6],
    ['a key defined twice', `${svc('a')}  name: b\n`, 'This key appears twice', 5],
  ])('%s: the YAML error has plain words beside the parser message', (_what, text, plain, line) => {
    const { issues } = loadManifests({ filename: 'f.yaml', text });
    expect(issues[0]).toMatchObject({ code: 'GW_MANIFEST_YAML', file: 'f.yaml', document: 1, line });
    expect(issues[0]!.message).toContain(plain);
    expect(issues[0]!.message).toMatch(/\(YAML parser: .+\)$/);
  });
});
