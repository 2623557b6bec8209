/**
 * metav1.Condition semantics, in exactly one helper: `lastTransitionTime` moves only when
 * `status` flips, `observedGeneration` is always stamped, the message is capped, and a list
 * that did not change compares equal so no status write follows.
 */
import { truncateBytes } from './redact.js';

/**
 * Longest condition message written, in bytes: metav1.Condition allows 32768, and one message
 * over it (a server's whole error page) makes the API server refuse the status patch, which
 * would freeze every condition. Cap after scrubbing secrets, so no cut hides a partial value.
 */
export const maxConditionMessageBytes = 2048;
/** Appended to a message that was cut. */
const cutMark = ' … (cut)';

/** A metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** What a check says about one condition; times and generations are added by {@link setCondition}. */
export interface ConditionInput {
  readonly type: string;
  readonly status: Condition['status'];
  readonly reason: string;
  readonly message: string;
}

/**
 * Returns `conditions` with `input` merged in: a new condition gets `now`; an existing
 * one keeps its `lastTransitionTime` unless the status changed. Order is kept; new types go last.
 */
export function setCondition(conditions: readonly Condition[], input: ConditionInput, generation: number, now: string): Condition[] {
  const existing = conditions.find((c) => c.type === input.type);
  const lastTransitionTime = existing && existing.status === input.status ? existing.lastTransitionTime : now;
  const message =
    Buffer.byteLength(input.message) > maxConditionMessageBytes
      ? truncateBytes(input.message, maxConditionMessageBytes - Buffer.byteLength(cutMark)) + cutMark
      : input.message;
  const next: Condition = { ...input, message, lastTransitionTime, observedGeneration: generation };
  return existing ? conditions.map((c) => (c.type === input.type ? next : c)) : [...conditions, next];
}

/** Removes the condition of `type`. */
export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

/** The condition of `type`, if present. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Conditions whose status differs between `before` and `after` (new ones count as changed). */
export function changedConditions(before: readonly Condition[], after: readonly Condition[]): Condition[] {
  return after.filter((c) => findCondition(before, c.type)?.status !== c.status || findCondition(before, c.type)?.reason !== c.reason);
}

/** A readiness check: nothing when it passes, else why not. */
export type Check<I> = (input: I) => { reason: string; message: string } | undefined;

/** Runs `checks` in order and returns the first failure, or undefined when all pass. */
export function firstFailure<I>(input: I, checks: ReadonlyArray<Check<I>>): { reason: string; message: string } | undefined {
  for (const check of checks) {
    const failure = check(input);
    if (failure) return failure;
  }
  return undefined;
}
