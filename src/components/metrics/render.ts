/**
 * The metrics objects, rendered purely from the spec and the facts (docs/architecture.md section 3):
 * the `pricing` Deployment (the exporter and the metrics agent side by side), the agent's
 * config and licence Secrets, the exporter's ServiceAccount and read-only ClusterRole, and a
 * PodMonitor for the agent's own metrics when that CRD is served.
 */
import { createHash } from 'node:crypto';
import { ApiObject, App, Chart, k8s, type PolicyRule } from '../../imports/cdk8s.js';
import { defaultAgentImages, group as fiGroup, plural as fiPlural, prometheusCASecret, type FlantIntegrationSpec } from '../../api/index.js';
import type { KubeObject } from '../../reconciler/index.js';
import { deckhouseMonitorLabels } from '../../flantintegration/index.js';
import { proxyEnv, userinfoKey } from '../egress.js';
import { placementSpec, type Placement } from '../placement.js';
import { alloyConfig } from './alloy.js';
import { agentConfigYaml, dataDir, licenceMount, type AgentConfigFacts } from './config.js';
import {
  imagePullSecrets,
  ingressFromNamespace,
  nodeRuntimeEnv,
  objectsOf,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../workloads.js';

/** Component name, the value of the component label. */
export const metricsComponent = 'metrics';
/** Name of the Deployment and of its ServiceAccount. */
export const pricingName = 'pricing';
/** Name of the exporter's ClusterRole and its binding (cluster-scoped, so prefixed). */
export const pricingRoleName = 'flant-integration-pricing';
/** The agent's config Secret, and its one key: the file of the agent chosen by `metrics.agent`. */
export const configSecret = { name: 'pricing-agent-config', keys: { Alloy: 'config.alloy', GrafanaAgent: 'agent-scraping-service.yaml' } } as const;
/** The Secret holding the licence the agent sends as its bearer token. */
export const licenceSecretName = 'pricing-agent-license';
/** The Secret the pricing pods read the egress proxy's credentials from. */
export const egressSecretName = 'pricing-egress';
/** The agent's liveness endpoint (Alloy's and grafana-agent's). */
export const agentHealthPath = '/-/healthy';
/** Port of the exporter's probe listener and of the agent's own HTTP server. */
export const ports = { probes: 9116, agent: 12345 } as const;

/** What the render needs beyond the spec. */
export interface MetricsFacts extends AgentConfigFacts {
  readonly licenceKey: string;
  /** Image of the `pricing` container: this program's own image. */
  readonly image: string;
  /** PodMonitor (monitoring.coreos.com/v1) is served. */
  readonly podMonitorServed: boolean;
  /** The credential values of the egress proxy, for scrubbing. */
  readonly egressSecrets?: readonly string[];
  /** Prometheus's CA bundle (PEM certificates, checked) from `spec.prometheus.caSecretRef`; none: the cluster CA. */
  readonly prometheusCA?: string;
  /**
   * Render a NetworkPolicy: the pricing pods accept connections only from this namespace (Prometheus', for the agent's own metrics); the exporter
   * listens on loopback.
   */
  readonly networkPolicyFrom?: string;
  /** Deckhouse's system nodes and PriorityClass, where they exist (src/components/placement.ts). @default none */
  readonly placement?: Placement;
}

const podLabels = { app: pricingName } as const;
const configDir = '/etc/pricing-agent/config';

/** Checksum of a value, as a pod annotation: a new config or licence rolls the pods. */
export function checksum(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** The agent's image: `metrics.image`, else the default of `metrics.agent`. */
export function agentImage(spec: FlantIntegrationSpec): string {
  return spec.metrics.image ?? defaultAgentImages[spec.metrics.agent];
}

/** The agent's config file: its key in the Secret and its text. */
export function agentConfigFile(spec: FlantIntegrationSpec, facts: AgentConfigFacts): { key: string; text: string } {
  const key = configSecret.keys[spec.metrics.agent];
  return { key, text: spec.metrics.agent === 'Alloy' ? alloyConfig(spec, facts) : agentConfigYaml(spec, facts) };
}

/**
 * The agent's arguments. Alloy: `run` on its file, the HTTP server on all addresses (the
 * PodMonitor scrapes it; the NetworkPolicy limits who may), its data under the emptyDir, and
 * no usage report to Grafana Labs (Alloy sends one by default). grafana-agent: static mode,
 * `${POD_NAME}` expanded from the environment.
 */
export function agentArgs(spec: FlantIntegrationSpec): string[] {
  const file = `${configDir}/${configSecret.keys[spec.metrics.agent]}`;
  if (spec.metrics.agent === 'Alloy') {
    return ['run', `--server.http.listen-addr=0.0.0.0:${ports.agent}`, `--storage.path=${dataDir}`, '--disable-reporting', file];
  }
  return [`-config.file=${file}`, '-config.expand-env', `-server.http.address=:${ports.agent}`];
}

/** Renders the metrics chart. */
export function renderMetrics(spec: FlantIntegrationSpec, facts: MetricsFacts): Chart {
  const chart = new Chart(new App(), metricsComponent);
  const ns = spec.namespace;
  const config = agentConfigFile(spec, facts);
  new k8s.KubeServiceAccount(chart, 'sa', { metadata: { name: pricingName, namespace: ns } });
  new k8s.KubeClusterRole(chart, 'role', { metadata: { name: pricingRoleName }, rules: exporterRules() });
  new k8s.KubeClusterRoleBinding(chart, 'binding', {
    metadata: { name: pricingRoleName },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: pricingRoleName },
    subjects: [{ kind: 'ServiceAccount', name: pricingName, namespace: ns }],
  });
  new k8s.KubeSecret(chart, 'config', {
    metadata: { name: configSecret.name, namespace: ns },
    type: 'Opaque',
    data: { [config.key]: b64(config.text) },
  });
  new k8s.KubeSecret(chart, 'license', {
    metadata: { name: licenceSecretName, namespace: ns },
    type: 'Opaque',
    data: { [licenceMount.key]: b64(facts.licenceKey) },
  });
  if (facts.egressUserinfo !== undefined) {
    new k8s.KubeSecret(chart, 'egress', {
      metadata: { name: egressSecretName, namespace: ns },
      type: 'Opaque',
      data: { [userinfoKey]: b64(facts.egressUserinfo) },
    });
  }
  pricingDeployment(chart, spec, facts, { config: checksum(config.text), licence: checksum(facts.licenceKey) });
  if (facts.prometheusCA !== undefined) caSecretAccess(chart, ns, facts.prometheusCA);
  if (facts.podMonitorServed) podMonitor(chart, ns);
  if (facts.networkPolicyFrom) networkPolicy(chart, ns, facts.networkPolicyFrom);
  return chart;
}

function b64(value: string): string {
  return Buffer.from(value).toString('base64');
}

/**
 * Exactly what the exporter reads, nothing more (e2e/least-privilege.spec.ts checks it against
 * the audit log): informers list and watch; one GET of the FlantIntegration CRD at start.
 */
function exporterRules(): PolicyRule[] {
  const watch = ['list', 'watch'];
  return [
    { apiGroups: [''], resources: ['nodes'], verbs: watch },
    { apiGroups: ['deckhouse.io'], resources: ['nodegroups', 'ingressnginxcontrollers'], verbs: watch },
    { apiGroups: [fiGroup], resources: [fiPlural], verbs: watch },
    {
      apiGroups: ['apiextensions.k8s.io'],
      resources: ['customresourcedefinitions'],
      resourceNames: ['nodegroups.deckhouse.io', 'ingressnginxcontrollers.deckhouse.io'],
      verbs: watch,
    },
    // At start-up: is the FlantIntegration CRD installed?
    { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], resourceNames: [`${fiPlural}.${fiGroup}`], verbs: ['get'] },
    {
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['deckhouse-discovery', 'd8-provider-cluster-configuration', 'd8-cluster-configuration'],
      verbs: watch,
    },
    // Deckhouse's own workloads (labelled heritage=deckhouse, which RBAC cannot bound): its version, its
    // controllers' resource use, the ingress-nginx controllers' ready pods. Read only.
    { apiGroups: ['apps'], resources: ['deployments', 'daemonsets', 'statefulsets'], verbs: watch },
    // Not an API request: Deckhouse's Prometheus (kube-rbac-proxy) asks the API server, by a
    // SubjectAccessReview, whether the token may get prometheuses/http main.
    { apiGroups: ['monitoring.coreos.com'], resources: ['prometheuses/http'], resourceNames: ['main'], verbs: ['get'] },
  ];
}

function pricingDeployment(chart: Chart, spec: FlantIntegrationSpec, facts: MetricsFacts, sums: { config: string; licence: string }): void {
  const fieldRef = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
  const probe = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString('probes') }, periodSeconds: 10, timeoutSeconds: 5 });
  const quantity = (v: string) => k8s.Quantity.fromString(v);
  const controlPlane = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];
  const placed = placementSpec(facts.placement);
  new k8s.KubeDeployment(chart, 'deployment', {
    metadata: { name: pricingName, namespace: spec.namespace, labels: { ...podLabels } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { ...podLabels } },
      template: {
        metadata: { labels: { ...podLabels }, annotations: { 'checksum/config': sums.config, 'checksum/license': sums.licence } },
        spec: {
          serviceAccountName: pricingName,
          ...imagePullSecrets(spec),
          securityContext: restrictedPodSecurityContext({ fsGroup: true }),
          // Spread over nodes, and allowed (not required) on control-plane nodes: on managed clusters they are hidden.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...podLabels } } } },
              ],
            },
          },
          ...placed,
          tolerations: [...(placed.tolerations ?? []), ...controlPlane.map((key) => ({ key, operator: 'Exists', effect: 'NoSchedule' }))],
          containers: [
            {
              name: 'pricing',
              image: facts.image,
              args: ['pricing', `--probe-listen=:${ports.probes}`],
              env: [...nodeRuntimeEnv, ...proxyEnv(spec, facts.egressUserinfo !== undefined ? egressSecretName : undefined)],
              ports: [{ name: 'probes', containerPort: ports.probes }],
              readinessProbe: probe('/readyz'),
              livenessProbe: probe('/healthz'),
              // npm run bench -- scale: 81-96 MiB RSS at rest from 100 to 5,000 nodes, 99 high-water; npm run bench:
              // 116 MiB at 10,000 nodes in 200 NodeGroups. The request is that and 10%, the limit over twice it.
              resources: { requests: { cpu: quantity('20m'), memory: quantity('128Mi') }, limits: { memory: quantity('256Mi') } },
              securityContext: restrictedContainerSecurityContext,
            },
            {
              name: 'agent',
              image: agentImage(spec),
              args: agentArgs(spec),
              env: [
                { name: 'NODE_NAME', ...fieldRef('spec.nodeName') },
                { name: 'POD_NAME', ...fieldRef('metadata.name') },
                ...proxyEnv(spec, facts.egressUserinfo !== undefined ? egressSecretName : undefined),
              ],
              ports: [{ name: 'agent-http', containerPort: ports.agent }],
              // Alloy and grafana-agent both answer /-/healthy while they run; lenient, since a restart is cheap but not free.
              livenessProbe: {
                httpGet: { path: agentHealthPath, port: k8s.IntOrString.fromString('agent-http') },
                periodSeconds: 30,
                timeoutSeconds: 5,
                failureThreshold: 4,
              },
              // Alloy on this config, scraping the exporter at 5,000 nodes (npm run bench -- scale): 219-222 MiB RSS, of
              // which 34 MiB its own (RssAnon), the rest its binary's pages. The request is that and 15%, the limit over twice it.
              resources: { requests: { cpu: quantity('50m'), memory: quantity('256Mi') }, limits: { memory: quantity('512Mi') } },
              securityContext: restrictedContainerSecurityContext,
              volumeMounts: [
                { name: 'config', mountPath: configDir, readOnly: true },
                { name: 'license', mountPath: licenceMount.dir, readOnly: true },
                { name: 'data', mountPath: dataDir },
              ],
            },
          ],
          volumes: [
            { name: 'config', secret: { secretName: configSecret.name } },
            { name: 'license', secret: { secretName: licenceSecretName } },
            { name: 'data', emptyDir: {} },
          ],
        },
      },
    },
  });
}

/** The copy of Prometheus's CA and a Role letting the exporter `get` exactly that Secret. */
function caSecretAccess(chart: Chart, namespace: string, ca: string): void {
  new k8s.KubeSecret(chart, 'prometheus-ca', {
    metadata: { name: prometheusCASecret.name, namespace },
    type: 'Opaque',
    data: { [prometheusCASecret.key]: b64(ca) },
  });
  const name = `${pricingRoleName}-ca`;
  new k8s.KubeRole(chart, 'ca-role', {
    metadata: { name, namespace },
    rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [prometheusCASecret.name], verbs: ['get'] }],
  });
  new k8s.KubeRoleBinding(chart, 'ca-binding', {
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name: pricingName, namespace }],
  });
}

/** Only the cluster's Prometheus may connect, and only to the agent's port; the exporter is on 127.0.0.1 for the agent beside it. */
function networkPolicy(chart: Chart, namespace: string, from: string): void {
  new k8s.KubeNetworkPolicy(chart, 'networkpolicy', {
    metadata: { name: pricingName, namespace },
    spec: ingressFromNamespace({ ...podLabels }, from, ports.agent),
  });
}

/** A PodMonitor so the cluster's Prometheus scrapes the agent's own metrics (remote-write health). */
function podMonitor(chart: Chart, namespace: string): void {
  new ApiObject(chart, 'podmonitor', {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: pricingName, namespace, labels: { ...deckhouseMonitorLabels } },
    spec: { selector: { matchLabels: { ...podLabels } }, podMetricsEndpoints: [{ port: 'agent-http', path: '/metrics' }] },
  });
}

/** The chart as plain objects, in apply order. */
export function metricsObjects(spec: FlantIntegrationSpec, facts: MetricsFacts): KubeObject[] {
  return objectsOf(renderMetrics(spec, facts));
}
