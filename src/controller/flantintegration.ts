/**
 * The FlantIntegration reconciler: fetch, finalize, gather facts, let each component
 * reconcile, write the status (only when it changed) and an Event per condition change.
 */
import type { Logger } from 'pino';
import {
  apiVersion,
  flantIntegrationSchema,
  kind,
  plural,
  group,
  version,
  Reason,
  type FlantIntegration,
  type FlantIntegrationStatus,
} from '../api/index.js';
import {
  changedConditions,
  errorText,
  rfc3339,
  TerminalError,
  type Applier,
  type Clock,
  type Condition,
  type ConditionInput,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type KubeObject,
  type OwnerReference,
  type Reconciler,
  type Result,
  type RESTMapper,
} from '../reconciler/index.js';
import { cleanupFinalizer, type Component, type ComponentContext, type ComponentOutcome } from './component.js';
import { resolveLicence, type Secret, type SecretLookup } from './licence.js';
import { buildStatus, canonical, licenceCondition } from './status.js';

/** What the reconciler works with. */
export interface FlantIntegrationDeps {
  readonly client: KubeClient;
  readonly mapper: RESTMapper;
  readonly applier: Applier;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly flantIntegrations: Informer;
  readonly secrets: Informer<Secret>;
  readonly components: readonly Component[];
  /** Cached objects of other kinds the components watch. */
  readonly cached?: (apiVersion: string, kind: string) => readonly KubeObject[];
}

/** REST path of the FlantIntegration collection. */
export const flantIntegrationsPath = `/apis/${group}/${version}/${plural}`;

/** Reconciles the one FlantIntegration. */
export class FlantIntegrationReconciler implements Reconciler {
  private kubeSystemUID?: string;

  constructor(private readonly deps: FlantIntegrationDeps) {}

  async reconcile(key: string, log: Logger): Promise<Result | void> {
    const raw = this.deps.flantIntegrations.get(key);
    if (!raw) return;
    if (raw.metadata?.deletionTimestamp) return this.finalize(raw, log);
    await this.ensureFinalizer(raw);
    const fi = parse(raw);
    const ctx = await this.gatherFacts(fi, raw, log);
    await this.ensureNamespace(fi.spec.namespace);
    const { outcomes, failures } = await this.reconcileComponents(ctx);
    await this.writeStatus(raw, ctx, outcomes);
    if (failures.length > 0) throw new Error(`components failed: ${failures.join('; ')}`);
    const requeues = outcomes.map((o) => o.requeueAfterMs).filter((ms): ms is number => ms !== undefined);
    return requeues.length > 0 ? { requeueAfterMs: Math.min(...requeues) } : undefined;
  }

  private lookup(): SecretLookup {
    return (namespace, name) => this.deps.secrets.get(`${namespace}/${name}`);
  }

  private async gatherFacts(fi: FlantIntegration, raw: KubeObject, log: Logger): Promise<ComponentContext> {
    const { client, mapper, applier, clock } = this.deps;
    return {
      fi,
      owner: ownerReference(raw),
      licence: resolveLicence(fi.spec.licenseKeySecretRef, this.lookup()),
      clusterUUID: fi.spec.clusterUUID ?? (await this.clusterUUID()),
      status: fi.status,
      secrets: this.lookup(),
      cached: this.deps.cached ?? (() => []),
      applier,
      mapper,
      client,
      clock,
      log,
    };
  }

  /** The UID of `kube-system`, read once: it never changes while the cluster lives. */
  private async clusterUUID(): Promise<string> {
    if (!this.kubeSystemUID) {
      const ns = await this.deps.client.request<KubeObject>('GET', '/api/v1/namespaces/kube-system');
      this.kubeSystemUID = ns.metadata?.uid ?? '';
    }
    return this.kubeSystemUID;
  }

  private async reconcileComponents(ctx: ComponentContext): Promise<{ outcomes: ComponentOutcome[]; failures: string[] }> {
    const outcomes: ComponentOutcome[] = [];
    const failures: string[] = [];
    for (const component of this.deps.components) {
      try {
        const outcome = await component.reconcile({ ...ctx, log: ctx.log.child({ component: component.name }) });
        if (outcome.error !== undefined) failures.push(`${component.name}: ${errorText(outcome.error)}`);
        outcomes.push(outcome);
      } catch (err) {
        failures.push(`${component.name}: ${errorText(err)}`);
        ctx.log.error({ component: component.name, err: errorText(err) }, 'component failed');
        outcomes.push(failedOutcome(component, err, ctx.status));
      }
    }
    return { outcomes, failures };
  }

  private async writeStatus(raw: KubeObject, ctx: ComponentContext, outcomes: ComponentOutcome[]): Promise<void> {
    const current = ctx.fi.status;
    const conditions = [licenceCondition(ctx.licence), ...outcomes.flatMap((o) => o.conditions)];
    const status = buildStatus({
      current,
      generation: raw.metadata?.generation ?? 0,
      clusterUUID: ctx.clusterUUID,
      conditions,
      parts: outcomes.map((o) => o.status ?? {}),
      now: rfc3339(this.deps.clock.now()),
    });
    if (canonical(status) === canonical(current ?? {})) return;
    await this.deps.client.request('PATCH', `${flantIntegrationsPath}/${raw.metadata?.name ?? ''}/status`, {
      body: { status: withNulls(status, current) },
      contentType: 'application/merge-patch+json',
    });
    ctx.log.info({ conditions: status.conditions?.map((c) => `${c.type}=${c.status}`) }, 'status updated');
    for (const c of changedConditions((current?.conditions ?? []) as Condition[], (status.conditions ?? []) as Condition[])) {
      const warning = c.status !== 'True';
      await this.deps.events.record(raw, warning ? 'Warning' : 'Normal', c.reason, `${c.type}: ${c.message}`);
    }
  }

  /** The workloads' namespace; created when missing, never deleted (it may hold what is not ours). */
  private async ensureNamespace(name: string): Promise<void> {
    await this.deps.applier.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  private async ensureFinalizer(raw: KubeObject): Promise<void> {
    const finalizers = raw.metadata?.finalizers ?? [];
    if (finalizers.includes(cleanupFinalizer)) return;
    await this.patchFinalizers(raw, [...finalizers, cleanupFinalizer]);
  }

  private async finalize(raw: KubeObject, log: Logger): Promise<void> {
    const finalizers = raw.metadata?.finalizers ?? [];
    if (!finalizers.includes(cleanupFinalizer)) return;
    for (const component of this.deps.components) {
      await this.deps.applier.deleteComponent(component.name, component.kinds, log);
    }
    await this.patchFinalizers(raw, finalizers.filter((f) => f !== cleanupFinalizer));
    log.info('cleaned up every owned object and removed the finalizer');
  }

  /** Replaces the finalizer list, guarded by resourceVersion so another writer's change is not lost. */
  private async patchFinalizers(raw: KubeObject, finalizers: string[]): Promise<void> {
    await this.deps.client.request('PATCH', `${flantIntegrationsPath}/${raw.metadata?.name ?? ''}`, {
      body: { metadata: { finalizers, resourceVersion: raw.metadata?.resourceVersion } },
      contentType: 'application/merge-patch+json',
    });
  }
}

function parse(raw: KubeObject): FlantIntegration {
  const result = flantIntegrationSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new TerminalError(`FlantIntegration ${raw.metadata?.name ?? ''} does not parse: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return result.data;
}

/** Owner reference to the FlantIntegration, so the garbage collector removes what we own. */
export function ownerReference(raw: KubeObject): OwnerReference {
  return { apiVersion, kind, name: raw.metadata?.name ?? '', uid: raw.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** A component that threw: its conditions say so, its status part is kept as it was. */
function failedOutcome(component: Component, err: unknown, status: FlantIntegrationStatus | undefined): ComponentOutcome {
  const conditions: ConditionInput[] = component.conditionTypes.map((type) => ({
    type,
    status: 'False',
    reason: Reason.APIError,
    message: `${errorText(err)} (retrying with backoff)`,
  }));
  const key = component.statusKey;
  const kept = key && status?.[key] !== undefined ? { [key]: status[key] } : undefined;
  return { conditions, status: kept };
}

/** A merge patch that also removes top-level status fields we no longer report. */
function withNulls(next: FlantIntegrationStatus, current: FlantIntegrationStatus | undefined): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(current ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}

