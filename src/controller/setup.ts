/**
 * Wires the manager: informers, the FlantIntegration controller, its components.
 * `main` only calls this; everything here is a parameter.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import {
  Applier,
  EventRecorder,
  Manager,
  RESTMapper,
  realClock,
  type Clock,
  type KubeClient,
  type KubeObject,
  type LeaderElectionOptions,
} from '../reconciler/index.js';
import { componentLabel, managedByLabel, type Component } from './component.js';
import { FlantIntegrationReconciler, flantIntegrationsPath } from './flantintegration.js';
import { registrySecret, type Secret } from './licence.js';

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
  readonly components: readonly Component[];
  /** reportingInstance of Events. @default the host name */
  readonly identity?: string;
}

/** Secrets the controller never needs: service-account tokens and Helm releases, the bulk of most clusters. */
const secretFieldSelector = 'type!=kubernetes.io/service-account-token,type!=helm.sh/release.v1';

/** Builds a manager that runs the FlantIntegration controller. */
export function setupController(setup: ControllerSetup): Manager {
  const clock = setup.clock ?? realClock;
  const manager = new Manager({
    client: setup.client,
    log: setup.log,
    clock,
    leaderElection: setup.leaderElection,
    healthProbeBindAddress: setup.healthProbeBindAddress,
    metricsBindAddress: setup.metricsBindAddress,
  });
  const flantIntegrations = manager.informer({ path: flantIntegrationsPath });
  const secrets = manager.informer<Secret>({ path: '/api/v1/secrets', fieldSelector: secretFieldSelector });
  const owned = manager.informer({ path: '/apis/apps/v1/deployments', labelSelector: `${managedByLabel.key}=${managedByLabel.value}` });
  const mapper = new RESTMapper(setup.client, clock);
  const reconciler = new FlantIntegrationReconciler({
    client: setup.client,
    mapper,
    applier: new Applier(setup.client, mapper, { managedBy: managedByLabel, componentKey: componentLabel }),
    events: new EventRecorder(setup.client, { controller: 'integration.flant.com/flant-integration', instance: setup.identity ?? hostname() }, clock, setup.log),
    clock,
    flantIntegrations,
    secrets,
    components: setup.components,
    cached: (apiVersion, kind) => (apiVersion === 'apps/v1' && kind === 'Deployment' ? owned.list() : []),
  });
  const controller = manager.controller('flantintegration', reconciler, { resyncPeriodMs: setup.syncPeriodMs });
  controller.watchPrimary(flantIntegrations);
  controller.watch(owned, (obj) => ownerKeys(obj));
  controller.watch(secrets, (secret) => (isReferenced(secret, flantIntegrations.list()) ? flantIntegrations.list().map((fi) => fi.metadata?.name ?? '') : []));
  return manager;
}

/** True when a FlantIntegration reads this Secret (licence, Madison key) or it is the registry Secret. */
function isReferenced(secret: Secret, fis: readonly KubeObject[]): boolean {
  const ns = secret.metadata?.namespace;
  const name = secret.metadata?.name;
  if (ns === registrySecret.namespace && name === registrySecret.name) return true;
  return fis.some((fi) => {
    const spec = (fi.spec ?? {}) as { licenseKeySecretRef?: { namespace: string; name: string }; madison?: { authKeySecretRef?: { namespace: string; name: string } }; namespace?: string };
    const refs = [spec.licenseKeySecretRef, spec.madison?.authKeySecretRef];
    return refs.some((r) => r?.namespace === ns && r?.name === name) || spec.namespace === ns;
  });
}

/** Keys of the FlantIntegrations that own an object. */
function ownerKeys(obj: KubeObject): string[] {
  return (obj.metadata?.ownerReferences ?? []).filter((r) => r.kind === 'FlantIntegration').map((r) => r.name);
}
