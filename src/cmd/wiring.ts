/**
 * Wires the controller process: the informers the components declare (they are listed in
 * components.ts), the CRD informers, and the FlantIntegration reconciler over the manager.
 * Everything here is a parameter or a named constant.
 */
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { flantIntegrationSpecSchema, group, plural, version } from '../api/index.js';
import {
  clusterConfigurationSecret,
  componentLabel,
  crdName,
  crdsPath,
  declaredCRDs,
  FlantIntegrationReconciler,
  groupOf,
  formerNamespace,
  managedByLabel,
  registrySecret,
  resourceInfos,
  secretNamespaces,
  servedAPIVersion,
  signatureAnnotation,
  type AnyComponent,
  type CRDObject,
  type FlantIntegrationAPI,
  type Secret,
} from '../flantintegration/index.js';
import {
  Applier,
  EventRecorder,
  Informer,
  isNotFound,
  Manager,
  NamespacedInformers,
  groupVersionPath,
  RESTMapper,
  realClock,
  type Clock,
  type Controller,
  type KubeClient,
  type KubeObject,
  type LeaderElectionOptions,
} from '../reconciler/index.js';
import { OwnedCaches, ownedSelector, ownedWatches } from './owned.js';
import { programVersion } from './version.js';

/** REST path of the FlantIntegration collection. */
export const flantIntegrationsPath = `/apis/${group}/${version}/${plural}`;
/** Field manager of every server-side apply. */
export const fieldManager = 'flant-integration';
/** reportingController of the Events. */
export const eventsController = 'integration.flant.com/flant-integration';

/** Options of the controller process. */
export interface ControllerSetup {
  readonly client: KubeClient;
  readonly log: Logger;
  /** @default the machine's clock */
  readonly clock?: Clock;
  /** Leader election, or none (this process always leads). */
  readonly leaderElection?: LeaderElectionOptions;
  /** @default ":8081" */
  readonly healthProbeBindAddress?: string;
  /** @default ":8080" */
  readonly metricsBindAddress?: string;
  /** Every FlantIntegration is reconciled again this often. @default 600000 */
  readonly syncPeriodMs?: number;
  /** The components to run. */
  readonly components: readonly AnyComponent[];
  /** reportingInstance of Events. */
  readonly identity: string;
  /** Namespaces besides the workloads' and `d8-system` whose Secrets may be read: the controller's own and `--secret-namespaces`. @default none */
  readonly extraSecretNamespaces?: readonly string[];
  /** Called when reconciles still run after leadership was lost and its grace. @default log only */
  readonly onStuckAfterLeadershipLost?: () => void;
}

/** Secrets the controller never needs: service-account tokens and Helm releases, the bulk of most clusters. */
const secretFieldSelector = 'type!=kubernetes.io/service-account-token,type!=helm.sh/release.v1';

/** Builds a manager that runs the FlantIntegration controller. */
export function setupController(setup: ControllerSetup): Manager {
  const clock = setup.clock ?? realClock;
  const { client, log } = setup;
  const manager = new Manager({
    client,
    log,
    clock,
    leaderElection: setup.leaderElection,
    healthProbeBindAddress: setup.healthProbeBindAddress,
    metricsBindAddress: setup.metricsBindAddress,
    onStuckAfterLeadershipLost: setup.onStuckAfterLeadershipLost,
  });
  const flantIntegrations = manager.informer({ path: flantIntegrationsPath });
  stateMetrics(manager.metrics.registry, flantIntegrations);
  const extra = setup.extraSecretNamespaces ?? [];
  const secrets = manager.source(
    new NamespacedInformers<Secret>(
      client,
      {
        path: (ns) => `/api/v1/namespaces/${ns}/secrets`,
        fieldSelector: secretFieldSelector,
        canList: (ns, signal) => mayListSecrets(client, ns, signal),
      },
      clock,
      log.child({ component: 'informer' }),
    ),
  );
  // The cache holds exactly the namespaces Secret references may point into, which follow spec.namespace.
  const followNamespaces = () => secrets.setNamespaces(allowedNamespaces(flantIntegrations.list(), extra));
  flantIntegrations.on(followNamespaces);
  followNamespaces();
  const mapper = new RESTMapper(client, clock);
  const crds = new Map(
    declaredCRDs(setup.components).map((name) => [name, manager.informer<CRDObject>({ path: crdsPath, fieldSelector: `metadata.name=${name}` })]),
  );
  // Deckhouse's ClusterConfiguration, by name and read-only: its global proxy, when the spec names none.
  const clusterConfiguration = manager.informer<Secret>({
    path: `/api/v1/namespaces/${clusterConfigurationSecret.namespace}/secrets`,
    fieldSelector: `metadata.name=${clusterConfigurationSecret.name}`,
  });
  const caches = new Map<string, Informer>();
  for (const c of setup.components) for (const w of c.informers ?? []) caches.set(w.name, manager.informer(w));
  // What the Applier reads before asking the server: our Secrets in the Secret cache (it holds
  // every Opaque Secret of the namespaces we write to), the caches the components say hold their
  // own objects (their Deployments), the rest in the owned-objects watches (watchOwned).
  const owned = new OwnedCaches();
  owned.add('', 'Secret', (apiVersion, namespace) => (apiVersion === 'v1' && namespace ? secrets.synced(namespace) : undefined));
  for (const c of setup.components) {
    for (const w of c.informers ?? []) {
      const holds = w.holdsOwn;
      const informer = caches.get(w.name);
      if (!holds || !informer) continue;
      owned.add(groupOf(holds.apiVersion), holds.kind, (apiVersion, _namespace, component) =>
        component === c.name && apiVersion === holds.apiVersion && informer.hasSynced() ? informer : undefined,
      );
    }
  }
  const reconciler = new FlantIntegrationReconciler({
    api: flantIntegrationAPI(client),
    writer: new Applier(
      client,
      mapper,
      { managedBy: managedByLabel, componentKey: componentLabel, signatureKey: signatureAnnotation },
      fieldManager,
      owned,
    ),
    events: new EventRecorder(client, { controller: eventsController, instance: setup.identity }, clock, log),
    clock,
    flantIntegrations,
    secrets,
    crds: { get: (name) => crds.get(name)?.get(name) },
    cache: { list: (name) => caches.get(name)?.list() ?? [] },
    components: setup.components,
    extraSecretNamespaces: extra,
    forbiddenSecretNamespaces: () => secrets.denied(),
    unsettledSecretNamespaces: () => secrets.unsettled(),
    clusterConfiguration: () => clusterConfiguration.list()[0],
  });
  const controller = manager.controller('flantintegration', reconciler, { resyncPeriodMs: setup.syncPeriodMs });
  const everyFlantIntegration = () => flantIntegrations.list().map((fi) => fi.metadata?.name ?? '');
  controller.watchPrimary(flantIntegrations);
  // A namespace found forbidden, or allowed again (a Role granted): the status says it at once.
  controller.watch(
    { on: (handler) => secrets.onAccess((change) => handler({ type: 'add', object: { metadata: { name: change.namespace } } })) },
    everyFlantIntegration,
  );
  // A Secret a FlantIntegration reads queues them all; one of ours (deleted or edited by hand) queues its owner.
  controller.watch(secrets, (secret) =>
    isReferenced(secret, flantIntegrations.list(), setup.components) ? everyFlantIntegration() : ownerKeys(secret),
  );
  controller.watch(clusterConfiguration, everyFlantIntegration);
  for (const informer of crds.values()) {
    informer.on((event) => {
      const crd = event.object;
      mapper.register(crd.spec?.names?.kind ?? '', crd.spec?.group ?? '', event.type === 'delete' ? [] : resourceInfos(crd));
    });
    controller.watch(informer, everyFlantIntegration);
  }
  for (const c of setup.components) for (const w of c.informers ?? []) controller.watch(caches.get(w.name) as Informer, w.keys ?? ownerKeys);
  watchOwned(manager, controller, setup, owned, { flantIntegrations, crds, follow: (f) => flantIntegrations.on(f) });
  return manager;
}

/**
 * Watches every kind the components write, by our labels (src/cmd/owned.ts), so an object of
 * ours deleted or edited by hand is applied back at once: its event queues its owner.
 */
function watchOwned(
  manager: Manager,
  controller: Controller,
  setup: ControllerSetup,
  owned: OwnedCaches,
  sources: { flantIntegrations: Informer; crds: ReadonlyMap<string, Informer<CRDObject>>; follow: (f: () => void) => void },
): void {
  const { client, log } = setup;
  const clock = setup.clock ?? realClock;
  const watches = ownedWatches(setup.components);
  for (const resource of watches.namespaced) {
    const group = groupOf(resource.apiVersion);
    const informers = manager.source(
      new NamespacedInformers(
        client,
        {
          path: (ns) => `${groupVersionPath(resource.apiVersion)}/namespaces/${ns}/${resource.plural}`,
          labelSelector: ownedSelector,
          canList: (ns, signal) => allowed(client, { namespace: ns, verb: 'watch', resource: resource.plural, group }, signal),
        },
        clock,
        log.child({ component: 'informer' }),
      ),
    );
    const follow = () => informers.setNamespaces(workloadsNamespaces(sources.flantIntegrations.list()));
    sources.follow(follow);
    follow();
    controller.watch(informers, ownerKeys);
    owned.add(group, resource.kind, (apiVersion, namespace) =>
      apiVersion === resource.apiVersion && namespace ? informers.synced(namespace) : undefined,
    );
  }
  for (const resource of watches.cluster) {
    const informer = manager.informer({ path: `${groupVersionPath(resource.apiVersion)}/${resource.plural}`, labelSelector: ownedSelector });
    controller.watch(informer, ownerKeys);
    owned.add(groupOf(resource.apiVersion), resource.kind, (apiVersion) =>
      apiVersion === resource.apiVersion && informer.hasSynced() ? informer : undefined,
    );
  }
  for (const req of watches.crds) {
    // Keyed by the version watched: none while the CRD serves no version we write, so nothing is listed in vain.
    const informers = manager.source(
      new NamespacedInformers(
        client,
        { path: (apiVersion) => `${groupVersionPath(apiVersion)}/${req.plural}`, labelSelector: ownedSelector },
        clock,
        log.child({ component: 'informer' }),
      ),
    );
    const crd = sources.crds.get(crdName(req));
    const follow = () => {
      const version = servedAPIVersion(req, crd?.get(crdName(req)));
      informers.setNamespaces(version ? [version] : []);
    };
    crd?.on(follow);
    follow();
    controller.watch(informers, ownerKeys);
    // Keyed by the version watched: a version not watched is asked of the server.
    owned.add(req.group, req.kind, (apiVersion) => informers.synced(apiVersion));
  }
}

/** The namespaces the FlantIntegrations write their namespaced objects to: `spec.namespace`, and the former one until cleaned. */
function workloadsNamespaces(fis: readonly KubeObject[]): string[] {
  return [
    ...new Set(
      fis.flatMap((fi) => {
        const parsed = flantIntegrationSpecSchema.safeParse(fi.spec ?? {});
        const workloads = parsed.success ? parsed.data.namespace : '';
        const former = formerNamespace(workloads, (fi as { status?: { namespace?: unknown } }).status);
        return [...(workloads ? [workloads] : []), ...(former ? [former] : [])];
      }),
    ),
  ].sort();
}

/**
 * `flantintegration_condition{name,type,status,reason}` (1 for each current condition) and
 * `flantintegration_info{name,cluster_uuid,version}`, read from the informer's cache at
 * scrape time: every replica reports the stored status, leader or not.
 */
export function stateMetrics(registry: Registry, flantIntegrations: { list(): readonly KubeObject[] }): void {
  const stored = () =>
    flantIntegrations.list().map((fi) => ({
      name: fi.metadata?.name ?? '',
      status: (fi as { status?: { clusterUUID?: string; conditions?: Array<{ type?: string; status?: string; reason?: string }> } }).status,
    }));
  new Gauge({
    name: 'flantintegration_condition',
    help: 'Conditions of each FlantIntegration as stored: 1 for the current status and reason of each type.',
    labelNames: ['name', 'type', 'status', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const fi of stored()) {
        for (const c of fi.status?.conditions ?? [])
          this.set({ name: fi.name, type: c.type ?? '', status: c.status ?? '', reason: c.reason ?? '' }, 1);
      }
    },
  });
  new Gauge({
    name: 'flantintegration_info',
    help: 'One series per FlantIntegration: its cluster UUID and the controller version.',
    labelNames: ['name', 'cluster_uuid', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      for (const fi of stored()) this.set({ name: fi.name, cluster_uuid: fi.status?.clusterUUID ?? '', version: programVersion }, 1);
    },
  });
}

/** The FlantIntegration's own API calls over the JSON client. */
function flantIntegrationAPI(client: KubeClient): FlantIntegrationAPI {
  const merge = 'application/merge-patch+json';
  return {
    kubeSystemUID: async () => (await client.request<KubeObject>('GET', '/api/v1/namespaces/kube-system')).metadata?.uid ?? '',
    namespaceExists: (name) => exists(client, `/api/v1/namespaces/${name}`),
    serviceExists: (namespace, name) => exists(client, `/api/v1/namespaces/${namespace}/services/${name}`),
    mayCreate: (namespace, resource) => allowed(client, { namespace, verb: 'create', resource }),
    patchStatus: async (name, status, signal) => {
      await client.request('PATCH', `${flantIntegrationsPath}/${name}/status`, { body: { status }, contentType: merge, signal });
    },
    patchFinalizers: async (name, finalizers, resourceVersion, signal) => {
      await client.request('PATCH', `${flantIntegrationsPath}/${name}`, {
        body: { metadata: { finalizers, resourceVersion } },
        contentType: merge,
        signal,
      });
    },
  };
}

/**
 * Every namespace any FlantIntegration may read Secrets in (d8-system and `extra` even with
 * none), and the namespace each wrote to before its `spec.namespace` changed (`status.namespace`)
 * until what it wrote there is removed.
 */
function allowedNamespaces(fis: readonly KubeObject[], extra: readonly string[]): string[] {
  return [
    ...new Set([...secretNamespaces(registrySecret.namespace, extra), ...workloadsNamespaces(fis).flatMap((ns) => secretNamespaces(ns, extra))]),
  ].sort();
}

/**
 * Whether this process may list Secrets in `namespace`, asked with a SelfSubjectAccessReview
 * (which Kubernetes' default `system:basic-user` lets every authenticated user create), so a
 * namespace without a Role is never listed only to be refused. A refused watch is caught by
 * the informer.
 */
function mayListSecrets(client: KubeClient, namespace: string, signal: AbortSignal): Promise<boolean> {
  return allowed(client, { namespace, verb: 'list', resource: 'secrets' }, signal);
}

/** Whether this process may do what `attributes` say, asked with a SelfSubjectAccessReview (the core group unless `group` is given). */
async function allowed(
  client: KubeClient,
  attributes: { namespace: string; verb: string; resource: string; group?: string },
  signal?: AbortSignal,
): Promise<boolean> {
  const review = await client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes } },
    signal,
  });
  return review.status?.allowed === true;
}

/** True when GET `path` finds the object. */
async function exists(client: KubeClient, path: string): Promise<boolean> {
  try {
    await client.request('GET', path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** True when a FlantIntegration reads this Secret: the licence, the registry Secret, or one a component names. */
function isReferenced(secret: Secret, fis: readonly KubeObject[], all: readonly AnyComponent[]): boolean {
  const ns = secret.metadata?.namespace;
  const name = secret.metadata?.name;
  if (ns === registrySecret.namespace && name === registrySecret.name) return true;
  return fis.some((fi) => {
    const parsed = flantIntegrationSpecSchema.safeParse(fi.spec ?? {});
    if (!parsed.success) return false;
    const refs = [parsed.data.licenseKeySecretRef, parsed.data.proxy?.credentialsSecretRef, ...all.flatMap((c) => c.secretRefs?.(parsed.data) ?? [])];
    return refs.some((r) => r?.namespace === ns && r?.name === name);
  });
}

/** Keys of the FlantIntegrations that own an object. */
function ownerKeys(obj: KubeObject): string[] {
  return (obj.metadata?.ownerReferences ?? []).filter((r) => r.kind === 'FlantIntegration').map((r) => r.name);
}
