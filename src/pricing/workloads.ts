/**
 * Deckhouse's own workloads (Deployments, DaemonSets and StatefulSets labelled
 * `heritage=deckhouse` with a `module`): the resource use of each, from Prometheus, and the
 * ready pods of the ingress-nginx controllers, by inlet and version. Pure functions of the
 * cached objects and the query answers, as Deckhouse's `controller_metrics` and
 * `ingress_nginx_controllers` hooks computed them (docs/architecture.md section 4).
 */
import type { KubeObject } from '../reconciler/index.js';
import type { Sample } from './prometheus.js';

/** The kinds of workload a Deckhouse module runs. */
export const workloadKinds = ['Deployment', 'DaemonSet', 'StatefulSet'] as const;
/** One of {@link workloadKinds}. */
export type WorkloadKind = (typeof workloadKinds)[number];

/** What the exporter's informers select: Deckhouse's workloads, each naming its module. */
export const deckhouseWorkloadSelector = 'heritage=deckhouse,module';

/** A workload as its informer caches it, with its kind (list items carry none). */
export interface Workload {
  readonly kind: WorkloadKind;
  readonly object: KubeObject;
}

/** A Deckhouse controller: the labels of its usage series, and where it runs. */
export interface DeckhouseController {
  readonly name: string;
  readonly namespace: string;
  readonly kind: WorkloadKind;
  readonly module: string;
}

/** The controllers among `workloads`: those with a `module` label (the informers select only them). */
export function deckhouseControllers(workloads: readonly Workload[]): DeckhouseController[] {
  return workloads.flatMap(({ kind, object }) => {
    const module = object.metadata?.labels?.module;
    const name = object.metadata?.name;
    const namespace = object.metadata?.namespace;
    return module && name && namespace ? [{ name, namespace, kind, module }] : [];
  });
}

/** A usage series: the controller's labels as Deckhouse exported them (`name`, `module`, `kind`), and its value. */
export interface UsageSample {
  readonly labels: { readonly name: string; readonly module: string; readonly kind: string };
  readonly value: number;
}

/**
 * Each controller's value in `answer` (grouped by namespace, controller_name and
 * controller_type); a controller the answer lacks is not exported.
 */
export function controllerUsage(controllers: readonly DeckhouseController[], answer: readonly Sample[] | undefined): UsageSample[] {
  if (!answer) return [];
  const values = new Map(answer.map((s) => [`${s.labels.namespace}/${s.labels.controller_type}/${s.labels.controller_name}`, s.value]));
  return controllers.flatMap((c) => {
    const value = values.get(`${c.namespace}/${c.kind}/${c.name}`);
    return value === undefined || Number.isNaN(value) ? [] : [{ labels: { name: c.name, module: c.module, kind: c.kind }, value }];
  });
}

/** Where Deckhouse runs the ingress-nginx controllers, and the annotations it puts on them. */
export const ingressNginx = {
  namespace: 'd8-ingress-nginx',
  labels: { heritage: 'deckhouse', module: 'ingress-nginx', app: 'controller' },
  failoverLabel: 'ingress-nginx-failover',
  versionAnnotation: 'ingress-nginx-controller.deckhouse.io/controller-version',
  inletAnnotation: 'ingress-nginx-controller.deckhouse.io/inlet',
} as const;

/** The version an IngressNginxController names, `default` when it names none (as the hook reads it). */
const defaultVersion = 'default';

/** Ready pods of the ingress-nginx controllers, by inlet and version. */
export interface IngressPodCount {
  readonly inlet: string;
  readonly version: string;
  readonly isDefault: boolean;
  readonly pods: number;
}

/**
 * Ready pods of the deployed controllers (DaemonSets, failover ones aside, and Deployments in
 * `d8-ingress-nginx` labelled as Deckhouse labels them), summed by version and inlet. The
 * version is the IngressNginxController's of the same name when there is one (else the
 * Deployment's annotation); one that uses the default version is exported with the version
 * the default controllers run and `default="true"`.
 */
export function ingressPodCounts(controllers: readonly KubeObject[], workloads: readonly Workload[]): IngressPodCount[] {
  const named = new Map(controllers.map((c) => [c.metadata?.name ?? '', specVersion(c)]));
  const deployed = workloads.filter(isIngressController).map(({ kind, object }) => {
    const annotations = object.metadata?.annotations ?? {};
    const name = object.metadata?.labels?.name ?? '';
    const status = (object.status ?? {}) as { numberReady?: number; readyReplicas?: number };
    return {
      name,
      deployedVersion: annotations[ingressNginx.versionAnnotation] ?? '',
      version: named.get(name) ?? annotations[ingressNginx.versionAnnotation] ?? '',
      inlet: annotations[ingressNginx.inletAnnotation] ?? '',
      ready: (kind === 'DaemonSet' ? status.numberReady : status.readyReplicas) ?? 0,
    };
  });
  const defaultRuns = deployed.find((d) => named.get(d.name) === defaultVersion)?.deployedVersion ?? '';
  const sums = new Map<string, IngressPodCount>();
  for (const d of deployed) {
    const key = `${d.version}\u0000${d.inlet}`;
    const isDefault = d.version === defaultVersion;
    const prior = sums.get(key);
    sums.set(key, { inlet: d.inlet, version: isDefault ? defaultRuns : d.version, isDefault, pods: (prior?.pods ?? 0) + d.ready });
  }
  return [...sums.values()];
}

function specVersion(controller: KubeObject): string {
  return (controller.spec as { controllerVersion?: string } | undefined)?.controllerVersion ?? defaultVersion;
}

function isIngressController({ kind, object }: Workload): boolean {
  const labels = object.metadata?.labels ?? {};
  if (object.metadata?.namespace !== ingressNginx.namespace) return false;
  if (!Object.entries(ingressNginx.labels).every(([k, v]) => labels[k] === v)) return false;
  if (kind === 'DaemonSet') return labels[ingressNginx.failoverLabel] === undefined;
  return kind === 'Deployment';
}
