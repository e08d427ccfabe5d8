// The supported features and the conformance report come from the ported tests: the GatewayClass
// status lists exactly the features whose tests pass, and docs/conformance-report.yaml says the
// same. `npm run conformance` regenerates both files (src/gateway/report/features.ts and the report).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createGateway, SUPPORTED_FEATURES } from '../../src/index.js';
import { loadCases } from './runner.js';
import { buildReport, declaredOutcome, GATEWAY_API_VERSION, runsOf, supportedFeatures, type TestRun } from './report.js';

const cases = loadCases();
const outcome = declaredOutcome(cases);
const runs = cases.flatMap((c) => runsOf(c, (name) => outcome(name)));

describe('supported features', () => {
  it('src/gateway/report/features.ts lists exactly the features whose ported tests pass (run `npm run conformance` after changing cases)', () => {
    expect([...SUPPORTED_FEATURES]).toEqual(supportedFeatures(runs));
    expect(SUPPORTED_FEATURES).toContain('HTTPRouteQueryParamMatching');
  });

  it('the GatewayClass status carries them, sorted', () => {
    const gw = createGateway({
      manifests: `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: c }
spec: { controllerName: gateway-api-router.dev/controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: g }
spec:
  gatewayClassName: c
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
`,
    });
    const gc = gw.statusOf('GatewayClass', 'c');
    expect(gc?.status.supportedFeatures?.map((f) => f.name)).toEqual([...SUPPORTED_FEATURES].sort());
  });

  it('a test that does not pass removes its extended features, or its core ones when it has none', () => {
    const run = (shortName: string, features: string[], o: TestRun['outcome']): TestRun => ({ caseName: shortName, shortName, features, outcome: o });
    expect(supportedFeatures([run('A', ['Gateway', 'HTTPRoute'], 'passed'), run('B', ['Gateway', 'HTTPRoute', 'X'], 'skipped'), run('C', ['Gateway', 'HTTPRoute', 'Y'], 'passed')])).toEqual(['Gateway', 'HTTPRoute', 'Y']);
    expect(supportedFeatures([run('A', ['Gateway', 'HTTPRoute'], 'failed'), run('C', ['Gateway', 'HTTPRoute', 'Y'], 'passed')])).toEqual(['Y']);
  });
});

describe('docs/conformance-report.yaml', () => {
  const report = parse(readFileSync(new URL('../../docs/conformance-report.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;

  it('is the ConformanceReport of the ported tests, all but the date (after changing cases, run `npm run conformance`)', () => {
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    const expected = buildReport(runs, { version, date: String(report.date), gatewayAPIVersion: GATEWAY_API_VERSION });
    expect(report).toEqual(expected);
  });

  it('has upstream shape: implementation, version, channel, profiles with core and extended statistics', () => {
    expect(report).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ConformanceReport', gatewayAPIVersion: GATEWAY_API_VERSION, mode: 'default' });
    const profiles = report.profiles as { name: string; core: { result: string; statistics: { Passed: number } }; extended?: { supportedFeatures?: string[] } }[];
    const http = profiles.find((p) => p.name === 'GATEWAY-HTTP')!;
    expect(http.core.result).toBe('success');
    expect(http.core.statistics.Passed).toBeGreaterThan(10);
    expect(http.extended?.supportedFeatures).toContain('HTTPRouteMethodMatching');
  });
});
