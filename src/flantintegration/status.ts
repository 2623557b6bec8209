/**
 * The FlantIntegration status, computed in one place: the licence condition, the
 * components' conditions, and `Ready` from all of them. Pure, so it is tested as a table.
 */
import { ConditionType, Reason, stalledReasons, type FlantIntegrationStatus } from '../api/index.js';
import { setCondition, type Condition, type ConditionInput } from '../reconciler/index.js';
import type { LicenceResult } from './licence.js';

/** The `LicenseValid` condition for a licence lookup. */
export function licenceCondition(licence: LicenceResult): ConditionInput {
  return licence.found
    ? { type: ConditionType.LicenseValid, status: 'True', reason: Reason.LicenseFound, message: `license key read from ${licence.source}` }
    : { type: ConditionType.LicenseValid, status: 'False', reason: licence.reason, message: licence.message };
}

/** `Ready`: True when every other condition is True. */
export function readyCondition(others: readonly ConditionInput[]): ConditionInput {
  const licence = others.find((c) => c.type === ConditionType.LicenseValid);
  if (licence && licence.status !== 'True') {
    return {
      type: ConditionType.Ready,
      status: 'False',
      reason: Reason.LicenseMissing,
      message: `nothing is shipped without a license: ${licence.message}`,
    };
  }
  const failing = others.filter((c) => c.status !== 'True');
  if (failing.length === 0) return { type: ConditionType.Ready, status: 'True', reason: Reason.Ready, message: 'every enabled component is ready' };
  return {
    type: ConditionType.Ready,
    status: 'False',
    reason: Reason.ComponentsNotReady,
    message: `not ready: ${failing.map((c) => `${c.type} (${c.reason})`).join(', ')}`,
  };
}

/**
 * kstatus' `Reconciling` or `Stalled`, True, when `Ready` is not; none when it is (abnormal-true:
 * absent means normal). Stalled wins: one condition that needs a person means the whole object
 * will not get ready by waiting, whatever else still converges.
 */
export function progressConditions(ready: ConditionInput, others: readonly ConditionInput[]): ConditionInput[] {
  if (ready.status === 'True') return [];
  const failing = others.filter((c) => c.status !== 'True');
  const stalled = failing.filter((c) => stalledReasons.has(c.reason));
  const [first] = stalled.length > 0 ? stalled : failing;
  if (!first) return [];
  const rest = (stalled.length > 0 ? stalled : failing).slice(1).map((c) => `${c.type} (${c.reason})`);
  const message = `${first.type}: ${first.message}${rest.length > 0 ? `; also ${rest.join(', ')}` : ''}`;
  return stalled.length > 0
    ? [{ type: ConditionType.Stalled, status: 'True', reason: first.reason, message: `needs a person: ${message}` }]
    : [{ type: ConditionType.Reconciling, status: 'True', reason: first.reason, message: `converging, retried on its own: ${message}` }];
}

/** Inputs of {@link buildStatus}. */
export interface StatusInput {
  readonly current: FlantIntegrationStatus | undefined;
  readonly generation: number;
  readonly clusterUUID: string;
  /** Conditions of the licence and of the components, in display order; Ready is added first. */
  readonly conditions: readonly ConditionInput[];
  /** Status parts reported by the components. */
  readonly parts: ReadonlyArray<Partial<FlantIntegrationStatus>>;
  /** Now, as RFC 3339, for conditions that change. */
  readonly now: string;
}

/** The whole status to write. Conditions no longer reported are dropped. */
export function buildStatus(input: StatusInput): FlantIntegrationStatus {
  const ready = readyCondition(input.conditions);
  const all = [ready, ...progressConditions(ready, input.conditions), ...input.conditions];
  const current = (input.current?.conditions ?? []) as Condition[];
  let conditions = current.filter((c) => all.some((a) => a.type === c.type));
  for (const c of all) conditions = setCondition(conditions, c, input.generation, input.now);
  const order = all.map((c) => c.type);
  conditions.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  const merged = Object.assign({}, ...input.parts) as Partial<FlantIntegrationStatus>;
  return { ...merged, observedGeneration: input.generation, conditions, clusterUUID: input.clusterUUID };
}

/** JSON with sorted keys, so two equal statuses compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}
