/**
 * compileRuntime: the IR compiled for requests. The matcher (match/compile.ts) with, on each
 * candidate, the data a Decision needs (MatchCandidate); per rule, its picker and session source.
 */
import type { BackendTarget, ForwardDecision, RouteRef } from '../types.js';
import type * as IR from '../ir/types.js';
import { compileMatcher, type Candidate, type CompiledMatcher } from '../match/compile.js';
import type { PathOptions } from '../match/normalize.js';
import { pickerFactory, type Picker } from '../pick/weighted.js';
import { createStickyPicker, hash32, type StickyPicker } from '../pick/sticky.js';
import { sessionSource, type SessionSource, type StickyOption } from '../pick/session.js';
import { choiceLists, type Choice } from '../pick/choices.js';
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

/**
 * What a hit needs of its rule beyond its candidate. A plain rule (no filters, no session, a
 * stateless picker) is decided by its list of backends alone, so the plain rules listing the
 * same backends share one RuleRuntime (most rules of a large table are plain).
 */
export interface RuleRuntime {
  /** The rule's own filters (IR.Rule.filters). */
  filters: IR.Filter[];
  /** The rule's backendRefs (IR.Rule.backends). */
  backends: IR.Backend[];
  /** IR.Rule.zeroWeights: every backendRef has weight 0 (a function of `backends`). */
  zeroWeights: boolean;
  picker: Picker | null;
  /** Rendezvous picker for the `sticky` option's keys. */
  sticky: StickyPicker | null;
  session: SessionSource | null;
  /** Per backendRef, the prefix of its session tokens (sessionPersistence pins a session to one). */
  tokens: string[];
  /** True when any filter (rule or backend) may touch the request. */
  hasFilters: boolean;
  /** Per backendRef, what a pick needs, in one object each (fewer memory hops on a hit). */
  choices: Choice[];
  /** The only backendRef with weight > 0, or -1: that pick needs no picker call. */
  single: number;
  /** `choices[single]` when there is one, one hop closer. */
  singleChoice: Choice | null;
  // The rule's references, timeouts and retry policy are in its candidates (MatchCandidate), not
  // here: one copy fewer of four fields for every rule.
}

/**
 * A compiled candidate as the runtime makes it (see CandidateMaker in match/compile.ts): the
 * match's candidate fields, then the rule's runtime, and for the common case (no filters, no
 * session, one valid backendRef) every field of the forward Decision, so that a hit reads the
 * candidate the lookup returned and nothing else. One per candidate: at 10,000 routes a lookup is
 * bound by memory hops, and data shared by the rule's matches (its RuleRuntime) lies elsewhere in
 * the heap (measured: route() 5 to 15% slower at 10,000 routes); at 10 routes, a separate payload
 * object cost 4 to 8% (issue 13).
 */
export interface MatchCandidate extends Candidate {
  rr: RuleRuntime;
  /** Set when the rule has no filters, no session and exactly one live, valid backendRef. */
  fast: BackendTarget | null;
  /** With `fast`: the backend's registered name, if any. */
  fastRegistered: string | undefined;
  /**
   * Set when the rule has no filters, no session and two or more live backendRefs, all valid:
   * the picker's own function and the choices, so a weighted hit reads neither the rule nor its
   * picker object.
   */
  split: { pick: () => number; choices: Choice[] } | null;
  /**
   * For a split whose picker is `random`: its alias table, and per backendRef index its target
   * then its registered name: a weighted hit reads neither the picker's closure nor the choices
   * (measured at 10,000 routes, where each object read is a cache miss).
   */
  alias: readonly number[] | null;
  aliasTargets: (BackendTarget | string | undefined)[] | null;
  /** Frozen references shared by every Decision of this rule. */
  routeRef: RouteRef;
  ruleRef: { index: number; name?: string };
  /** The timeouts and retry policy as the Decision carries them (frozen, shared). */
  timeouts: ForwardDecision['timeouts'];
  retry: ForwardDecision['retry'];
}

/** The compiled, ready-to-route form of one IR. */
export interface Runtime {
  ir: IR.Gateway;
  matcher: CompiledMatcher;
  options: Required<Pick<RoutingOptions, 'picker' | 'hostFallthrough' | 'extensions'>> & { random: () => number; paths: PathOptions };
}

export function compileRuntime(ir: IR.Gateway, options: RoutingOptions): Runtime {
  const random = options.random ?? Math.random;
  const picker = options.picker ?? 'random';
  const pickerFor = pickerFactory(picker, random);
  // Runs for every rule at every load. What rules can share is made once and shared: the frozen
  // references (one per route, one per unnamed rule index, one per backend), the choices of
  // backends without filters and the lists of choices (pick/choices.ts), stateless pickers (by
  // weights), and the inline split data of the candidates. Shared parts are never written to.
  const routeRefs: RouteRef[] = [];
  const unnamedRuleRefs: { index: number }[] = [];
  /** The references of named rules, by rule index (few tables name their rules). */
  const namedRuleRefs = new Map<number, { index: number; name: string }>();
  const choicesOf = choiceLists();
  const rulesIR = ir.rules;
  // By rule index, sized exactly: at 50,000 routes a list grown by push leaves about twice its
  // final size of discarded storage in the heap (large objects, freed only by a full collection).
  const rules = new Array<RuleRuntime>(rulesIR.length);
  /** What a rule's candidates carry inline, by rule index (see MatchCandidate); only read while compiling. */
  const inlines = new Array<Inline>(rulesIR.length);
  /** What a rule's backends decide, once per distinct list (rules listing the same backends share the IR's list). */
  const facts = new Map<IR.Backend[], ListFacts>();
  for (let r = 0; r < rulesIR.length; r++) {
    const rule = rulesIR[r]!;
    const backends = rule.backends;
    let f = facts.get(backends);
    if (f === undefined) facts.set(backends, (f = listFacts(backends, choicesOf(backends), picker === 'smooth' ? null : pickerFor)));
    const { weights, live, choices } = f;
    const single = f.single;
    const hasFilters = f.hasFilters || rule.filters.length > 0;
    // (sessionSource allocates its closures' context on every call: most rules need not call it.)
    const session = rule.session === undefined && options.sticky === undefined ? null : sessionSource(rule, options.sticky);
    // Backend ids (for sticky hashing and session tokens) only matter to rules with sessions.
    const ids = session === null ? NO_IDS : backendIds(backends);
    const route = ir.routes[rule.route]!;
    routeRefs[rule.route] ??= Object.freeze({ kind: route.kind, namespace: route.namespace, name: route.name });
    if (rule.name !== undefined) namedRuleRefs.set(r, Object.freeze({ index: rule.index, name: rule.name }));
    else unnamedRuleRefs[rule.index] ??= Object.freeze({ index: rule.index });
    freeze(rule.timeouts);
    freeze(rule.retry);
    const singleChoice = single >= 0 ? choices[single]! : null;
    // Stateless pickers are shared through the list's facts; a smooth picker is the rule's own.
    const rulePicker = live === 0 ? null : picker === 'smooth' ? pickerFor(weights) : f.picker;
    // A plain rule's runtime is its list's (see RuleRuntime); the others have their own.
    const plain = !hasFilters && session === null && rulePicker === f.picker;
    const rr: RuleRuntime =
      plain && f.plain !== undefined
        ? f.plain
        : {
            filters: rule.filters,
            backends,
            zeroWeights: rule.zeroWeights,
            picker: rulePicker,
            sticky: session && !session.start ? createStickyPicker(ids, weights) : null,
            session,
            tokens: ids.length === 0 ? NO_IDS : ids.map((id) => hash32(id, 0x5bd1e995).toString(36)),
            hasFilters,
            choices,
            single,
            singleChoice,
          };
    if (plain) f.plain = rr;
    rules[r] = rr;
    // The inline data of the rule's candidates (see MatchCandidate): one object per distinct list of
    // backends for the plain rules (no filters, no session) with a stateless picker.
    if (hasFilters || session !== null) inlines[r] = NOT_INLINE;
    else if (picker === 'smooth' && singleChoice === null && rulePicker !== null) inlines[r] = inlineOf(f, rulePicker);
    else inlines[r] = f.inline ??= inlineOf(f, rulePicker);
  }
  // Each candidate carries the rule's data inline (see MatchCandidate), pointing at the shared parts.
  const matcher = compileMatcher(ir, regexTest, (m, rank, c, listener): MatchCandidate => {
    const rr = rules[m.rule]!;
    const s = inlines[m.rule]!;
    const rule = rulesIR[m.rule]!;
    const ruleRef = rule.name !== undefined ? namedRuleRefs.get(m.rule)! : unnamedRuleRefs[rule.index]!;
    return {
      match: m,
      rank,
      test: c.test,
      checks: c.checks,
      scan: c.scan,
      index: m.index,
      listener,
      rr,
      fast: s.fast,
      fastRegistered: s.fastRegistered,
      split: s.split,
      alias: s.alias,
      aliasTargets: s.aliasTargets,
      routeRef: routeRefs[rule.route]!,
      ruleRef,
      timeouts: rule.timeouts,
      retry: rule.retry,
    };
  });
  return {
    ir,
    matcher,
    options: {
      picker,
      hostFallthrough: options.hostFallthrough ?? false,
      random,
      extensions: options.extensions ?? {},
      paths: { mergeSlashes: options.mergeSlashes === true, escapedSlashes: options.escapedSlashes ?? 'keep' },
    },
  };
}

/** What a list of backends decides for the rules listing it. */
interface ListFacts {
  weights: number[];
  /** How many backends have weight > 0. */
  live: number;
  /** The only backend with weight > 0, or -1. */
  single: number;
  /** Every backend with weight > 0 is valid. */
  allValid: boolean;
  /** Some backend has filters. */
  hasFilters: boolean;
  choices: Choice[];
  /** The stateless picker of these weights (null for the smooth kind, or when no weight is live). */
  picker: Picker | null;
  /** The inline data of plain rules listing these backends (made on first use). */
  inline?: Inline;
  /** The RuleRuntime of plain rules listing these backends (made on first use). */
  plain?: RuleRuntime;
}

function listFacts(backends: IR.Backend[], choices: Choice[], pickerFor: ((weights: readonly number[]) => Picker | null) | null): ListFacts {
  let live = 0;
  let single = -1;
  let allValid = true;
  let hasFilters = false;
  const weights: number[] = new Array<number>(backends.length);
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i]!;
    weights[i] = b.weight;
    if (b.weight > 0) {
      live++;
      single = i;
      if (b.state !== 'ok') allValid = false;
    }
    if (b.filters.length > 0) hasFilters = true;
  }
  if (live !== 1) single = -1;
  return { weights, live, single, allValid, hasFilters, choices, picker: live > 0 && pickerFor !== null ? pickerFor(weights) : null };
}

/** What a rule's candidates carry inline besides its references (see MatchCandidate). */
type Inline = Pick<MatchCandidate, 'fast' | 'fastRegistered' | 'split' | 'alias' | 'aliasTargets'>;

/** The inline data of rules with filters or a session: nothing (their hits read the rule). */
const NOT_INLINE: Inline = Object.freeze({ fast: null, fastRegistered: undefined, split: null, alias: null, aliasTargets: null });

/** The inline data of a plain rule (no filters, no session) with these backends and this picker. */
function inlineOf(f: ListFacts, picker: Picker | null): Inline {
  const c = f.single >= 0 ? f.choices[f.single]! : null;
  const fast = c !== null && c.state === 'ok' ? c.target : null;
  if (c !== null || picker === null || !f.allValid) return { fast, fastRegistered: fast !== null ? c!.registered : undefined, split: null, alias: null, aliasTargets: null };
  const split = { pick: picker.pick, choices: f.choices };
  if (picker.table === undefined) return { fast: null, fastRegistered: undefined, split, alias: null, aliasTargets: null };
  const targets: (BackendTarget | string | undefined)[] = [];
  for (let i = 0; i < f.choices.length; i++) targets.push(f.choices[i]!.target, f.choices[i]!.registered);
  // Kept as long as the router: a copy of exactly its length (push reserves 17 slots).
  return { fast: null, fastRegistered: undefined, split, alias: picker.table, aliasTargets: targets.slice() };
}

/**
 * Backend ids for sticky hashing and session tokens: `namespace/name:port#n`, n counting earlier
 * refs to the same backend. (A function of its own: a closure in the rules loop that captured a
 * loop variable would make V8 allocate a context for every rule.)
 */
function backendIds(backends: IR.Backend[]): string[] {
  return backends.map((b, i) => `${b.namespace}/${b.name}:${b.port ?? ''}#${backends.slice(0, i).filter((o) => o.name === b.name && o.namespace === b.namespace && o.port === b.port).length}`);
}

/** The ids and tokens of a rule without sessions: shared, never written to. */
const NO_IDS: string[] = [];

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
