/**
 * The choices of rules' backendRefs, as a pick needs them, made once per distinct content and
 * shared: one frozen target per backend (many rules name the same Service port), one Choice per
 * distinct backendRef without filters, one list per distinct list of them. Shared parts are
 * never written to. Part of the runtime compilation (gateway/runtime.ts), which makes each
 * rule's choices here.
 */
import type { BackendTarget } from '../types.js';
import type * as IR from '../ir/types.js';

/** One backendRef of a rule, as a pick needs it. */
export interface Choice {
  target: BackendTarget;
  state: IR.Backend['state'];
  registered: string | undefined;
  filters: IR.Filter[];
  message: string | undefined;
}

/**
 * The choices of a rule's backendRefs, shared where their content allows: a backendRef without
 * filters is one Choice per distinct (target, state, registered, message), and rules with the
 * same choices in the same order share one list (the rules of a route usually list the same
 * backendRefs). Choices, lists and targets are read-only once made. Called once per distinct IR
 * list of backends (compileRuntime keeps what it made by list).
 */
export function choiceLists(): (backends: IR.Backend[]) => Choice[] {
  const targets: Targets = new Map();
  /** Plain choices by target: the one choice, or every variant (state, registered, message) when there are several. */
  const plain = new Map<BackendTarget, Choice | Choice[]>();
  /** The plain choices (no filters), numbered: what lists of them are keyed by. */
  const ids = new Map<Choice, number>();
  /** Lists of plain choices by their ids: for two, one small integer (no key string is made); for more, the ids joined. */
  const lists = new Map<number | string, Choice[]>();
  const singles = new Map<Choice, Choice[]>();
  /** The choices of the list being made, before it is known to be new (reused). */
  const scratch: Choice[] = [];
  const choiceOf = (b: IR.Backend): Choice => {
    if (b.filters.length > 0) return { target: targetOf(targets, b), state: b.state, registered: b.registered, filters: b.filters, message: b.message };
    // One per distinct target and content: found by the target (itself found without a key).
    const t = targetOf(targets, b);
    const known = plain.get(t);
    if (known !== undefined && !Array.isArray(known) && isChoiceOf(known, b)) return known;
    if (Array.isArray(known)) for (const c of known) if (isChoiceOf(c, b)) return c;
    const c: Choice = { target: t, state: b.state, registered: b.registered, filters: b.filters, message: b.message };
    plain.set(t, known === undefined ? c : Array.isArray(known) ? [...known, c] : [known, c]);
    ids.set(c, ids.size);
    return c;
  };
  return (backends) => {
    const n = backends.length;
    if (n === 0) return NO_CHOICES;
    if (n === 1) {
      const c = choiceOf(backends[0]!);
      if (!ids.has(c)) return [c];
      let list = singles.get(c);
      if (list === undefined) singles.set(c, (list = [c]));
      return list;
    }
    let own = false; // a choice with filters makes the list the rule's own
    for (let i = 0; i < n; i++) {
      const c = choiceOf(backends[i]!);
      scratch[i] = c;
      if (!ids.has(c)) own = true;
    }
    if (own) return scratch.slice(0, n);
    const key = listKey(scratch, n, ids);
    const known = lists.get(key);
    if (known !== undefined) return known;
    const choices = scratch.slice(0, n);
    lists.set(key, choices);
    return choices;
  };
}

/** Whether the plain choice `c` is what backendRef `b` (without filters, of the same target) makes. */
function isChoiceOf(c: Choice, b: IR.Backend): boolean {
  return c.state === b.state && c.registered === b.registered && c.message === b.message;
}

/** The key of a list of `n` (two or more) plain choices: a small integer for two, else their ids joined by commas. */
function listKey(choices: Choice[], n: number, ids: Map<Choice, number>): number | string {
  const a = ids.get(choices[0]!)!;
  const b = ids.get(choices[1]!)!;
  if (n === 2 && a < 0x8000 && b < 0x8000) return a * 0x8000 + b;
  let key = `${a},${b}`;
  for (let i = 2; i < n; i++) key += `,${ids.get(choices[i]!)!}`;
  return key;
}

/** The choices of a rule without backendRefs: shared, never written to. */
const NO_CHOICES: Choice[] = [];

/**
 * Backend targets by namespace, then name: found with the strings at hand, no key is built. A
 * name's one target is held as is; a list is made only for a name's second (another port).
 */
type Targets = Map<string, Map<string, BackendTarget | BackendTarget[]>>;

/** The frozen target of a backendRef, one per distinct backend (many rules share a Service). */
function targetOf(targets: Targets, b: IR.Backend): BackendTarget {
  let byName = targets.get(b.namespace);
  if (!byName) targets.set(b.namespace, (byName = new Map()));
  const known = byName.get(b.name);
  if (known !== undefined && !Array.isArray(known) && isTargetOf(known, b)) return known;
  if (Array.isArray(known)) for (const t of known) if (isTargetOf(t, b)) return t;
  const t: BackendTarget = { group: b.group, kind: b.kind, namespace: b.namespace, name: b.name, port: b.port };
  if (b.appProtocol !== undefined) t.appProtocol = b.appProtocol;
  Object.freeze(t);
  byName.set(b.name, known === undefined ? t : Array.isArray(known) ? [...known, t] : [known, t]);
  return t;
}

/** Whether target `t` (of the backend's namespace and name) is backendRef `b`'s. */
function isTargetOf(t: BackendTarget, b: IR.Backend): boolean {
  return t.port === b.port && t.group === b.group && t.kind === b.kind;
}
