/**
 * The schemas' own refinements (their CEL rules), registered so that the acceptors can run them
 * directly. zod runs a superRefine through a wrapper that gives the payload a new `addIssue`
 * closure on every call; for the valid objects of a load, which are most of them, the acceptors
 * call the refinement itself with one shared context that only notes that an issue was added.
 * zod still runs the wrapper for every object an acceptor refuses, so issues stay zod's.
 */
import { z } from 'zod';

type Refine = (value: never, ctx: z.RefinementCtx) => void;

const refinements = new WeakMap<object, Refine>();

/**
 * `schema.check(refinement(fn))` is `schema.superRefine(fn)`, with `fn` known to the acceptors.
 * `fn` must be synchronous and use its context only to add issues.
 */
export function refinement<T>(fn: (value: T, ctx: z.RefinementCtx<T>) => void): z.core.$ZodCheck<T> {
  const check = z.superRefine(fn);
  refinements.set(check, fn as unknown as Refine);
  return check;
}

/** The refinement a check runs, if it was made by {@link refinement}. */
export function refinementOf(check: object): Refine | undefined {
  return refinements.get(check);
}
