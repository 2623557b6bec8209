/**
 * The FlantIntegration reconciler (the spine): fetch, finalize, gather the shared facts
 * (licence, cluster UUID), run every component through the same steps (disabled path,
 * licence gate, CRD gate, gather, render, apply + prune, readiness), then write the status
 * (only when it changed) and an Event per condition change.
 */
import type { Logger } from 'pino';
import {
  apiVersion,
  ConditionType,
  flantIntegrationSchema,
  kind,
  Reason,
  type FlantIntegration,
  type FlantIntegrationSpec,
  type FlantIntegrationStatus,
} from '../api/index.js';
import {
  changedConditions,
  errorText,
  fence,
  isNotServed,
  LeadershipLostError,
  NotOwnedError,
  redactValues,
  removeCondition,
  rfc3339,
  setCondition,
  type Clock,
  type Condition,
  type KindRef,
  type KubeObject,
  type OwnerReference,
  type Reconciler,
  type Result,
} from '../reconciler/index.js';
import { cleanupFinalizer, crdName, stamp, type AnyComponent, type CacheView, type GatherContext } from './contract.js';
import { servedAPIVersion, type CRDObject } from './crds.js';
import { forbiddenMessage, resolveLicence, secretNamespaces, type LicenceResult, type Secret, type SecretLookup } from './licence.js';
import { blockedOutcome, conflictOutcome, disabledOutcome, failedOutcome, heldOutcome, readyOutcome, type ComponentOutcome } from './outcomes.js';
import { clusterProxy, withClusterProxy, type ClusterProxyResult } from './clusterproxy.js';
import { workloadsNamespaceObject } from './namespace.js';
import { buildStatus, canonical, licenceCondition } from './status.js';

/** Reads cached objects by key (`namespace/name`, or `name` when cluster-scoped). */
export interface Lookup<T extends KubeObject = KubeObject> {
  get(key: string): T | undefined;
}

/** Writes and deletes the objects components render (the library's Applier). */
export interface ObjectWriter {
  /** Applies `obj`; `signal` aborts the requests. */
  apply(obj: KubeObject, signal?: AbortSignal): Promise<unknown>;
  /** Deletes the component's objects not in `desired`: only those owned by `ownerUID`. */
  prune(
    component: string,
    desired: readonly KubeObject[],
    kinds: readonly KindRef[],
    log: Logger,
    ownerUID: string,
    signal?: AbortSignal,
  ): Promise<string[]>;
  /** Deletes every object of the component owned by `ownerUID`. */
  deleteComponent(component: string, kinds: readonly KindRef[], log: Logger, ownerUID: string, signal?: AbortSignal): Promise<string[]>;
  /**
   * Deletes the component's objects owned by `ownerUID` but `kept`, and drops the owner reference of those, so they outlive the owner (adopted again
   * by the next one).
   */
  retire(
    component: string,
    kept: readonly KubeObject[],
    kinds: readonly KindRef[],
    log: Logger,
    ownerUID: string,
    signal?: AbortSignal,
  ): Promise<unknown>;
}

/** How soon a component is reconciled again when a kind it writes was established but is not served yet. */
export const notServedRetryMs = 1000;

/** The FlantIntegration's own API calls. */
export interface FlantIntegrationAPI {
  /** UID of the `kube-system` namespace. */
  kubeSystemUID(): Promise<string>;
  namespaceExists(name: string): Promise<boolean>;
  serviceExists(namespace: string, name: string): Promise<boolean>;
  /** True when this process may create `resource` in `namespace` (a SelfSubjectAccessReview). */
  mayCreate(namespace: string, resource: string): Promise<boolean>;
  /** Merge-patches the status subresource. */
  patchStatus(name: string, status: Record<string, unknown>, signal?: AbortSignal): Promise<void>;
  /** Replaces the finalizers, guarded by `resourceVersion`. */
  patchFinalizers(name: string, finalizers: string[], resourceVersion: string | undefined, signal?: AbortSignal): Promise<void>;
}

/** Records Events about the FlantIntegration. */
export interface EventSink {
  record(regarding: KubeObject, type: 'Normal' | 'Warning', reason: string, note: string): Promise<void>;
}

/** What the reconciler works with. */
export interface FlantIntegrationDeps {
  readonly api: FlantIntegrationAPI;
  readonly writer: ObjectWriter;
  readonly events: EventSink;
  readonly clock: Clock;
  readonly flantIntegrations: Lookup;
  readonly secrets: Lookup<Secret>;
  /** CustomResourceDefinitions by name. */
  readonly crds: Lookup<CRDObject>;
  /** The components' informer caches. */
  readonly cache: CacheView;
  readonly components: readonly AnyComponent[];
  /** Namespaces besides the workloads' and `d8-system` whose Secrets may be read (own namespace, `--secret-namespaces`). @default none */
  readonly extraSecretNamespaces?: readonly string[];
  /** The namespaces whose Secrets the controller's RBAC does not let it list now. @default none */
  readonly forbiddenSecretNamespaces?: () => readonly string[];
  /** The namespaces whose Secrets are not known yet (access being asked, first list pending). @default none */
  readonly unsettledSecretNamespaces?: () => readonly string[];
  /** The cached Secret `kube-system/d8-cluster-configuration` (Deckhouse's ClusterConfiguration: its global proxy), when it exists. @default none */
  readonly clusterConfiguration?: () => Secret | undefined;
}

/** Facts every component shares in one reconcile. */
interface Shared {
  readonly fi: FlantIntegration;
  readonly owner: OwnerReference;
  readonly licence: LicenceResult;
  readonly clusterUUID: string;
  readonly secretNamespaces: readonly string[];
  /** Those of them the controller may not read (RBAC). */
  readonly forbidden: readonly string[];
  /** `spec.namespace`: where the components' namespaced objects live. */
  readonly workloads: string;
  /** The namespace written to before `spec.namespace` changed, until its objects are removed. */
  readonly former?: string;
  /** Components whose objects were looked for in `former` too and pruned there in this reconcile. */
  readonly swept: Set<string>;
  /** Secret values known in this reconcile (the licence, keys): scrubbed out of every message written. */
  readonly secretValues: Set<string>;
  /** The credentials of the cluster's global proxy, when the spec's proxy came from there. */
  readonly proxyUserinfo?: string;
  readonly log: Logger;
  /** Aborts when this process stops leading: no write may follow. */
  readonly signal: AbortSignal;
}

/** Reconciles the one FlantIntegration. */
export class FlantIntegrationReconciler implements Reconciler {
  private kubeSystemUID?: string;
  /** The last problem with the cluster's proxy logged; '' once it is in use. */
  private clusterProxyProblem?: string;
  /**
   * The last status written, and the resourceVersion it was written over: a reconcile that runs
   * before the cache shows the write (the object still at that version) compares with what was
   * written, so the same status and its Events are not written twice.
   */
  private written?: { uid: string; over: string; status: Record<string, unknown> };

  constructor(private readonly deps: FlantIntegrationDeps) {}

  async reconcile(key: string, log: Logger, signal: AbortSignal = new AbortController().signal): Promise<Result | void> {
    const raw = this.deps.flantIntegrations.get(key);
    if (!raw) return;
    if (raw.metadata?.deletionTimestamp) return this.finalize(raw, log, signal);
    fence(signal);
    await this.ensureFinalizer(raw, signal);
    const parsed = flantIntegrationSchema.safeParse(raw);
    if (!parsed.success) return this.specInvalid(raw, parsed.error.issues, log, signal);
    const cluster = this.clusterProxy(parsed.data.spec, log);
    const fi = { ...parsed.data, spec: withClusterProxy(parsed.data.spec, cluster) };
    const allowed = secretNamespaces(fi.spec.namespace, this.deps.extraSecretNamespaces ?? []);
    // A namespace just added to the Secret cache (spec.namespace changed) is not known yet: decide nothing on an empty view of it.
    const unsettled = (this.deps.unsettledSecretNamespaces?.() ?? []).filter((ns) => allowed.includes(ns));
    if (unsettled.length > 0) {
      log.debug({ namespaces: unsettled }, 'waiting for the Secrets of these namespaces');
      return { requeueAfterMs: 1000 };
    }
    const former = formerNamespace(fi.spec.namespace, fi.status);
    const forbidden = (this.deps.forbiddenSecretNamespaces?.() ?? []).filter((ns) => allowed.includes(ns) || ns === former);
    const shared: Shared = {
      fi,
      owner: ownerReference(raw),
      licence: resolveLicence(fi.spec.licenseKeySecretRef, this.lookup(allowed), allowed, forbidden),
      clusterUUID: fi.spec.clusterUUID ?? (await this.clusterUUID()),
      secretNamespaces: allowed,
      forbidden,
      workloads: fi.spec.namespace,
      former,
      swept: new Set(),
      secretValues: new Set(cluster.userinfo !== undefined ? [cluster.userinfo] : []),
      ...(cluster.userinfo !== undefined ? { proxyUserinfo: cluster.userinfo } : {}),
      log,
      signal,
    };
    if (shared.licence.found) shared.secretValues.add(shared.licence.key);
    if (forbidden.includes(fi.spec.namespace)) {
      // Nothing can be written or cleaned up there: say so, and wait for the Role (its arrival queues a reconcile).
      const message = `spec.namespace ${fi.spec.namespace}: ${forbiddenMessage(fi.spec.namespace)}; nothing is written until then`;
      const outcomes = this.deps.components.map((c) =>
        c.enabled(fi.spec) ? heldOutcome(c, fi.status, Reason.NamespaceForbidden, message) : disabledOutcome(c),
      );
      await this.writeStatus(raw, shared, outcomes, { namespace: fi.status?.namespace });
      return;
    }
    // The namespace is made only when missing (as an admin runs it): with the install's RBAC it exists, its Role in it.
    if (!(await this.deps.api.namespaceExists(fi.spec.namespace))) {
      fence(signal);
      await this.deps.writer.apply(workloadsNamespaceObject(fi.spec.namespace), signal);
    }
    // The components write disjoint objects, so they run side by side: a reconcile takes as long
    // as its slowest component's requests, not as all of them in a row (bench/scale.ts).
    const outcomes = await Promise.all(this.deps.components.map((component) => this.runComponent(component, shared)));
    // Moved in: once every component pruned the former namespace, it holds nothing of ours (only
    // Secrets are looked for by namespace; every other kind is found cluster-wide by its labels).
    const settled = this.deps.components.every((c) => shared.swept.has(c.name) || !(c.kinds ?? []).some(isSecretKind));
    await this.writeStatus(raw, shared, outcomes, { namespace: settled ? fi.spec.namespace : (fi.status?.namespace ?? fi.spec.namespace) });
    // Each failure keeps its type (a TerminalError is not retried) under a message with no secret in it.
    const failed = outcomes.filter((o) => o.error !== undefined);
    if (failed.length > 0) {
      const summary = failed.map((o) => `${o.component}: ${redactValues(errorText(o.error), shared.secretValues)}`).join('; ');
      throw new AggregateError(
        failed.map((o) => o.error),
        `components failed: ${summary}`,
      );
    }
    const requeues = outcomes.map((o) => o.requeueAfterMs).filter((ms): ms is number => ms !== undefined);
    return requeues.length > 0 ? { requeueAfterMs: Math.min(...requeues) } : undefined;
  }

  /**
   * The cluster's global proxy when the spec names none; one that cannot be used is logged once
   * per change (its reason names the Secret and the field, never a value).
   */
  private clusterProxy(spec: FlantIntegrationSpec, log: Logger): ClusterProxyResult {
    if (spec.proxy) return {};
    const found = clusterProxy(this.deps.clusterConfiguration?.());
    const problem = found.problem;
    if (problem !== undefined && problem !== this.clusterProxyProblem)
      log.warn({ problem }, "the cluster's global proxy cannot be used; set spec.proxy, or fix the ClusterConfiguration");
    else if (found.proxy && this.clusterProxyProblem !== '')
      log.info({ proxy: found.proxy.httpsProxy ?? found.proxy.httpProxy }, "using the cluster's global proxy");
    this.clusterProxyProblem = problem ?? (found.proxy ? '' : undefined);
    return found;
  }

  /** One component through the same steps as every other. */
  private async runComponent(component: AnyComponent, shared: Shared): Promise<ComponentOutcome> {
    const { fi, licence } = shared;
    const spec = fi.spec;
    const log = shared.log.child({ component: component.name });
    fence(shared.signal);
    try {
      if (!component.enabled(spec)) {
        await this.deps.writer.deleteComponent(component.name, this.kindsOf(component, shared), shared.log, shared.owner.uid, shared.signal);
        shared.swept.add(component.name);
        return disabledOutcome(component);
      }
      if (component.needsLicence && !licence.found) {
        // Nothing is shipped without a licence: what runs stops, but for the facts the component keeps
        // (in the former namespace too: they are carried over once it runs again).
        await this.deps.writer.prune(
          component.name,
          component.keptWithoutLicence?.(spec) ?? [],
          this.kindsOf(component, { ...shared, former: undefined }),
          shared.log,
          shared.owner.uid,
          shared.signal,
        );
        const held = heldOutcome(
          component,
          fi.status,
          Reason.LicenseMissing,
          `no license key, so nothing is shipped and its objects are removed: ${licence.message}`,
        );
        return held.status && component.statusWithoutObjects ? { ...held, status: component.statusWithoutObjects(held.status) } : held;
      }
      const missing = component.crds.filter((r) => !r.optional && this.served(r.kind, component) === undefined);
      if (missing.length > 0)
        return heldOutcome(
          component,
          fi.status,
          Reason.CRDNotInstalled,
          crdMissingMessage(
            component,
            missing.map((r) => `${r.kind} (${crdName(r)})`),
          ),
        );
      const gathered = await component.gather(this.gatherContext(component, shared, log));
      if ('blocked' in gathered) return blockedOutcome(component, fi.status, gathered.blocked, gathered.error);
      for (const value of component.secretValues?.(gathered.facts) ?? []) shared.secretValues.add(value);
      const objects = stamp(component.name, component.render(spec, gathered.facts), shared.owner);
      const conflicts = await this.applyAll(objects, log, shared.signal);
      fence(shared.signal);
      await this.deps.writer.prune(component.name, objects, this.kindsOf(component, shared), shared.log, shared.owner.uid, shared.signal);
      shared.swept.add(component.name);
      const outcome = readyOutcome(component, { spec, facts: gathered.facts, cache: this.deps.cache }, gathered.requeueAfterMs);
      return conflicts.length === 0 ? outcome : conflictOutcome(outcome, conflicts);
    } catch (err) {
      if (err instanceof LeadershipLostError) throw err;
      if (err instanceof NotOwnedError) {
        log.warn({ object: err.object }, 'an object of ours by name belongs to someone else: left untouched');
        return heldOutcome(component, fi.status, Reason.Conflict, err.message);
      }
      // A CRD just established: its handler comes up a moment later. Not a failure; asked again soon.
      if (isNotServed(err)) {
        const text = redactValues(errorText(err), shared.secretValues);
        log.info({ err: text }, 'a kind this component writes is not served yet: trying again in a second');
        const message = `a kind this component writes is established but not served yet, trying again: ${text}`;
        return { ...heldOutcome(component, fi.status, Reason.CRDNotInstalled, message), requeueAfterMs: notServedRetryMs };
      }
      log.error({ err: redactValues(errorText(err), shared.secretValues) }, 'component failed');
      return failedOutcome(component, err, fi.status);
    }
  }

  /** Applies every object; one that exists and is not ours is skipped and named, the others go on. */
  private async applyAll(objects: readonly KubeObject[], log: Logger, signal: AbortSignal): Promise<string[]> {
    const conflicts: string[] = [];
    for (const obj of objects) {
      fence(signal);
      try {
        await this.deps.writer.apply(obj, signal);
      } catch (err) {
        if (!(err instanceof NotOwnedError)) throw err;
        log.warn({ object: err.object }, 'an object of ours by name belongs to someone else: left untouched');
        conflicts.push(err.message);
      }
    }
    return conflicts;
  }

  private gatherContext(component: AnyComponent, shared: Shared, log: Logger): GatherContext {
    const { api, writer, clock } = this.deps;
    return {
      spec: shared.fi.spec,
      ...(shared.proxyUserinfo !== undefined ? { proxyUserinfo: shared.proxyUserinfo } : {}),
      status: shared.fi.status,
      licenceKey: shared.licence.found ? shared.licence.key : undefined,
      clusterUUID: shared.clusterUUID,
      secrets: this.lookup(shared.secretNamespaces),
      secretNamespaces: shared.secretNamespaces,
      forbiddenSecretNamespaces: shared.forbidden,
      formerNamespace: shared.former,
      formerSecrets: (namespace, name) =>
        namespace === shared.former && !shared.forbidden.includes(namespace) ? this.deps.secrets.get(`${namespace}/${name}`) : undefined,
      served: (k) => this.served(k, component),
      cache: this.deps.cache,
      cluster: {
        namespaceExists: (name) => api.namespaceExists(name),
        serviceExists: (namespace, name) => api.serviceExists(namespace, name),
        mayCreate: (namespace, resource) => api.mayCreate(namespace, resource),
        applyNow: async (obj) => {
          fence(shared.signal);
          const [stamped] = stamp(component.name, [obj], shared.owner);
          if (stamped) await writer.apply(stamped, shared.signal);
        },
      },
      clock,
      log,
      signal: shared.signal,
    };
  }

  /** The apiVersion of a component's CRD kind to write, or undefined when the cluster serves none of its versions. */
  private served(crdKind: string, component: AnyComponent): string | undefined {
    const req = component.crds.find((r) => r.kind === crdKind);
    if (!req) return undefined;
    return servedAPIVersion(req, this.deps.crds.get(crdName(req)));
  }

  /**
   * Where a component's objects can be: its built-in kinds and its served CRD kinds. Secrets
   * are looked for only in the namespaces the controller may hold them in (through Roles):
   * those whose Secrets it may read and its RBAC lets it (not `forbidden`), and those the
   * component writes Secrets in besides.
   */
  private kindsOf(component: AnyComponent, shared: Pick<Shared, 'secretNamespaces' | 'forbidden' | 'former' | 'workloads'>): KindRef[] {
    const former = shared.former ? [shared.former] : [];
    const readable = [...shared.secretNamespaces, ...former].filter((ns) => !shared.forbidden.includes(ns));
    const crdKinds = component.crds.flatMap((r) => {
      const served = this.served(r.kind, component);
      return served ? [{ apiVersion: served, kind: r.kind }] : [];
    });
    const secretsIn = [...new Set([...readable, ...(component.writesSecretsIn ?? [])])].sort();
    // Every other namespaced kind it writes lives in spec.namespace (and, until moved, the former one): its Role is there.
    const workloads = [...new Set([shared.workloads, ...former])].filter((ns) => !shared.forbidden.includes(ns)).sort();
    const kinds = (component.kinds ?? []).map((k) => (isSecretKind(k) ? { ...k, namespaces: secretsIn } : { ...k, namespaces: workloads }));
    return [...kinds, ...crdKinds.map((k) => ({ ...k, namespaces: workloads }))];
  }

  /** Reads cached Secrets of the allowed namespaces only. */
  private lookup(allowed: readonly string[]): SecretLookup {
    return (namespace, name) => (allowed.includes(namespace) ? this.deps.secrets.get(`${namespace}/${name}`) : undefined);
  }

  /** The UID of `kube-system`, read once: it never changes while the cluster lives. */
  private async clusterUUID(): Promise<string> {
    this.kubeSystemUID ??= await this.deps.api.kubeSystemUID();
    return this.kubeSystemUID;
  }

  private async writeStatus(
    raw: KubeObject,
    shared: Shared,
    outcomes: readonly ComponentOutcome[],
    own: Partial<FlantIntegrationStatus> = {},
  ): Promise<void> {
    const current = (this.lastWritten(raw) as FlantIntegrationStatus | undefined) ?? shared.fi.status;
    const status = buildStatus({
      current,
      generation: raw.metadata?.generation ?? 0,
      clusterUUID: shared.clusterUUID,
      conditions: [licenceCondition(shared.licence), ...outcomes.flatMap((o) => o.conditions)].map((c) => ({
        ...c,
        message: redactValues(c.message, shared.secretValues),
      })),
      parts: [...outcomes.map((o) => o.status ?? {}), own],
      now: rfc3339(this.deps.clock.now()),
    });
    if (canonical(status) === canonical(current ?? {})) return;
    fence(shared.signal);
    await this.deps.api.patchStatus(raw.metadata?.name ?? '', withNulls(status, current), shared.signal);
    this.remember(raw, status);
    shared.log.info({ conditions: status.conditions?.map((c) => `${c.type}=${c.status}`) }, 'status updated');
    await this.recordChanges(raw, current?.conditions ?? [], status.conditions ?? []);
  }

  /**
   * An admitted spec the controller cannot use (a CRD older than it, or edited, let it in):
   * `Ready=False` and `Stalled=True` with reason SpecInvalid naming the field, and an Event.
   * Nothing is applied or pruned, the components' conditions stay as they were (their objects
   * too); the next change of the resource is reconciled again.
   */
  private async specInvalid(
    raw: KubeObject,
    issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>,
    log: Logger,
    signal: AbortSignal,
  ): Promise<void> {
    const [first, ...others] = issues;
    const field = first?.path.join('.') || '(the object)';
    const message =
      `${field}: ${first?.message ?? 'does not parse'}${others.length > 0 ? ` (and ${others.length} more)` : ''}; nothing ` +
      `is changed until it is fixed`;
    log.warn({ field, problems: issues.length }, "the FlantIntegration does not pass the controller's checks: nothing is changed");
    const stored = (this.lastWritten(raw) ?? (raw as { status?: Record<string, unknown> }).status) as
      { conditions?: unknown; observedGeneration?: unknown } | undefined;
    const generation = raw.metadata?.generation ?? 0;
    const now = rfc3339(this.deps.clock.now());
    const current = Array.isArray(stored?.conditions) ? (stored.conditions as Condition[]) : [];
    let conditions = removeCondition(current, ConditionType.Reconciling);
    for (const type of [ConditionType.Ready, ConditionType.Stalled]) {
      conditions = setCondition(
        conditions,
        { type, status: type === ConditionType.Ready ? 'False' : 'True', reason: Reason.SpecInvalid, message },
        generation,
        now,
      );
    }
    // Ready and Stalled first, as buildStatus orders them; the others keep their order.
    const rank = (c: Condition) => (c.type === ConditionType.Ready ? 0 : c.type === ConditionType.Stalled ? 1 : 2);
    conditions.sort((a, b) => rank(a) - rank(b));
    if (stored?.observedGeneration === generation && canonical(conditions) === canonical(current)) return;
    fence(signal);
    await this.deps.api.patchStatus(raw.metadata?.name ?? '', { observedGeneration: generation, conditions }, signal);
    this.remember(raw, { ...stored, observedGeneration: generation, conditions });
    await this.recordChanges(raw, current, conditions);
  }

  /** The status this process last wrote over `raw`'s resourceVersion, while the cache does not show it yet. */
  private lastWritten(raw: KubeObject): Record<string, unknown> | undefined {
    const w = this.written;
    return w && w.uid === raw.metadata?.uid && w.over === raw.metadata?.resourceVersion ? w.status : undefined;
  }

  private remember(raw: KubeObject, status: Record<string, unknown>): void {
    this.written = { uid: raw.metadata?.uid ?? '', over: raw.metadata?.resourceVersion ?? '', status };
  }

  /** An Event per condition that changed; not for Reconciling and Stalled, which restate another condition. */
  private async recordChanges(raw: KubeObject, before: readonly Condition[], after: readonly Condition[]): Promise<void> {
    for (const c of changedConditions(before, after)) {
      if (c.type === ConditionType.Reconciling || c.type === ConditionType.Stalled) continue;
      await this.deps.events.record(raw, c.status === 'True' ? 'Normal' : 'Warning', c.reason, `${c.type}: ${c.message}`);
    }
  }

  private async ensureFinalizer(raw: KubeObject, signal: AbortSignal): Promise<void> {
    const finalizers = raw.metadata?.finalizers ?? [];
    if (finalizers.includes(cleanupFinalizer)) return;
    await this.deps.api.patchFinalizers(raw.metadata?.name ?? '', [...finalizers, cleanupFinalizer], raw.metadata?.resourceVersion, signal);
  }

  private async finalize(raw: KubeObject, log: Logger, signal: AbortSignal): Promise<void> {
    const finalizers = raw.metadata?.finalizers ?? [];
    if (!finalizers.includes(cleanupFinalizer)) return;
    const uid = raw.metadata?.uid ?? '';
    // A resource that no longer parses is still cleaned up: with the defaults where its spec fails.
    const parsed = flantIntegrationSchema.safeParse(raw);
    const spec = parsed.success ? parsed.data.spec : flantIntegrationSchema.parse({ ...raw, spec: {} }).spec;
    const status = parsed.success ? parsed.data.status : undefined;
    const former = formerNamespace(spec.namespace, status);
    const readable = {
      secretNamespaces: secretNamespaces(spec.namespace, this.deps.extraSecretNamespaces ?? []),
      forbidden: this.deps.forbiddenSecretNamespaces?.() ?? [],
      workloads: spec.namespace,
      former,
    };
    for (const component of this.deps.components) {
      fence(signal);
      // What a component keeps without a licence (Madison's stored key) outlives the resource too,
      // so a reinstall reuses it instead of registering the cluster again.
      await this.deps.writer.retire(component.name, component.keptWithoutLicence?.(spec) ?? [], this.kindsOf(component, readable), log, uid, signal);
    }
    fence(signal);
    await this.deps.api.patchFinalizers(
      raw.metadata?.name ?? '',
      finalizers.filter((f) => f !== cleanupFinalizer),
      raw.metadata?.resourceVersion,
      signal,
    );
    log.info('cleaned up every owned object and removed the finalizer');
  }
}

/** The namespace written to before `spec.namespace` changed (`status.namespace`), while it differs. */
export function formerNamespace(workloads: string, status: { namespace?: unknown } | undefined): string | undefined {
  const recorded = status?.namespace;
  return typeof recorded === 'string' && recorded !== '' && recorded !== workloads ? recorded : undefined;
}

function isSecretKind(k: KindRef): boolean {
  return k.apiVersion === 'v1' && k.kind === 'Secret';
}

/** Owner reference to the FlantIntegration, so the garbage collector removes what we own. */
export function ownerReference(raw: KubeObject): OwnerReference {
  return { apiVersion, kind, name: raw.metadata?.name ?? '', uid: raw.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function crdMissingMessage(component: AnyComponent, missing: readonly string[]): string {
  return (
    `the CRD of ${missing.join(' and ')} is not installed, so nothing is written: install it (Deckhouse's module that owns it), or ` +
    `set ${component.enabledField}: false`
  );
}

/** A merge patch that also removes top-level status fields we no longer report. */
function withNulls(next: FlantIntegrationStatus, current: FlantIntegrationStatus | undefined): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(current ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}
