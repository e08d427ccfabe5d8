/**
 * compileRuntime: the IR compiled for requests. The matcher (match/compile.ts) with, on each
 * candidate, a payload holding what a Decision needs; per rule, its picker and session source.
 */
import type { BackendTarget, ForwardDecision, RouteRef } from '../types.js';
import type * as IR from '../ir/types.js';
import { compileMatcher, type CompiledMatcher } from '../match/compile.js';
import type { PathOptions } from '../match/normalize.js';
import { createPicker, type Picker } from '../pick/weighted.js';
import { createStickyPicker, hash32, type StickyPicker } from '../pick/sticky.js';
import { sessionSource, type SessionSource, type StickyOption } from '../pick/session.js';
import type { ExtensionFilter } from '../filters/apply.js';
import { compileFullMatch } from '../resources/schemas-shared.js';

/** Routing options (part of createGateway's options). */
export interface RoutingOptions extends PathOptions {
  /** `random` (default; stateless, like Envoy) or `smooth` (deterministic, exact over every window of sum(weights) picks). */
  picker?: 'random' | 'smooth';
  /** Random source in [0, 1) for the `random` picker. Default `Math.random`. */
  random?: () => number;
  /**
   * When no match of the most specific hostname matches, try less specific hostnames
   * (wildcards, then any-host). Default false: virtual-host semantics, as Envoy-based
   * implementations (spec digest 5.2).
   */
  hostFallthrough?: boolean;
  /**
   * ExtensionRef filters, keyed `group/Kind/name` as the filter's extensionRef names them. A
   * filter may change the request or answer it. An ExtensionRef nobody registered answers 500.
   */
  extensions?: Record<string, ExtensionFilter>;
  /**
   * Sticky weighted splits for every rule: the session key is this cookie's or header's value,
   * or what the function returns. A request without a key gets the ordinary pick. Rules with
   * `sessionPersistence` use their own cookie or header instead. Default: none.
   */
  sticky?: StickyOption;
}

export interface RuleRuntime {
  rule: IR.Rule;
  picker: Picker | null;
  /** Rendezvous picker for the `sticky` option's keys. */
  sticky: StickyPicker | null;
  session: SessionSource | null;
  /** Per backendRef, the prefix of its session tokens (sessionPersistence pins a session to one). */
  tokens: string[];
  /** Frozen references shared by every Decision of this rule. */
  routeRef: RouteRef;
  ruleRef: { index: number; name?: string };
  /** True when any filter (rule or backend) may touch the request. */
  hasFilters: boolean;
  timeouts: { request?: number; backendRequest?: number } | undefined;
  /** Per backendRef, what a pick needs, in one object each (fewer memory hops on a hit). */
  choices: Choice[];
  /** The only backendRef with weight > 0, or -1: that pick needs no picker call. */
  single: number;
  /** `choices[single]` when there is one, one hop closer. */
  singleChoice: Choice | null;
  /** The retry policy as the Decision carries it (frozen, shared). */
  retry: ForwardDecision['retry'];
}

/** One backendRef of a rule, as a pick needs it. */
export interface Choice {
  target: BackendTarget;
  state: IR.Backend['state'];
  registered: string | undefined;
  filters: IR.Filter[];
  message: string | undefined;
}

/**
 * What each compiled candidate carries (its payload): the rule's runtime, and for the common
 * case (no filters, no session, one valid backendRef) every field of the forward Decision, so a
 * hit reads one object. One per candidate, allocated beside it: at 10,000 routes a lookup is
 * bound by memory hops, and a payload shared by the rule's matches (its RuleRuntime) lies
 * elsewhere in the heap (measured: route() 5 to 15% slower at 10,000 routes).
 */
export interface MatchPayload {
  rr: RuleRuntime;
  /** Set when the rule has no filters, no session and exactly one live, valid backendRef. */
  fast: BackendTarget | null;
  /** With `fast`: the backend's registered name, if any (in the payload itself: one object read fewer). */
  fastRegistered: string | undefined;
  /**
   * Set when the rule has no filters, no session and two or more live backendRefs, all valid:
   * the picker's own function and the choices, beside the candidate, so a weighted hit reads
   * neither the rule nor its picker object.
   */
  split: { pick: () => number; choices: Choice[] } | null;
  /**
   * For a split whose picker is `random`: its alias table, and per backendRef index its target
   * then its registered name, beside the candidate: a weighted hit reads neither the picker's
   * closure nor the choices (measured at 10,000 routes, where each object read is a cache miss).
   */
  alias: readonly number[] | null;
  aliasTargets: (BackendTarget | string | undefined)[] | null;
  routeRef: RouteRef;
  ruleRef: { index: number; name?: string };
  timeouts: ForwardDecision['timeouts'];
  retry: ForwardDecision['retry'];
}

/** The compiled, ready-to-route form of one IR. */
export interface Runtime {
  ir: IR.Gateway;
  matcher: CompiledMatcher;
  rules: RuleRuntime[];
  options: Required<Pick<RoutingOptions, 'picker' | 'hostFallthrough' | 'extensions'>> & { random: () => number; paths: PathOptions };
}

export function compileRuntime(ir: IR.Gateway, options: RoutingOptions): Runtime {
  const random = options.random ?? Math.random;
  const picker = options.picker ?? 'random';
  // The frozen references are shared as widely as their content allows: one per route, one per
  // unnamed rule index, one per backend. This runs for every rule at every load.
  const routeRefs: RouteRef[] = [];
  const unnamedRuleRefs: { index: number }[] = [];
  const targets: Targets = new Map();
  const rules: RuleRuntime[] = [];
  for (const rule of ir.rules) {
    const backends = rule.backends;
    let live = 0;
    let single = -1;
    let hasFilters = rule.filters.length > 0;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i]!;
      if (b.weight > 0) {
        live++;
        single = i;
      }
      if (b.filters.length > 0) hasFilters = true;
    }
    if (live !== 1) single = -1;
    // map() sizes these arrays exactly; most rules have one backendRef.
    const weights = backends.map((b) => b.weight);
    const choices = backends.map((b): Choice => ({ target: targetOf(targets, b), state: b.state, registered: b.registered, filters: b.filters, message: b.message }));
    const session = sessionSource(rule, options.sticky);
    // Backend ids (for sticky hashing and session tokens) only matter to rules with sessions.
    const ids = session === null ? NO_IDS : backends.map((b, i) => `${b.namespace}/${b.name}:${b.port ?? ''}#${backends.slice(0, i).filter((o) => o.name === b.name && o.namespace === b.namespace && o.port === b.port).length}`);
    const route = ir.routes[rule.route]!;
    const singleChoice = single >= 0 ? choices[single]! : null;
    rules.push({
      rule,
      picker: createPicker(weights, picker, random),
      sticky: session && !session.start ? createStickyPicker(ids, weights) : null,
      session,
      tokens: ids.length === 0 ? NO_IDS : ids.map((id) => hash32(id, 0x5bd1e995).toString(36)),
      timeouts: freeze(rule.timeouts),
      routeRef: (routeRefs[rule.route] ??= Object.freeze({ kind: route.kind, namespace: route.namespace, name: route.name })),
      ruleRef: rule.name !== undefined ? Object.freeze({ index: rule.index, name: rule.name }) : (unnamedRuleRefs[rule.index] ??= Object.freeze({ index: rule.index })),
      hasFilters,
      choices,
      single,
      singleChoice,
      retry: freeze(rule.retry),
    });
  }
  // What a rule's candidates share is computed once per rule; each candidate still gets its own
  // payload object (see MatchPayload), which points at these.
  const shared: (Omit<MatchPayload, 'routeRef' | 'ruleRef' | 'timeouts' | 'retry'> | undefined)[] = [];
  const sharedOf = (i: number): Omit<MatchPayload, 'routeRef' | 'ruleRef' | 'timeouts' | 'retry'> => {
    const known = shared[i];
    if (known !== undefined) return known;
    const rr = rules[i]!;
    const c = rr.singleChoice;
    const plain = !rr.hasFilters && rr.session === null;
    const fast = plain && c !== null && c.state === 'ok' ? c.target : null;
    const split = plain && c === null && rr.picker !== null && rr.choices.every((b, k) => b.state === 'ok' || rr.rule.backends[k]!.weight === 0) ? { pick: rr.picker.pick, choices: rr.choices } : null;
    const alias = split !== null && rr.picker!.table !== undefined ? rr.picker!.table : null;
    const aliasTargets = alias === null ? null : rr.choices.flatMap((b) => [b.target, b.registered]);
    return (shared[i] = { rr, fast, fastRegistered: fast !== null ? c!.registered : undefined, split, alias, aliasTargets });
  };
  const matcher = compileMatcher(ir, regexTest, (m): MatchPayload => {
    const s = sharedOf(m.rule);
    const rr = s.rr;
    return { rr, fast: s.fast, fastRegistered: s.fastRegistered, split: s.split, alias: s.alias, aliasTargets: s.aliasTargets, routeRef: rr.routeRef, ruleRef: rr.ruleRef, timeouts: rr.timeouts, retry: rr.retry };
  });
  return {
    ir,
    matcher,
    rules,
    options: {
      picker,
      hostFallthrough: options.hostFallthrough ?? false,
      random,
      extensions: options.extensions ?? {},
      paths: { mergeSlashes: options.mergeSlashes === true, escapedSlashes: options.escapedSlashes ?? 'keep' },
    },
  };
}

/** The ids and tokens of a rule without sessions: shared, never written to. */
const NO_IDS: string[] = [];

/** Backend targets by namespace, then name: found with the strings at hand, no key is built. */
type Targets = Map<string, Map<string, BackendTarget[]>>;

/** The frozen target of a backendRef, one per distinct backend (many rules share a Service). */
function targetOf(targets: Targets, b: IR.Backend): BackendTarget {
  let byName = targets.get(b.namespace);
  if (!byName) targets.set(b.namespace, (byName = new Map()));
  let list = byName.get(b.name);
  if (!list) byName.set(b.name, (list = []));
  for (const t of list) if (t.port === b.port && t.group === b.group && t.kind === b.kind) return t;
  const t: BackendTarget = Object.freeze({ group: b.group, kind: b.kind, namespace: b.namespace, name: b.name, port: b.port, ...(b.appProtocol !== undefined ? { appProtocol: b.appProtocol } : {}) });
  list.push(t);
  return t;
}

/** The shared, frozen empty list of Decisions without response header operations or mirrors. */
export const NONE: never[] = Object.freeze([]) as never[];

function freeze<T>(o: T): T {
  return o === undefined ? o : Object.freeze(o);
}

/** The RE2 full-match test of a pattern, for the matcher (null when it does not compile). */
function regexTest(pattern: string): ((input: string) => boolean) | null {
  const r = compileFullMatch(pattern);
  return r.ok ? r.test : null;
}
