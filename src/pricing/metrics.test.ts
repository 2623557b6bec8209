import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema, type FlantIntegrationSpec } from '../api/index.js';
import { pricingRegistry, type ClusterFacts, type ExporterView } from './metrics.js';
import { QueryResults } from './prometheus.js';
import { PricingState } from './state.js';

const cluster: ClusterFacts = {
  releaseChannel: 'Stable',
  bundle: 'Default',
  cloudProvider: 'openstack',
  cloudLayout: 'Standard',
  controlPlaneVersion: '1.30',
  deckhouseVersion: 'v1.68.3',
  configuredType: 'Cloud',
  terraformInUse: true,
};

function view(
  over: { spec?: FlantIntegrationSpec; cluster?: Partial<ClusterFacts>; queries?: QueryResults } & Partial<
    Pick<ExporterView, 'deckhouseControllers' | 'ingressPods'>
  > = {},
): ExporterView {
  const state = new PricingState();
  state.upsertGroup({ metadata: { name: 'master' }, spec: { nodeType: 'CloudPermanent' }, status: { nodes: 1, upToDate: 1 } });
  state.upsertNode({
    metadata: { name: 'm', labels: { 'node.deckhouse.io/group': 'master' } },
    status: { capacity: { cpu: '4', memory: '8Gi' }, allocatable: { cpu: '3500m', memory: '7Gi' }, nodeInfo: { kubeletVersion: 'v1.30.14' } },
  });
  return {
    state,
    spec: () => over.spec,
    cluster: { ...cluster, ...over.cluster },
    queries: over.queries ?? new QueryResults(),
    ingressControllers: () => undefined,
    deckhouseControllers: over.deckhouseControllers ?? (() => []),
    ingressPods: over.ingressPods ?? (() => []),
  };
}

async function lines(v: ExporterView): Promise<string[]> {
  return (await pricingRegistry(v).metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
}

describe('pricing metrics', () => {
  it('exports every type label, the master facts and the cluster info with every label', async () => {
    const out = await lines(view({ spec: flantIntegrationSpecSchema.parse({}) }));
    expect(out).toEqual(
      expect.arrayContaining([
        'flant_pricing_nodes{type="ephemeral"} 0',
        'flant_pricing_nodes{type="vm"} 1',
        'flant_pricing_nodes{type="hard"} 0',
        'flant_pricing_nodes{type="special"} 0',
        'flant_pricing_count_nodes_by_type{type="vm"} 1',
        'flant_pricing_masters_count 1',
        'flant_pricing_master_min_cpu 4',
        `flant_pricing_master_min_memory ${7 * 2 ** 30}`,
        'flant_pricing_master_is_dedicated 0',
        'flant_pricing_cluster_info{release_channel="Stable",bundle="Default",cloud_provider="openstack",cloud_layout="Standard",' +
          'control_plane_version="1.30",minimal_kubelet_version="v1.30.14",deckhouse_version="v1.68.3",pricing_cluster_type="Cloud"} 1',
        'flant_pricing_node_group_cpu_cores{node_group="master",is_master="false",is_system="false",is_monitoring="false",is_frontend="false"} 4',
        'flant_pricing_all_managed_nodes_up_to_date 1',
        'flant_pricing_terraform_state{cluster="missing",master="missing",terranode="none"} 1',
        'flant_pricing_contacts 0',
        'flant_pricing_nodes_discount 0',
        'flant_pricing_exporter_invalid_annotations_total 0',
      ]),
    );
  });

  it('exports kubeall only with a host, and billing from the spec', async () => {
    expect((await lines(view({ spec: flantIntegrationSpecSchema.parse({}) }))).some((l) => l.startsWith('flant_pricing_kubeall'))).toBe(false);
    const spec = flantIntegrationSpecSchema.parse({
      kubeall: { host: 'm0.example.com' },
      billing: { contacts: 3, nodesDiscount: 15, auxiliaryCluster: true, clusterType: 'Hybrid' },
    });
    const out = await lines(view({ spec }));
    expect(out).toEqual(
      expect.arrayContaining([
        'flant_pricing_kubeall{host="m0.example.com",kubectl="sudo kubectl",kubeconfig="/root/.kube/config",context=""} 1',
        'flant_pricing_contacts 3',
        'flant_pricing_nodes_discount 15',
        'flant_pricing_auxiliary_cluster 1',
      ]),
    );
    expect(out.find((l) => l.startsWith('flant_pricing_cluster_info'))).toContain('pricing_cluster_type="Hybrid"');
  });

  it('keeps every cluster info label present and empty without Deckhouse, and billing absent without a FlantIntegration', async () => {
    const empty: Partial<ClusterFacts> = {
      releaseChannel: '',
      bundle: '',
      cloudProvider: '',
      cloudLayout: '',
      deckhouseVersion: '',
      configuredType: undefined,
      terraformInUse: false,
    };
    const out = await lines(view({ cluster: empty }));
    expect(out.find((l) => l.startsWith('flant_pricing_cluster_info'))).toBe(
      'flant_pricing_cluster_info{release_channel="",bundle="",cloud_provider="",cloud_layout="",' +
        'control_plane_version="1.30",minimal_kubelet_version="v1.30.14",deckhouse_version="",pricing_cluster_type="Cloud"} 1',
    );
    expect(out.some((l) => l.startsWith('flant_pricing_contacts'))).toBe(false);
    expect(out).toContain('flant_pricing_terraform_state{cluster="none",master="none",terranode="none"} 1');
  });

  it('exports a Prometheus-derived metric only once its query answered, and counts failures', async () => {
    const queries = new QueryResults();
    expect((await lines(view({ queries }))).some((l) => l.startsWith('flant_pricing_helm_releases_count'))).toBe(false);
    await queries.refresh(async (q) => {
      if (q === 'helm_releases_count') return [{ labels: {}, value: 42 }];
      if (q.includes('os_image')) return [{ labels: { os_image: 'Ubuntu 22.04' }, value: 3 }];
      throw new Error('boom');
    });
    const out = await lines(view({ queries }));
    expect(out).toEqual(
      expect.arrayContaining([
        'flant_pricing_helm_releases_count 42',
        'flant_pricing_node_os_image_count{os_image="Ubuntu 22.04"} 3',
        'flant_pricing_exporter_query_errors_total{query="pods"} 1',
      ]),
    );
    await queries.refresh(async () => {
      throw new Error('down');
    });
    expect(await lines(view({ queries }))).toContain('flant_pricing_helm_releases_count 42');
  });

  it("exports the Deckhouse controllers' resource use and the ingress-nginx controllers' ready pods under Deckhouse's names", async () => {
    const queries = new QueryResults();
    await queries.refresh(async (q) => {
      const value = q.includes('container_cpu_usage_seconds_total') ? 0.5 : q.includes('container_memory_working_set_bytes') ? 104857600 : undefined;
      if (value === undefined) return [];
      return [{ labels: { namespace: 'd8-user-authn', controller_name: 'dex', controller_type: 'Deployment' }, value }];
    });
    const out = await lines(
      view({
        queries,
        deckhouseControllers: () => [{ name: 'dex', namespace: 'd8-user-authn', kind: 'Deployment', module: 'user-authn' }],
        ingressPods: () => [{ inlet: 'LoadBalancer', version: '1.10', isDefault: true, pods: 3 }],
      }),
    );
    expect(out).toEqual(
      expect.arrayContaining([
        'flant_pricing_controller_average_cpu_usage_seconds{name="dex",module="user-authn",kind="Deployment"} 0.5',
        'flant_pricing_controller_average_memory_working_set_bytes:without_kmem{name="dex",module="user-authn",kind="Deployment"} 104857600',
        'flant_pricing_ingress_nginx_controllers_pod_count{inlet="LoadBalancer",version="1.10",default="true"} 3',
      ]),
    );
  });
});
