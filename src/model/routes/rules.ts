/**
 * The rules of a route as the model keeps them: their backendRefs and mirrors resolved, and
 * whether each is dropped (spec digest section 10.5). Part of resolveAttachments (model/attach.ts).
 */
import { refusedRegexes, type HTTPRouteFilter } from '../../resources/schemas-route.js';
import type { AnyRoute, RuleModel } from '../attach.js';
import type { BackendModel, References } from '../references.js';

/** The mirrors of a rule without RequestMirror filters (most rules): shared, never written to. */
const NO_MIRRORS: BackendModel[] = [];
const NO_BACKEND_REFS: never[] = [];

export function ruleModels(route: AnyRoute, ctx: References): RuleModel[] {
  const owner = { kind: route.kind, namespace: route.metadata.namespace! };
  const regexes = route.kind === 'TLSRoute' ? [] : refusedRegexes(route);
  const rules = (route.spec.rules ?? []) as { name?: string | undefined; filters?: HTTPRouteFilter[] | undefined; backendRefs?: Parameters<References['backend']>[1][] | undefined }[];
  // Sized exactly (it lives until the build ends); a loop, not map() with a closure per route.
  const out = new Array<RuleModel>(rules.length);
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    const refs = rule.backendRefs ?? NO_BACKEND_REFS;
    // Sized exactly (it lives until the build ends), without a closure per rule.
    let backends = new Array<BackendModel>(refs.length);
    let filtered = rule.filters !== undefined && rule.filters.length > 0;
    for (let i = 0; i < refs.length; i++) {
      backends[i] = ctx.backend(owner, refs[i]!);
      if (refs[i]!.filters !== undefined && refs[i]!.filters!.length > 0) filtered = true;
    }
    // The rules of a route usually list the same backendRefs: the same resolved backends then
    // share the previous rule's list (read-only, as the whole model), one list fewer per rule.
    if (index > 0 && sameList(out[index - 1]!.backends, backends)) backends = out[index - 1]!.backends;
    const model: RuleModel = { index, name: rule.name, valid: true, backends, mirrors: NO_MIRRORS };
    // Most rules have no filters at all: nothing to collect, resolve or check.
    if (filtered) {
      const allFilters = [...(rule.filters ?? []), ...refs.flatMap((b) => b.filters ?? [])];
      const mirrors = allFilters.filter((f) => f.type === 'RequestMirror' && f.requestMirror).map((f) => ctx.backend(owner, f.requestMirror!.backendRef));
      if (mirrors.length > 0) model.mirrors = mirrors;
      const problem = invalidRule(allFilters);
      if (problem) Object.assign(model, { valid: false, invalidReason: problem.reason, invalidMessage: problem.message });
    }
    // A regex RE2 cannot run: the CRD admits it, the controller drops the rule (digest 10.5).
    let regex: (typeof regexes)[number] | undefined;
    for (let i = 0; i < regexes.length && regex === undefined; i++) if (regexes[i]!.rule === index) regex = regexes[i];
    if (regex && model.valid) Object.assign(model, { valid: false, invalidReason: 'UnsupportedValue', invalidMessage: `regular expression ${JSON.stringify(regex.pattern)} is refused: ${regex.reason}` });
    out[index] = model;
  }
  return out;
}

/** Whether two lists hold the same backends in the same order. */
function sameList(a: BackendModel[], b: BackendModel[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Why a rule is dropped, if it is (spec digest section 10.5). */
function invalidRule(filters: HTTPRouteFilter[]): { reason: 'UnsupportedValue' | 'IncompatibleFilters'; message: string } | undefined {
  for (const f of filters) {
    if (f.type === 'ExternalAuth') return { reason: 'UnsupportedValue', message: 'the ExternalAuth filter (experimental) is not supported' };
    for (const mod of [f.requestHeaderModifier, f.responseHeaderModifier]) {
      if (!mod) continue;
      // One header name may appear in only one of set/add/remove (HTTPHeaderFilter docs).
      const seen = new Map<string, string>();
      const entries: [string, string][] = [
        ...(mod.set ?? []).map((h) => ['set', h.name] as [string, string]),
        ...(mod.add ?? []).map((h) => ['add', h.name] as [string, string]),
        ...(mod.remove ?? []).map((n) => ['remove', n] as [string, string]),
      ];
      for (const [action, name] of entries) {
        const lower = name.toLowerCase();
        const prev = seen.get(lower);
        if (prev !== undefined && prev !== action) {
          return { reason: 'IncompatibleFilters', message: `header ${name} appears in both ${prev} and ${action} of ${f.type}; use one action per header` };
        }
        seen.set(lower, action);
      }
    }
  }
  return undefined;
}
