/**
 * What one component reports after a reconcile, for each way it can end: disabled, held
 * at a gate, blocked by its own facts, failed, or run to the end and checked. Pure.
 */
import { Reason, type FlantIntegrationStatus } from '../api/index.js';
import { errorText, firstFailure, isTerminal, type ConditionInput } from '../reconciler/index.js';
import { conditionTypes, type AnyComponent, type ConditionChain, type ReadinessInput } from './contract.js';

/** What a component reports. */
export interface ComponentOutcome {
  /** The component's name, for messages. */
  readonly component: string;
  /** One condition for each type it owns. */
  readonly conditions: readonly ConditionInput[];
  /** Its part of the status, merged into the whole. */
  readonly status?: Partial<FlantIntegrationStatus>;
  /** Reconcile again after this long, e.g. to re-resolve DNS. */
  readonly requeueAfterMs?: number;
  /** A failure to retry with backoff, after the conditions above are written. */
  readonly error?: unknown;
}

/** Switched off: every condition True with reason Disabled. */
export function disabledOutcome(component: AnyComponent): ComponentOutcome {
  const message = `${component.enabledField} is false`;
  return {
    component: component.name,
    conditions: conditionTypes(component).map((type) => ({ type, status: 'True', reason: Reason.Disabled, message })),
  };
}

/** Held at a gate (licence, CRD): every condition False with `reason`; the status part is kept. */
export function heldOutcome(component: AnyComponent, status: FlantIntegrationStatus | undefined, reason: string, message: string): ComponentOutcome {
  return blockedOutcome(component, status, [{ type: conditionTypes(component)[0] ?? '', status: 'False', reason, message }]);
}

/** Blocked by its own facts: the given conditions, and the first one's reason for the types not given. */
export function blockedOutcome(
  component: AnyComponent,
  status: FlantIntegrationStatus | undefined,
  blocked: readonly ConditionInput[],
  error?: unknown,
): ComponentOutcome {
  const first = blocked[0];
  const conditions = conditionTypes(component).map(
    (type): ConditionInput =>
      blocked.find((c) => c.type === type) ?? {
        type,
        status: 'False',
        reason: first?.reason ?? Reason.Progressing,
        message: first?.message ?? 'waiting',
      },
  );
  return { component: component.name, conditions, status: kept(component, status), error };
}

/** Threw: its conditions say so, its status part is kept as it was, and it is retried (unless the error is terminal). */
export function failedOutcome(component: AnyComponent, err: unknown, status: FlantIntegrationStatus | undefined): ComponentOutcome {
  const message = `${errorText(err)} (${isTerminal(err) ? 'not retried until something changes' : 'retrying with backoff'})`;
  return {
    ...blockedOutcome(component, status, [{ type: conditionTypes(component)[0] ?? '', status: 'False', reason: Reason.APIError, message }]),
    error: err,
  };
}

/** Each condition from its chain of checks: the first failure, else True with reason Ready. */
export function evaluate<I>(chains: ReadonlyArray<ConditionChain<I>>, input: I): ConditionInput[] {
  return chains.map((chain): ConditionInput => {
    const failure = firstFailure(input, chain.checks);
    return failure
      ? { type: chain.type, status: 'False', ...failure }
      : { type: chain.type, status: 'True', reason: Reason.Ready, message: chain.ready(input) };
  });
}

/** Applied but for objects that exist and are not ours: every condition False with reason Conflict, naming them. */
export function conflictOutcome(applied: ComponentOutcome, conflicts: readonly string[]): ComponentOutcome {
  const message = conflicts.join('; ');
  return { ...applied, conditions: applied.conditions.map((c) => ({ ...c, status: 'False', reason: Reason.Conflict, message })) };
}

/** Applied: each condition from its chain of checks. */
export function readyOutcome(component: AnyComponent, input: ReadinessInput<unknown>, requeueAfterMs?: number): ComponentOutcome {
  return { component: component.name, conditions: evaluate(component.readiness, input), status: component.status?.(input.facts), requeueAfterMs };
}

function kept(component: AnyComponent, status: FlantIntegrationStatus | undefined): Partial<FlantIntegrationStatus> | undefined {
  const key = component.statusKey;
  return key && status?.[key] !== undefined ? { [key]: status[key] } : undefined;
}
