import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../reconciler/index.js';
import { controllerUsage, deckhouseControllers, ingressNginx, ingressPodCounts, type Workload, type WorkloadKind } from './workloads.js';

/** A workload of a Deckhouse module, as the API serves it. */
function workload(
  kind: WorkloadKind,
  namespace: string,
  name: string,
  over: { labels?: Record<string, string>; annotations?: Record<string, string>; status?: object } = {},
): Workload {
  return {
    kind,
    object: { metadata: { namespace, name, labels: { heritage: 'deckhouse', ...over.labels }, annotations: over.annotations }, status: over.status },
  };
}

/** A deployed ingress-nginx controller, labelled and annotated as Deckhouse's ingress-nginx module writes it. */
function deployed(
  kind: 'DaemonSet' | 'Deployment',
  controller: string,
  version: string,
  inlet: string,
  ready: number,
  labels: Record<string, string> = {},
): Workload {
  return workload(kind, ingressNginx.namespace, `controller-${controller}`, {
    labels: { module: 'ingress-nginx', app: 'controller', name: controller, ...labels },
    annotations: { [ingressNginx.versionAnnotation]: version, [ingressNginx.inletAnnotation]: inlet },
    status: kind === 'DaemonSet' ? { numberReady: ready } : { readyReplicas: ready },
  });
}

const ingressController = (name: string, inlet: string, controllerVersion?: string): KubeObject => ({
  metadata: { name },
  spec: { inlet, ...(controllerVersion ? { controllerVersion } : {}) },
});

describe("Deckhouse's controllers and their resource use", () => {
  const workloads = [
    workload('Deployment', 'd8-user-authn', 'dex', { labels: { module: 'user-authn' } }),
    workload('DaemonSet', 'd8-ingress-nginx', 'controller-nginx', { labels: { module: 'ingress-nginx' } }),
    workload('StatefulSet', 'd8-monitoring', 'prometheus-main', { labels: { module: 'prometheus' } }),
    workload('Deployment', 'd8-system', 'no-module'),
  ];

  it('are the workloads that name their module, with their kind', () => {
    expect(deckhouseControllers(workloads)).toEqual([
      { name: 'dex', namespace: 'd8-user-authn', kind: 'Deployment', module: 'user-authn' },
      { name: 'controller-nginx', namespace: 'd8-ingress-nginx', kind: 'DaemonSet', module: 'ingress-nginx' },
      { name: 'prometheus-main', namespace: 'd8-monitoring', kind: 'StatefulSet', module: 'prometheus' },
    ]);
  });

  it('take their value from the grouped answer by namespace, name and kind; a controller the answer lacks is not exported', () => {
    const answer = [
      { labels: { namespace: 'd8-user-authn', controller_name: 'dex', controller_type: 'Deployment' }, value: 0.25 },
      { labels: { namespace: 'd8-monitoring', controller_name: 'prometheus-main', controller_type: 'StatefulSet' }, value: 2 },
      // Same name, other kind: not dex's.
      { labels: { namespace: 'd8-user-authn', controller_name: 'dex', controller_type: 'StatefulSet' }, value: 99 },
    ];
    expect(controllerUsage(deckhouseControllers(workloads), answer)).toEqual([
      { labels: { name: 'dex', module: 'user-authn', kind: 'Deployment' }, value: 0.25 },
      { labels: { name: 'prometheus-main', module: 'prometheus', kind: 'StatefulSet' }, value: 2 },
    ]);
    expect(controllerUsage(deckhouseControllers(workloads), undefined)).toEqual([]);
  });
});

describe('ready pods of the ingress-nginx controllers', () => {
  it.each<[string, KubeObject[], Workload[], Array<{ inlet: string; version: string; isDefault: boolean; pods: number }>]>([
    [
      'sums DaemonSets and Deployments of one version and inlet',
      [ingressController('main', 'LoadBalancer', '1.10'), ingressController('second', 'LoadBalancer', '1.10')],
      [deployed('DaemonSet', 'main', '1.10', 'LoadBalancer', 3), deployed('Deployment', 'second', '1.10', 'LoadBalancer', 2)],
      [{ inlet: 'LoadBalancer', version: '1.10', isDefault: false, pods: 5 }],
    ],
    [
      'exports a controller on the default version with the version it runs and default="true"',
      [ingressController('main', 'HostPort'), ingressController('pinned', 'HostPort', '1.9')],
      [deployed('DaemonSet', 'main', '1.12', 'HostPort', 2), deployed('DaemonSet', 'pinned', '1.9', 'HostPort', 1)],
      [
        { inlet: 'HostPort', version: '1.12', isDefault: true, pods: 2 },
        { inlet: 'HostPort', version: '1.9', isDefault: false, pods: 1 },
      ],
    ],
    [
      "takes the Deployment's annotation when no IngressNginxController names it",
      [],
      [deployed('Deployment', 'orphan', '1.11', 'LoadBalancer', 4)],
      [{ inlet: 'LoadBalancer', version: '1.11', isDefault: false, pods: 4 }],
    ],
    [
      'leaves out failover DaemonSets, other namespaces and workloads without the labels',
      [ingressController('main', 'HostWithFailover', '1.10')],
      [
        deployed('DaemonSet', 'main', '1.10', 'HostWithFailover', 2),
        deployed('DaemonSet', 'main', '1.10', 'HostWithFailover', 7, { 'ingress-nginx-failover': '' }),
        workload('DaemonSet', 'elsewhere', 'controller-main', {
          labels: { module: 'ingress-nginx', app: 'controller', name: 'main' },
          status: { numberReady: 5 },
        }),
        workload('DaemonSet', ingressNginx.namespace, 'kruise', { labels: { module: 'ingress-nginx', app: 'kruise' }, status: { numberReady: 9 } }),
      ],
      [{ inlet: 'HostWithFailover', version: '1.10', isDefault: false, pods: 2 }],
    ],
    [
      'counts a controller with no ready pod yet as 0',
      [],
      [deployed('DaemonSet', 'new', '1.10', 'HostPort', 0)],
      [{ inlet: 'HostPort', version: '1.10', isDefault: false, pods: 0 }],
    ],
  ])('%s', (_, controllers, workloads, expected) => {
    expect(ingressPodCounts(controllers, workloads)).toEqual(expected);
  });
});
