/**
 * The install manifests of the controller, as typed cdk8s constructs: its namespaces, RBAC,
 * Deployment, metrics Service, and the optional ServiceMonitor and NetworkPolicy.
 * `npm run generate` synthesizes them into config/ (kustomize) and charts/ (Helm, from the
 * same constructs with placeholders, see chart.ts); a test fails when the committed files drift.
 *
 * RBAC is least privilege, proven by e2e/least-privilege.spec.ts: every verb below was used
 * by the controller across the e2e suite (kube-apiserver's audit log), or is needed to grant
 * the pricing exporter's ClusterRole (RBAC lets one grant only what one holds), or is checked
 * by admission rather than called (named in the comment).
 */
import { App, Chart, type ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { group, plural } from '../src/api/index.js';
import { components as allComponents } from '../src/cmd/components.js';
import {
  imagePullSecrets,
  ingressFromNamespace,
  nodeRuntimeEnv,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../src/components/workloads.js';
import {
  clusterConfigurationSecret,
  componentsRBAC,
  deckhouseMonitorLabels,
  deckhouseNamespaceLabels,
  uncovered,
} from '../src/flantintegration/index.js';

/** Namespace the controller runs in. */
export const controllerNamespace = 'flant-integration-system';
/** Name of the controller's ServiceAccount, Deployment and roles. */
export const controllerName = 'flant-integration-controller';
/** Image the Deployment runs; `npm run e2e:kind` builds and loads it under this name. */
export const controllerImage = 'flant-integration-controller:dev';
/** The default workloads' namespace (`spec.namespace`): the controller writes its Secrets there. */
export const workloadsNamespace = 'd8-flant-integration';
/** Deckhouse's namespace, where its registry Secret (the default licence source) lives. */
export const deckhouseNamespace = 'd8-system';
/** Where the cluster's Prometheus runs (Deckhouse's): the only source the NetworkPolicies admit. */
export const monitoringNamespace = 'd8-monitoring';

const labels = { 'app.kubernetes.io/name': controllerName, 'app.kubernetes.io/part-of': 'flant-integration' };
/** Pod Security admission: our namespaces run only pods that pass the `restricted` profile. */
const restricted = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' };

/** What the components' declarations need (src/flantintegration/rbac.ts): derived, never listed here by hand. */
const components = componentsRBAC(allComponents({ image: controllerImage }), controllerImage);

/** What the spine itself needs cluster-wide, whatever the components. */
const spineRules: k8s.PolicyRule[] = [
  // Its own resource: an informer, the finalizer (merge patch), and the status (merge patch).
  { apiGroups: [group], resources: [plural], verbs: ['list', 'watch', 'patch'] },
  { apiGroups: [group], resources: [`${plural}/status`], verbs: ['patch'] },
  // Not a call: the OwnerReferencesPermissionEnforcement admission plugin asks for it when an
  // object we write names the FlantIntegration as owner with blockOwnerDeletion.
  { apiGroups: [group], resources: [`${plural}/finalizers`], verbs: ['update'] },
  // Does spec.namespace, or d8-monitoring (Prometheus main), exist? Namespaces are never written.
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
  // Does the Service d8-system/deckhouse exist (metrics ships its telemetry then)? By name only.
  { apiGroups: [''], resources: ['services'], resourceNames: ['deckhouse'], verbs: ['get'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
  // Deckhouse's ClusterConfiguration (kube-system), by name and read-only: the cluster's global proxy.
  { apiGroups: [''], resources: ['secrets'], resourceNames: [clusterConfigurationSecret.name], verbs: ['list', 'watch'] },
  // One informer per CRD a component writes, by name: a CRD appearing is used at once.
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['list', 'watch'] },
  // At start-up: is our own CRD installed? (a clear error instead of a failing informer)
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], resourceNames: [`${plural}.${group}`], verbs: ['get'] },
];

/**
 * Everything the controller may do cluster-wide: the spine's needs, the components' (their
 * cluster-scoped objects by name, their informers), and what the components' objects grant that
 * nothing above holds yet (the pricing exporter's reads: the controller never makes them itself).
 * Writes of namespaced objects are in {@link workloadsRules}, a Role per namespace.
 */
const clusterRules: k8s.PolicyRule[] = [
  ...spineRules,
  ...components.cluster,
  ...uncovered(components.grants, [...spineRules, ...components.cluster]),
];

/**
 * What the controller writes in a workloads namespace (`spec.namespace`), as a Role there:
 * every namespaced kind a component declares (its Secrets, Deployments, Services, ...).
 * Nothing of the kind anywhere else.
 */
export const workloadsRules: k8s.PolicyRule[] = components.workloads;

/** The Role of {@link workloadsRules} and its binding to the controller's ServiceAccount, in `namespace`. */
function workloadsRole(scope: Construct, namespace: string): void {
  const name = `${controllerName}-workloads`;
  new k8s.KubeRole(scope, `workloads-role-${namespace}`, { metadata: { name, namespace }, rules: workloadsRules });
  new k8s.KubeRoleBinding(scope, `workloads-binding-${namespace}`, {
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name: controllerName, namespace: controllerNamespace }],
  });
}

/** The workloads Role and RoleBinding in `namespace`: what an operator grants for a non-default `spec.namespace`. */
export function workloadsRoleObjects(namespace: string): Array<Record<string, unknown>> {
  const chart = new Chart(new App(), 'workloads', { labels });
  workloadsRole(chart, namespace);
  return chart.toJson() as Array<Record<string, unknown>>;
}

/** What it does with Secrets in a namespace it only reads licences from. */
export const readSecretVerbs: readonly string[] = ['list', 'watch'];

/** A Role and its binding to the controller's ServiceAccount, over Secrets in one namespace. */
function secretsRole(scope: Construct, namespace: string, verbs: readonly string[]): void {
  const name = `${controllerName}-secrets`;
  new k8s.KubeRole(scope, `secrets-role-${namespace}`, {
    metadata: { name, namespace },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: [...verbs] }],
  });
  new k8s.KubeRoleBinding(scope, `secrets-binding-${namespace}`, {
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name: controllerName, namespace: controllerNamespace }],
  });
}

/** The Role and RoleBinding over Secrets in `namespace` (a non-default `spec.namespace`, or `--secret-namespaces`). */
export function secretsRoleObjects(namespace: string, verbs: readonly string[]): Array<Record<string, unknown>> {
  const chart = new Chart(new App(), 'secrets', { labels });
  secretsRole(chart, namespace, verbs);
  return chart.toJson() as Array<Record<string, unknown>>;
}

/** What it does with Secrets in Prometheus' namespace: the alert relabel Secret (written, pruned). */
export const relabelSecretVerbs: readonly string[] = ['get', 'list', 'create', 'patch', 'delete'];

/**
 * What the controller needs on a Deckhouse cluster besides the base install: reading Secrets
 * in d8-system (the registry Secret: the default licence), and writing the alert relabel
 * Secret in d8-monitoring.
 */
export class DeckhouseInstall extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { ...props, labels });
    deckhouseRoles(this);
  }
}

function deckhouseRoles(scope: Construct): void {
  secretsRole(scope, deckhouseNamespace, readSecretVerbs);
  secretsRole(scope, monitoringNamespace, relabelSecretVerbs);
}

/** Settings of an install; the defaults are config/'s, the chart's values override them. */
export interface InstallOptions {
  readonly image?: string;
  readonly imagePullPolicy?: string;
  /** Secrets in the controller's namespace its image is pulled with. @default none */
  readonly imagePullSecrets?: ReadonlyArray<{ readonly name: string }>;
  readonly replicas?: number;
  /** @default true */
  readonly leaderElect?: boolean;
  readonly resources?: k8s.ResourceRequirements;
  /** Namespaces besides the workloads' whose Secrets licences may come from (a Role in each, and `--secret-namespaces`). */
  readonly secretNamespaces?: readonly string[];
  /** The controller renders NetworkPolicies for its workloads and ships one for itself. @default true */
  readonly networkPolicy?: boolean;
  readonly monitoringNamespace?: string;
  /** The controller renders its PrometheusRule when the CRD is served. @default true */
  readonly prometheusRule?: boolean;
  /** Add the d8-system Role (e2e: the Deckhouse licence source). @default false */
  readonly deckhouse?: boolean;
}

/**
 * The controller's resources (the chart's `resources` default too), from `npm run bench --
 * scale` (bench/results/2026-12-08-scale.json): 98-111 MiB RSS at rest from 100 to 5,000 kwok
 * nodes, a 111 MiB high-water; the request is that and 15%. The limit is twice the most any
 * bench has measured (191 MiB after 20 create/delete cycles, 2026-12-06, before the caches of
 * issue 23), room for a cluster with many more Secrets in the namespaces it reads.
 */
export const controllerResourceValues = { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } } as const;

const controllerResources: k8s.ResourceRequirements = {
  requests: {
    cpu: k8s.Quantity.fromString(controllerResourceValues.requests.cpu),
    memory: k8s.Quantity.fromString(controllerResourceValues.requests.memory),
  },
  limits: { memory: k8s.Quantity.fromString(controllerResourceValues.limits.memory) },
};

/** The controller's own namespaces, RBAC, Deployment and metrics Service. */
export class ControllerInstall extends Chart {
  constructor(
    scope: Construct,
    id: string,
    private readonly options: InstallOptions = {},
    props: ChartProps = {},
  ) {
    super(scope, id, { ...props, labels });
    new k8s.KubeNamespace(this, 'namespace', { metadata: { name: controllerNamespace, labels: { ...restricted, ...deckhouseNamespaceLabels } } });
    // Kept on uninstall (the stored Madison key lives there): `kubectl delete -k ... -l 'integration.flant.com/keep!=true'`, and Helm's resource
    // policy.
    new k8s.KubeNamespace(this, 'workloads-namespace', {
      metadata: {
        name: workloadsNamespace,
        labels: { ...restricted, ...deckhouseNamespaceLabels, 'integration.flant.com/keep': 'true' },
        annotations: { 'helm.sh/resource-policy': 'keep' },
      },
    });
    new k8s.KubeServiceAccount(this, 'sa', { metadata: { name: controllerName, namespace: controllerNamespace } });
    this.rbac();
    this.deployment();
    new k8s.KubeService(this, 'metrics-service', {
      metadata: { name: `${controllerName}-metrics`, namespace: controllerNamespace, labels },
      spec: { selector: labels, ports: [{ name: 'metrics', port: 8080, targetPort: k8s.IntOrString.fromString('metrics') }] },
    });
    if (options.deckhouse) deckhouseRoles(this);
  }

  private rbac(): void {
    const subject = { kind: 'ServiceAccount', name: controllerName, namespace: controllerNamespace };
    new k8s.KubeClusterRole(this, 'cluster-role', { metadata: { name: controllerName }, rules: clusterRules });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: { name: controllerName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: controllerName },
      subjects: [subject],
    });
    workloadsRole(this, workloadsNamespace);
    secretsRole(this, controllerNamespace, readSecretVerbs);
    for (const ns of this.options.secretNamespaces ?? []) secretsRole(this, ns, readSecretVerbs);
    // The leader Lease: read, created once, renewed with PUT.
    new k8s.KubeRole(this, 'leader-election-role', {
      metadata: { name: `${controllerName}-leader-election`, namespace: controllerNamespace },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
    });
    new k8s.KubeRoleBinding(this, 'leader-election-binding', {
      metadata: { name: `${controllerName}-leader-election`, namespace: controllerNamespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${controllerName}-leader-election` },
      subjects: [subject],
    });
  }

  /** The controller's arguments for these options. */
  static args(options: InstallOptions): string[] {
    return [
      'run',
      ...(options.leaderElect === false ? [] : ['--leader-elect']),
      '--health-probe-bind-address=:8081',
      '--metrics-bind-address=:8080',
      ...(options.secretNamespaces?.length ? [`--secret-namespaces=${options.secretNamespaces.join(',')}`] : []),
      `--network-policies=${options.networkPolicy === false ? 'false' : 'true'}`,
      `--monitoring-namespace=${options.monitoringNamespace ?? monitoringNamespace}`,
      `--prometheus-rule=${options.prometheusRule === false ? 'false' : 'true'}`,
    ];
  }

  private deployment(): void {
    const fieldRef = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
    const probe = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString('probes') }, periodSeconds: 10 });
    const image = this.options.image ?? controllerImage;
    new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: controllerName, namespace: controllerNamespace },
      spec: {
        replicas: this.options.replicas ?? 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: controllerName,
            ...imagePullSecrets({ imagePullSecrets: this.options.imagePullSecrets?.map((s) => ({ name: s.name })) }),
            terminationGracePeriodSeconds: 40,
            securityContext: restrictedPodSecurityContext(),
            containers: [
              {
                name: 'manager',
                image,
                imagePullPolicy: this.options.imagePullPolicy ?? 'IfNotPresent',
                args: ControllerInstall.args(this.options),
                env: [
                  { name: 'POD_NAME', ...fieldRef('metadata.name') },
                  { name: 'POD_NAMESPACE', ...fieldRef('metadata.namespace') },
                  // The madison-proxy and pricing Deployments run this same image.
                  { name: 'CONTROLLER_IMAGE', value: image },
                  ...nodeRuntimeEnv,
                ],
                ports: [
                  { name: 'metrics', containerPort: 8080 },
                  { name: 'probes', containerPort: 8081 },
                ],
                livenessProbe: probe('/healthz'),
                readinessProbe: probe('/readyz'),
                resources: this.options.resources ?? controllerResources,
                securityContext: restrictedContainerSecurityContext,
              },
            ],
          },
        },
      },
    });
  }
}

/** A ServiceMonitor for the controller's /metrics (config/prometheus; in the chart behind `serviceMonitor.enabled`). */
export function controllerServiceMonitor(): Record<string, unknown> {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: controllerName, namespace: controllerNamespace, labels: { ...labels, ...deckhouseMonitorLabels } },
    spec: {
      selector: { matchLabels: labels },
      namespaceSelector: { matchNames: [controllerNamespace] },
      endpoints: [{ port: 'metrics', path: '/metrics', interval: '30s' }],
    },
  };
}

/** A NetworkPolicy for the controller: its metrics port from the monitoring namespace only (probes come from the kubelet). */
export function controllerNetworkPolicy(monitoring = monitoringNamespace): Record<string, unknown> {
  return new k8s.KubeNetworkPolicy(new Chart(new App(), 'np'), 'np', {
    metadata: { name: controllerName, namespace: controllerNamespace, labels },
    spec: ingressFromNamespace(labels, monitoring, 'metrics'),
  }).toJson() as Record<string, unknown>;
}

/** The install manifests as JSON objects, in apply order. */
export function installObjects(options: InstallOptions = {}): Array<Record<string, unknown>> {
  return new ControllerInstall(new App(), 'install', options).toJson() as Array<Record<string, unknown>>;
}

/** The Deckhouse addition (config/deckhouse) as JSON objects. */
export function deckhouseObjects(): Array<Record<string, unknown>> {
  return new DeckhouseInstall(new App(), 'deckhouse').toJson() as Array<Record<string, unknown>>;
}
