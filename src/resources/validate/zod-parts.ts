/**
 * The parts of zod's schema objects (internal, but stable within the major version) that the
 * acceptors read, and what acceptors are: see accept.ts.
 */

/** What an acceptor returns for a value it does not accept (or cannot decide). */
export const INVALID: unique symbol = Symbol('invalid');

/** Accepts a value: zod's output for it, or {@link INVALID}. */
export type Accept = (value: unknown) => unknown;

export interface Payload {
  value: unknown;
  issues: unknown[];
}
export interface ZodCheck {
  _zod: { def: { when?: (p: Payload) => boolean }; check: (p: Payload) => unknown };
}
export interface ZodNode {
  _zod: {
    def: { type: string; checks?: ZodCheck[]; coerce?: boolean; [key: string]: unknown };
    traits: Set<string>;
    optin?: 'optional' | 'defaulted';
    optout?: 'optional';
    values?: Set<unknown>;
  };
}

export interface Built {
  accept: Accept;
  /** INVALID from `accept` means zod refuses the value too (needed to take a union's later option). */
  exact: boolean;
}
