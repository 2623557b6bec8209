/**
 * One home for what every workload we ship shares (the proxies, the pricing pods, the
 * controller's own Deployment in cdk8s/install.ts): the `restricted` Pod Security profile's
 * pod and container security contexts, the NetworkPolicy that admits one namespace to one
 * port, and the JSON of a chart.
 */
import type { NetworkPolicySpec, PodSecurityContext, SecurityContext } from 'cdk8s-plus-28/lib/imports/k8s.js';
import { k8s, type Chart } from '../imports/cdk8s.js';
import type { FlantIntegrationSpec } from '../api/index.js';
import { componentLabel, managedBySelector, type CacheView, type WatchSpec } from '../flantintegration/index.js';
import type { DeploymentObject, KubeObject } from '../reconciler/index.js';

/** The non-root user and group every container of ours runs as (distroless' `nonroot`). */
export const nonRootId = 65532;

/** A pod security context that passes the `restricted` profile; `fsGroup` for pods with writable volumes. */
export function restrictedPodSecurityContext(options: { fsGroup?: boolean } = {}): PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: nonRootId,
    runAsGroup: nonRootId,
    ...(options.fsGroup ? { fsGroup: nonRootId } : {}),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The pod spec's `imagePullSecrets` of `spec.imagePullSecrets`: none when it names none. */
export function imagePullSecrets(spec: Pick<FlantIntegrationSpec, 'imagePullSecrets'>): { imagePullSecrets?: Array<{ name: string }> } {
  return spec.imagePullSecrets?.length ? { imagePullSecrets: spec.imagePullSecrets.map((s) => ({ name: s.name })) } : {};
}

/**
 * Runtime settings of the controller and the pricing exporter containers, the same the scale
 * bench runs them with. V8's young generation of 1 MiB semi-spaces (its default grows to 16 MiB
 * each) keeps ~15-20 MiB less resident, for more frequent minor GCs that these programs' small
 * allocations barely notice: at 100 kwok nodes the controller went from 113-120 to 100 MiB RSS,
 * the exporter from 88 to 81, spec -> Ready p50 from 33 to 48 ms (`npm run bench -- scale`).
 */
export const nodeRuntimeEnv: ReadonlyArray<{ readonly name: string; readonly value: string }> = [
  { name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' },
];

/** A container security context that passes the `restricted` profile, with a read-only root file system. */
export const restrictedContainerSecurityContext: SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The NetworkPolicy's spec that admits connections to `port` of the pods `podLabels` select from namespace `from` only. */
export function ingressFromNamespace(podLabels: Record<string, string>, from: string, port: number | string): NetworkPolicySpec {
  return {
    podSelector: { matchLabels: podLabels },
    policyTypes: ['Ingress'],
    ingress: [
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': from } } }],
        ports: [{ port: typeof port === 'number' ? k8s.IntOrString.fromNumber(port) : k8s.IntOrString.fromString(port), protocol: 'TCP' }],
      },
    ],
  };
}

/** The objects of a chart, as the spine handles them. */
export function objectsOf(chart: Chart): KubeObject[] {
  return chart.toJson() as KubeObject[];
}

/** The informer over one component's own Deployments (by our labels), and typed reads of its cache. */
export interface OwnedDeployments {
  /** The informer to declare in the component's `informers`. */
  readonly watch: WatchSpec;
  /** The Deployment `namespace/name` of this component, if cached. */
  find(cache: CacheView, namespace: string, name: string): DeploymentObject | undefined;
}

/** {@link OwnedDeployments} of `component`: one informer for its Deployments cluster-wide, by its component label. */
export function ownedDeployments(component: string): OwnedDeployments {
  const name = `${component}-deployments`;
  return {
    watch: {
      name,
      path: '/apis/apps/v1/deployments',
      labelSelector: `${managedBySelector},${componentLabel}=${component}`,
      holdsOwn: { apiVersion: 'apps/v1', kind: 'Deployment' },
    },
    // The cache holds what this watch lists: Deployments only.
    find: (cache, namespace, deployment) =>
      (cache.list(name) as DeploymentObject[]).find((d) => d.metadata?.name === deployment && d.metadata?.namespace === namespace),
  };
}
