/**
 * The conformance report and the supported features, computed from the ported cases and their
 * outcomes. One home: `npm run conformance` (scripts/conformance.ts) writes
 * docs/conformance-report.yaml and src/gateway/report/features.ts with it, and features.test.ts checks
 * both files against it. The report has the shape of upstream's ConformanceReport
 * (kubernetes-sigs/gateway-api conformance/apis/v1: implementation, gatewayAPIVersion, profiles
 * with core and extended results and statistics).
 */
import type { ConformanceCase } from './runner.js';

export type Outcome = 'passed' | 'failed' | 'skipped';

/** One upstream test (ShortName) as run here: a case, or one of its variants. */
export interface TestRun {
  /** The ported case file stem. */
  caseName: string;
  /** Upstream's ShortName. */
  shortName: string;
  features: string[];
  outcome: Outcome;
}

/** The label the conformance test suite gives a manifest set: '' for a case without variants. */
export function runsOf(c: ConformanceCase, outcome: (caseName: string, label: string) => Outcome): TestRun[] {
  if (!c.variants || c.variants.length === 0) {
    return c.shortName.split(',').map((s) => ({ caseName: c.name, shortName: s.trim(), features: c.features, outcome: outcome(c.name, '') }));
  }
  const first = c.shortName.split(',')[0]!.trim();
  return [
    { caseName: c.name, shortName: first, features: c.features, outcome: outcome(c.name, first) },
    ...c.variants.map((v) => ({ caseName: c.name, shortName: v.shortName, features: v.features, outcome: outcome(c.name, v.shortName) })),
  ];
}

/** The outcomes as the case files state them: skipped when `skip` is set, else passed (conformance.test.ts enforces it). */
export function declaredOutcome(cases: readonly ConformanceCase[]): (caseName: string) => Outcome {
  const skipped = new Set(cases.filter((c) => c.skip !== undefined).map((c) => c.name));
  return (name) => (skipped.has(name) ? 'skipped' : 'passed');
}

/** Upstream's profiles and the features of their core support level. */
export const PROFILES: Record<string, string[]> = {
  'GATEWAY-HTTP': ['Gateway', 'HTTPRoute', 'ReferenceGrant'],
  'GATEWAY-GRPC': ['Gateway', 'GRPCRoute', 'ReferenceGrant'],
  'GATEWAY-TLS': ['Gateway', 'TLSRoute', 'ReferenceGrant'],
};

function profileOf(run: TestRun): string {
  if (run.features.includes('GRPCRoute')) return 'GATEWAY-GRPC';
  if (run.features.includes('TLSRoute') && !run.features.includes('HTTPRoute')) return 'GATEWAY-TLS';
  return 'GATEWAY-HTTP';
}

const CORE = new Set(Object.values(PROFILES).flat());

/**
 * The features this implementation supports: the largest set such that every test whose features
 * it covers passes (as upstream runs a test only when all its features are claimed). A test that
 * does not pass removes its extended features, or its core ones when it has no other.
 */
export function supportedFeatures(runs: readonly TestRun[]): string[] {
  const supported = new Set(runs.flatMap((r) => r.features));
  for (let changed = true; changed; ) {
    changed = false;
    for (const r of runs) {
      if (r.outcome === 'passed' || !r.features.every((f) => supported.has(f))) continue;
      const extended = r.features.filter((f) => !CORE.has(f));
      for (const f of extended.length > 0 ? extended : r.features) supported.delete(f);
      changed = true;
    }
  }
  return [...supported].sort();
}

interface Statistics {
  Failed: number;
  Passed: number;
  Skipped: number;
}

interface Status {
  result: 'success' | 'partial' | 'failure';
  statistics: Statistics;
  skippedTests?: string[];
  failedTests?: string[];
}

function status(runs: readonly TestRun[]): Status {
  const by = (o: Outcome) => runs.filter((r) => r.outcome === o).map((r) => r.shortName).sort();
  const failed = by('failed');
  const skipped = by('skipped');
  return {
    result: failed.length > 0 ? 'failure' : skipped.length > 0 ? 'partial' : 'success',
    statistics: { Failed: failed.length, Passed: by('passed').length, Skipped: skipped.length },
    ...(skipped.length > 0 ? { skippedTests: skipped } : {}),
    ...(failed.length > 0 ? { failedTests: failed } : {}),
  };
}

function summaryOf(level: string, s: Status): string {
  if (s.result === 'success') return `${level} tests succeeded.`;
  if (s.result === 'partial') return `${level} tests partially succeeded with ${s.statistics.Skipped} test skips.`;
  return `${level} tests failed with ${s.statistics.Failed} test failures.`;
}

/** What the report says about the implementation. */
export interface ReportMeta {
  version: string;
  date: string;
  gatewayAPIVersion: string;
}

/** The ConformanceReport object (YAML-ready), profiles in name order. */
export function buildReport(runs: readonly TestRun[], meta: ReportMeta): Record<string, unknown> {
  const supported = new Set(supportedFeatures(runs));
  const profiles = Object.keys(PROFILES)
    .sort()
    .flatMap((name) => {
      const mine = runs.filter((r) => profileOf(r) === name);
      if (mine.length === 0) return [];
      const core = new Set(PROFILES[name]);
      const coreRuns = mine.filter((r) => r.features.every((f) => core.has(f)));
      const extRuns = mine.filter((r) => !r.features.every((f) => core.has(f)));
      const extFeatures = [...new Set(extRuns.flatMap((r) => r.features).filter((f) => !core.has(f)))].sort();
      const coreStatus = status(coreRuns);
      const extStatus = status(extRuns);
      const extendedSupported = extFeatures.filter((f) => supported.has(f));
      const extendedUnsupported = extFeatures.filter((f) => !supported.has(f));
      return [
        {
          core: coreStatus,
          ...(extRuns.length > 0
            ? { extended: { ...extStatus, ...(extendedSupported.length > 0 ? { supportedFeatures: extendedSupported } : {}), ...(extendedUnsupported.length > 0 ? { unsupportedFeatures: extendedUnsupported } : {}) } }
            : {}),
          name,
          summary: [summaryOf('Core', coreStatus), ...(extRuns.length > 0 ? [summaryOf('Extended', extStatus)] : [])].join(' '),
        },
      ];
    });
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ConformanceReport',
    date: meta.date,
    gatewayAPIChannel: 'experimental',
    gatewayAPIVersion: meta.gatewayAPIVersion,
    implementation: {
      contact: [],
      organization: 'gateway-api-router',
      project: 'gateway-api-router',
      url: 'https://www.npmjs.com/package/gateway-api-router',
      version: meta.version,
    },
    mode: 'default',
    profiles,
  };
}

/** The Gateway API release the ported tests follow (spec digest: v1.6.1, some main-only rules). */
export const GATEWAY_API_VERSION = 'v1.6.1';

/** src/gateway/report/features.ts for a list of supported features. */
export function featuresSource(features: readonly string[]): string {
  return `// Generated by \`npm run conformance\` (scripts/conformance.ts) from the ported tests in
// test/conformance; test/conformance/features.test.ts checks it. Do not edit by hand.

/** The conformance features whose ported tests pass; written to GatewayClass status.supportedFeatures. */
export const SUPPORTED_FEATURES: readonly string[] = [
${features.map((f) => `  '${f}',`).join('\n')}
];
`;
}
