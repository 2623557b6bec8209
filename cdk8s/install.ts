/**
 * The install manifests of the controller, as typed cdk8s constructs: its namespace,
 * RBAC and Deployment. `npm run generate` synthesizes them into config/; a test fails
 * when the committed files drift.
 */
import { App, Chart, type ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { group, plural } from '../src/api/index.js';

/** Namespace the controller runs in. */
export const controllerNamespace = 'flant-integration-system';
/** Name of the controller's ServiceAccount, Deployment and roles. */
export const controllerName = 'flant-integration-controller';
/** Image the Deployment runs; `npm run e2e:kind` builds and loads it under this name. */
export const controllerImage = 'flant-integration-controller:dev';

const labels = { 'app.kubernetes.io/name': controllerName, 'app.kubernetes.io/part-of': 'flant-integration' };

/** Everything the controller may touch, and why. */
const clusterRules: k8s.PolicyRule[] = [
  { apiGroups: [group], resources: [plural], verbs: ['get', 'list', 'watch', 'patch', 'update'] },
  { apiGroups: [group], resources: [`${plural}/status`], verbs: ['get', 'patch', 'update'] },
  { apiGroups: [group], resources: [`${plural}/finalizers`], verbs: ['update'] },
  // Secrets are read and written through Roles in the allowed namespaces (below); cluster-wide it
  // holds only the named Deckhouse Secrets the exporter's ClusterRole grants (RBAC grants only what one holds).
  { apiGroups: [''], resources: ['secrets'], resourceNames: ['deckhouse-discovery', 'd8-provider-cluster-configuration', 'd8-cluster-configuration'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get', 'list', 'watch'] },
  // Deckhouse resources it writes when their CRDs are installed.
  {
    apiGroups: ['deckhouse.io'],
    resources: ['customalertmanagers', 'clusterlogdestinations', 'clusterloggingconfigs', 'upmeterremotewrites'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  // The metrics component: the exporter's ServiceAccount and ClusterRole, and a PodMonitor.
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { apiGroups: ['monitoring.coreos.com'], resources: ['podmonitors'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  // What the exporter's ClusterRole grants: RBAC lets the controller grant only what it holds.
  { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
  { apiGroups: ['deckhouse.io'], resources: ['nodegroups', 'ingressnginxcontrollers'], verbs: ['list', 'watch'] },
  { apiGroups: ['monitoring.coreos.com'], resources: ['prometheuses/http'], resourceNames: ['main'], verbs: ['get'] },
];

/** The default workloads' namespace (`spec.namespace`): the controller writes its Secrets there. */
export const workloadsNamespace = 'd8-flant-integration';
/** Deckhouse's namespace, where its registry Secret (the default licence source) lives. */
export const deckhouseNamespace = 'd8-system';

/** A Role and its binding to the controller's ServiceAccount, over Secrets in one namespace. */
function secretsRole(scope: Construct, namespace: string, verbs: string[]): void {
  const name = `${controllerName}-secrets`;
  new k8s.KubeRole(scope, `secrets-role-${namespace}`, { metadata: { name, namespace }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs }] });
  new k8s.KubeRoleBinding(scope, `secrets-binding-${namespace}`, {
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name: controllerName, namespace: controllerNamespace }],
  });
}

/** What the controller needs on a Deckhouse cluster besides the base install: reading Secrets in d8-system. */
export class DeckhouseInstall extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { ...props, labels });
    secretsRole(this, deckhouseNamespace, ['get', 'list', 'watch']);
  }
}

/** The controller's own namespace, RBAC and Deployment. */
export class ControllerInstall extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { ...props, labels });
    new k8s.KubeNamespace(this, 'namespace', { metadata: { name: controllerNamespace } });
    new k8s.KubeNamespace(this, 'workloads-namespace', { metadata: { name: workloadsNamespace } });
    new k8s.KubeServiceAccount(this, 'sa', { metadata: { name: controllerName, namespace: controllerNamespace } });
    this.rbac();
    this.deployment();
  }

  private rbac(): void {
    const subject = { kind: 'ServiceAccount', name: controllerName, namespace: controllerNamespace };
    new k8s.KubeClusterRole(this, 'cluster-role', { metadata: { name: controllerName }, rules: clusterRules });
    new k8s.KubeClusterRoleBinding(this, 'cluster-role-binding', {
      metadata: { name: controllerName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: controllerName },
      subjects: [subject],
    });
    secretsRole(this, workloadsNamespace, ['get', 'list', 'watch', 'create', 'patch', 'delete']);
    secretsRole(this, controllerNamespace, ['get', 'list', 'watch']);
    new k8s.KubeRole(this, 'leader-election-role', {
      metadata: { name: `${controllerName}-leader-election`, namespace: controllerNamespace },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }],
    });
    new k8s.KubeRoleBinding(this, 'leader-election-binding', {
      metadata: { name: `${controllerName}-leader-election`, namespace: controllerNamespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${controllerName}-leader-election` },
      subjects: [subject],
    });
  }

  private deployment(): void {
    const fieldRef = (fieldPath: string) => ({ valueFrom: { fieldRef: { fieldPath } } });
    const probe = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString('probes') }, periodSeconds: 10 });
    new k8s.KubeDeployment(this, 'deployment', {
      metadata: { name: controllerName, namespace: controllerNamespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: controllerName,
            terminationGracePeriodSeconds: 40,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'manager',
                image: controllerImage,
                imagePullPolicy: 'IfNotPresent',
                args: ['run', '--leader-elect', '--health-probe-bind-address=:8081', '--metrics-bind-address=:8080'],
                env: [
                  { name: 'POD_NAME', ...fieldRef('metadata.name') },
                  { name: 'POD_NAMESPACE', ...fieldRef('metadata.namespace') },
                  // The madison-proxy Deployments run this same image.
                  { name: 'CONTROLLER_IMAGE', value: controllerImage },
                ],
                ports: [
                  { name: 'metrics', containerPort: 8080 },
                  { name: 'probes', containerPort: 8081 },
                ],
                livenessProbe: probe('/healthz'),
                readinessProbe: probe('/readyz'),
                resources: {
                  requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('128Mi') },
                  limits: { memory: k8s.Quantity.fromString('512Mi') },
                },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    });
  }
}

/** The install manifests as JSON objects, in apply order. */
export function installObjects(): Array<Record<string, unknown>> {
  const app = new App();
  return new ControllerInstall(app, 'install').toJson() as Array<Record<string, unknown>>;
}

/** The Deckhouse addition (config/deckhouse) as JSON objects. */
export function deckhouseObjects(): Array<Record<string, unknown>> {
  return new DeckhouseInstall(new App(), 'deckhouse').toJson() as Array<Record<string, unknown>>;
}
