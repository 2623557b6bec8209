/**
 * The flant_pricing_* metrics (docs/architecture.md section 4) in the exporter's own prom-client
 * registry. Every gauge reads the current state when scraped; nothing is computed per event.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { FlantIntegrationSpec } from '../api/index.js';
import type { QueryName, QueryResults } from './prometheus.js';
import { clusterType, type PricingClusterType } from './rules.js';
import { byType, type PricingState } from './state.js';
import { terraformState } from './terraform.js';
import { controllerUsage, type DeckhouseController, type IngressPodCount } from './workloads.js';

/** Facts about the cluster the info metric carries; every label is present, empty when unknown. */
export interface ClusterFacts {
  releaseChannel: string;
  bundle: string;
  cloudProvider: string;
  cloudLayout: string;
  controlPlaneVersion: string;
  deckhouseVersion: string;
  /** `clusterType` of the cluster configuration, when known. */
  configuredType?: string;
  /** terraform-manager is in use (the cluster has a cloud provider configuration). */
  terraformInUse: boolean;
}

/** An IngressNginxController, reduced to the labels exported. */
export interface IngressController {
  readonly inlet: string;
  readonly version: string;
  readonly isDefault: boolean;
}

/** What the metrics read at scrape time. */
export interface ExporterView {
  readonly state: PricingState;
  /** The FlantIntegration's spec, when it exists. */
  spec(): FlantIntegrationSpec | undefined;
  readonly cluster: ClusterFacts;
  readonly queries: QueryResults;
  /** IngressNginxControllers, when their CRD is served. */
  ingressControllers(): readonly IngressController[] | undefined;
  /** Deckhouse's controllers (its modules' Deployments, DaemonSets and StatefulSets). */
  deckhouseControllers(): readonly DeckhouseController[];
  /** Ready pods of the deployed ingress-nginx controllers, by inlet and version. */
  ingressPods(): readonly IngressPodCount[];
}

type Collect = (g: Gauge) => void;

function gauge(registry: Registry, name: string, help: string, labelNames: readonly string[], fill: Collect): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}

/** A gauge without labels that is exported only while `read` knows its value. */
function optionalGauge(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      const value = read();
      if (value === undefined) this.remove();
      else this.set(value);
    },
  });
}

/** Builds the registry of the exporter. */
export function pricingRegistry(view: ExporterView): Registry {
  const registry = new Registry();
  nodeMetrics(registry, view);
  clusterMetrics(registry, view);
  billingMetrics(registry, view);
  queryMetrics(registry, view);
  terraformMetrics(registry, view);
  new Counter({
    name: 'flant_pricing_exporter_invalid_annotations_total',
    help: 'Node annotations pricing.flant.com/nodeType with a value that is not a billing type (the node counts by its NodeGroup).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(view.state.invalidAnnotations);
    },
  });
  new Counter({
    name: 'flant_pricing_exporter_query_errors_total',
    help: 'Failed Prometheus queries, by query (the last answer is kept).',
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [query, n] of view.queries.errors) this.inc({ query }, n);
    },
  });
  return registry;
}

function nodeMetrics(registry: Registry, { state }: ExporterView): void {
  const perType = (values: Record<string, number>) => (g: Gauge) => {
    for (const [type, n] of byType(values)) g.set({ type }, n);
  };
  gauge(registry, 'flant_pricing_nodes', 'Nodes by billing type.', ['type'], perType(state.nodes));
  gauge(registry, 'flant_pricing_controlplane_nodes', 'Nodes of NodeGroup master, by billing type.', ['type'], perType(state.controlPlane));
  gauge(
    registry,
    'flant_pricing_controlplane_tainted_nodes',
    'Master nodes with a control-plane or master taint, by billing type.',
    ['type'],
    perType(state.controlPlaneTainted),
  );
  gauge(registry, 'flant_pricing_count_nodes_by_type', 'Nodes minus tainted control-plane nodes, by billing type (deprecated).', ['type'], (g) => {
    for (const [type, n] of byType(state.nodes)) g.set({ type }, n - state.controlPlaneTainted[type]);
  });
  const masters = () => state.masterFacts();
  gauge(registry, 'flant_pricing_masters_count', 'Master nodes.', [], (g) => g.set(masters().count));
  gauge(registry, 'flant_pricing_master_is_dedicated', '1 when every master is tainted against workloads.', [], (g) =>
    g.set(masters().dedicated ? 1 : 0),
  );
  gauge(registry, 'flant_pricing_master_min_cpu', 'Smallest allocatable CPU of a master, in cores, rounded up.', [], (g) => g.set(masters().minCPU));
  gauge(registry, 'flant_pricing_master_min_memory', 'Smallest allocatable memory of a master, in bytes.', [], (g) => g.set(masters().minMemory));
  gauge(registry, 'flant_pricing_all_managed_nodes_up_to_date', '1 when every NodeGroup has status.nodes == status.upToDate.', [], (g) =>
    g.set(state.allUpToDate() ? 1 : 0),
  );
  const groupLabels = ['node_group', 'is_master', 'is_system', 'is_monitoring', 'is_frontend'];
  const perGroup = (field: 'cpu' | 'memory') => (g: Gauge) => {
    const capacity = state.groupCapacity;
    for (const [name, flags] of state.groupFlags()) {
      const labels = { node_group: name, ...Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, String(v)])) };
      g.set(labels, capacity.get(name)?.[field] ?? 0);
    }
  };
  gauge(registry, 'flant_pricing_node_group_cpu_cores', 'Sum of node CPU capacity per NodeGroup, in cores.', groupLabels, perGroup('cpu'));
  gauge(registry, 'flant_pricing_node_group_memory', 'Sum of node memory capacity per NodeGroup, in bytes.', groupLabels, perGroup('memory'));
}

function clusterMetrics(registry: Registry, view: ExporterView): void {
  const labels = [
    'release_channel',
    'bundle',
    'cloud_provider',
    'cloud_layout',
    'control_plane_version',
    'minimal_kubelet_version',
    'deckhouse_version',
    'pricing_cluster_type',
  ];
  gauge(registry, 'flant_pricing_cluster_info', 'Facts about the cluster; always 1.', labels, (g) => {
    const c = view.cluster;
    g.set(
      {
        release_channel: c.releaseChannel,
        bundle: c.bundle,
        cloud_provider: c.cloudProvider,
        cloud_layout: c.cloudLayout,
        control_plane_version: c.controlPlaneVersion,
        minimal_kubelet_version: view.state.minimalKubeletVersion(),
        deckhouse_version: c.deckhouseVersion,
        pricing_cluster_type: pricingClusterType(view),
      },
      1,
    );
  });
  gauge(
    registry,
    'flant_pricing_ingress_nginx_controllers_count',
    'IngressNginxControllers, by inlet, version and whether the version is the default.',
    ['inlet', 'version', 'default'],
    (g) => {
      for (const c of view.ingressControllers() ?? []) g.inc({ inlet: c.inlet, version: c.version, default: String(c.isDefault) }, 1);
    },
  );
  gauge(
    registry,
    'flant_pricing_ingress_nginx_controllers_pod_count',
    'Ready pods of the ingress-nginx controllers, by inlet, version and whether the version is the default.',
    ['inlet', 'version', 'default'],
    (g) => {
      for (const c of view.ingressPods()) g.set({ inlet: c.inlet, version: c.version, default: String(c.isDefault) }, c.pods);
    },
  );
}

/** The cluster type as billed. */
export function pricingClusterType(view: ExporterView): PricingClusterType {
  return clusterType({
    override: view.spec()?.billing.clusterType,
    configured: view.cluster.configuredType,
    cloudProvider: view.cluster.cloudProvider,
    staticNodes: view.state.staticNodes(),
  });
}

function billingMetrics(registry: Registry, view: ExporterView): void {
  const billing = () => view.spec()?.billing;
  const flag = (name: string, help: string, read: (b: NonNullable<ReturnType<typeof billing>>) => number) =>
    optionalGauge(registry, name, help, () => {
      const b = billing();
      return b ? read(b) : undefined;
    });
  flag('flant_pricing_contacts', 'Contact persons billed (spec.billing.contacts).', (b) => b.contacts);
  flag('flant_pricing_plan_is_bought_as_bundle', '1 when the plan is bought as a bundle.', (b) => (b.planIsBoughtAsBundle ? 1 : 0));
  flag('flant_pricing_auxiliary_cluster', '1 when the cluster is auxiliary.', (b) => (b.auxiliaryCluster ? 1 : 0));
  flag('flant_pricing_nodes_discount', 'Discount on nodes, in percent.', (b) => b.nodesDiscount);
  flag('flant_pricing_do_not_charge_for_rock_solid', '1 when the rock-solid channel is not charged for.', (b) => (b.doNotChargeForRockSolid ? 1 : 0));
  gauge(
    registry,
    'flant_pricing_kubeall',
    'How Flant engineers reach the control plane; only when kubeall.host is set.',
    ['host', 'kubectl', 'kubeconfig', 'context'],
    (g) => {
      const k = view.spec()?.kubeall;
      if (k?.host) g.set({ host: k.host, kubectl: k.kubectl, kubeconfig: k.kubeconfig, context: k.context }, 1);
    },
  );
}

function queryMetrics(registry: Registry, view: ExporterView): void {
  const { queries } = view;
  const single = (name: string, help: string, query: QueryName) =>
    optionalGauge(registry, name, help, () => {
      const answer = queries.get(query);
      return answer ? (answer[0]?.value ?? 0) : undefined;
    });
  single('flant_pricing_helm_releases_count', 'Helm releases (helm_releases_count).', 'helmReleases');
  single('flant_pricing_deprecated_resources_in_helm_releases', 'Helm releases using deprecated resource versions.', 'deprecatedResources');
  single('flant_pricing_ingress_nginx_controllers_rps', 'Requests per second through ingress-nginx, over 20 minutes.', 'ingressRPS');
  single('flant_pricing_prometheus_series', 'Head series of the main Prometheus.', 'prometheusSeries');
  single('flant_pricing_deckhouse_startup_converge_duration_seconds', 'Deckhouse convergence time at operator start-up.', 'startupConverge');
  const kinds: Array<[string, QueryName]> = [
    ['DaemonSet', 'daemonSets'],
    ['Deployment', 'deployments'],
    ['StatefulSet', 'statefulSets'],
    ['Pod', 'pods'],
    ['Namespace', 'namespaces'],
    ['Service', 'services'],
    ['Ingress', 'ingresses'],
  ];
  gauge(registry, 'flant_pricing_resources_count', 'Objects in the cluster, by kind.', ['kind'], (g) => {
    for (const [kind, query] of kinds) {
      const answer = queries.get(query);
      if (answer) g.set({ kind }, answer[0]?.value ?? 0);
    }
  });
  const byLabel = (name: string, help: string, label: string, query: QueryName) =>
    gauge(registry, name, help, [label], (g) => {
      for (const s of queries.get(query) ?? []) g.set({ [label]: s.labels[label] ?? '' }, s.value);
    });
  const usage = (name: string, help: string, query: QueryName) =>
    gauge(registry, name, help, ['name', 'module', 'kind'], (g) => {
      for (const s of controllerUsage(view.deckhouseControllers(), queries.get(query))) g.set(s.labels, s.value);
    });
  usage(
    'flant_pricing_controller_average_cpu_usage_seconds',
    'CPU per pod of each Deckhouse controller (cores: rate of container_cpu_usage_seconds_total over 5m), averaged over its pods.',
    'controllerCPU',
  );
  usage(
    'flant_pricing_controller_average_memory_working_set_bytes:without_kmem',
    'Working-set memory per pod of each Deckhouse controller (bytes, without kernel memory, averaged over 5m), averaged over its pods.',
    'controllerMemory',
  );
  byLabel('flant_pricing_node_os_image_count', 'Nodes by OS image.', 'os_image', 'osImages');
  byLabel('flant_pricing_node_cri_count', 'Nodes by container runtime version.', 'container_runtime_version', 'containerRuntimes');
}

function terraformMetrics(registry: Registry, view: ExporterView): void {
  const state = () =>
    terraformState({
      inUse: view.cluster.terraformInUse,
      cluster: view.queries.get('terraformCluster'),
      nodes: view.queries.get('terraformNodes'),
      templates: view.queries.get('terraformNodeTemplates'),
      groups: view.state.groupTypes(),
    });
  gauge(
    registry,
    'flant_pricing_terraform_state',
    'Worst terraform status of the cluster, the masters and the other terraform NodeGroups.',
    ['cluster', 'master', 'terranode'],
    (g) => {
      const s = state();
      g.set({ cluster: s.cluster, master: s.master, terranode: s.terranode }, 1);
    },
  );
  gauge(registry, 'flant_pricing_terraform_state_node_group', 'Worst terraform status per NodeGroup.', ['name', 'status'], (g) => {
    for (const [name, status] of state().nodeGroups) g.set({ name, status }, 1);
  });
}
