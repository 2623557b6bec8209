/**
 * The contract between the FlantIntegration reconciler and its components (madison,
 * metrics, logs, upmeter): each gets the same facts and tools, and answers with its
 * conditions and its part of the status.
 */
import type { Logger } from 'pino';
import type { ConditionTypeName, FlantIntegration, FlantIntegrationStatus } from '../api/index.js';
import type { Applier, Clock, ConditionInput, KindRef, KubeClient, KubeObject, OwnerReference, RESTMapper } from '../reconciler/index.js';
import type { LicenceResult, SecretLookup } from './licence.js';

/** Labels every object the controller creates carries (DESIGN.md section 2). */
export const managedByLabel = { key: 'app.kubernetes.io/managed-by', value: 'flant-integration' } as const;
/** Label naming the component that rendered an object. */
export const componentLabel = 'integration.flant.com/component';
/** Finalizer that makes the controller delete what it owns before the FlantIntegration goes. */
export const cleanupFinalizer = 'integration.flant.com/cleanup';

/** What every component gets for one reconcile. */
export interface ComponentContext {
  /** The FlantIntegration, defaults applied. */
  readonly fi: FlantIntegration;
  /** Owner reference to put on every namespaced object. */
  readonly owner: OwnerReference;
  readonly licence: LicenceResult;
  readonly clusterUUID: string;
  /** The status as stored now, for facts kept across restarts. */
  readonly status: FlantIntegrationStatus | undefined;
  readonly secrets: SecretLookup;
  /** Objects of a kind in the cache, when the component asked for an informer. */
  readonly cached: (apiVersion: string, kind: string) => readonly KubeObject[];
  readonly applier: Applier;
  readonly mapper: RESTMapper;
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
}

/** What a component reports after one reconcile. */
export interface ComponentOutcome {
  /** Its conditions; every type in {@link Component.conditionTypes} must be here. */
  readonly conditions: readonly ConditionInput[];
  /** Its part of the status, merged into the whole. */
  readonly status?: Partial<FlantIntegrationStatus>;
  /** Reconcile again after this long, e.g. to re-resolve DNS. */
  readonly requeueAfterMs?: number;
  /** A failure to retry with backoff, after the conditions above are written. */
  readonly error?: unknown;
}

/** One component. */
export interface Component {
  /** Value of the component label on its objects. */
  readonly name: string;
  /** Condition types it owns. */
  readonly conditionTypes: readonly ConditionTypeName[];
  /** Its part of the status (e.g. `madison`), kept as it was when a reconcile fails. */
  readonly statusKey?: keyof FlantIntegrationStatus;
  /** Kinds it may render, so prune and cleanup know where to look. */
  readonly kinds: readonly KindRef[];
  /** Makes its objects match the spec and reports. Throwing marks its conditions failed and retries. */
  reconcile(ctx: ComponentContext): Promise<ComponentOutcome>;
}
