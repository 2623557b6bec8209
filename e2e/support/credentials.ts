/**
 * The identities the e2e specs run our programs as: the controller's ServiceAccount bound
 * by the install's own RBAC (cdk8s/install.ts, the objects of config/rbac), and the pricing
 * exporter's ServiceAccount bound by the ClusterRole the controller generated. A request
 * the RBAC does not allow fails the spec that made it; the audit log shows the rest.
 */
import { writeFile } from 'node:fs/promises';
import { controllerName, controllerNamespace, installObjects, workloadsNamespace, workloadsRoleObjects } from '../../cdk8s/install.js';
import { kubectl, kubectlOk } from './kubectl.js';

const rbacKinds = new Set(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** Applies the install's namespaces, ServiceAccount and RBAC (not its Deployment: the specs start the controller themselves). */
export async function installControllerRBAC(adminKubeconfig: string, deckhouse = true): Promise<void> {
  // On a Deckhouse cluster d8-system and d8-monitoring exist; here they are made for the Roles over their Secrets.
  const namespaces = ['d8-system', 'd8-monitoring'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  const objects = [...(deckhouse ? namespaces : []), ...installObjects({ deckhouse }).filter((o) => rbacKinds.has(String(o.kind)))];
  await applyObjects(adminKubeconfig, objects);
}

/** Server-side applies rendered objects (field manager `e2e`). */
export async function applyObjects(adminKubeconfig: string, objects: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  await kubectlOk(adminKubeconfig, ['apply', '--server-side', '--field-manager=e2e', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
}

/**
 * Grants the controller in `namespace` what the install grants in the default workloads
 * namespace (the workloads Role), as an operator does for a non-default `spec.namespace`.
 * The namespace must exist.
 */
export async function grantWorkloadsNamespace(adminKubeconfig: string, namespace: string): Promise<void> {
  await applyObjects(adminKubeconfig, workloadsRoleObjects(namespace));
  await untilAllowed(adminKubeconfig, `system:serviceaccount:${controllerNamespace}:${controllerName}`, ['list', 'secrets', '-n', namespace]);
}

/**
 * Waits until kube-apiserver's RBAC authorizer (which sees new bindings through its own cache)
 * allows `user` the `can-i` arguments, so a process started at once is not refused its first requests.
 */
export async function untilAllowed(adminKubeconfig: string, user: string, canI: string[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await kubectl(adminKubeconfig, ['auth', 'can-i', ...canI, `--as=${user}`])).stdout.trim() === 'yes') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${user} is still not allowed to ${canI.join(' ')} after 10 s`);
}

/** Writes a kubeconfig at `path` for ServiceAccount `namespace/name`: the admin kubeconfig's cluster, a 24 h token. */
export async function serviceAccountKubeconfig(adminKubeconfig: string, namespace: string, name: string, path: string): Promise<string> {
  const token = (await kubectlOk(adminKubeconfig, ['create', 'token', name, '-n', namespace, '--duration=24h'])).trim();
  const view = JSON.parse(await kubectlOk(adminKubeconfig, ['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: Array<{ cluster: Record<string, unknown> }>;
  };
  const cluster = view.clusters[0]?.cluster;
  if (!cluster) throw new Error(`no cluster in ${adminKubeconfig}`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster }],
    users: [{ name, user: { token } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: name } }],
    'current-context': 'e2e',
  };
  await writeFile(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

/** Installs the RBAC (with the Deckhouse Roles unless `deckhouse` is false) and writes the controller's kubeconfig at `path`. */
export async function controllerKubeconfig(adminKubeconfig: string, path: string, deckhouse = true): Promise<string> {
  await installControllerRBAC(adminKubeconfig, deckhouse);
  // The token is issued for the ServiceAccount the install created; wait for it to be readable.
  for (let i = 0; i < 50 && (await kubectl(adminKubeconfig, ['get', 'serviceaccount', '-n', controllerNamespace, controllerName])).code !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await serviceAccountKubeconfig(adminKubeconfig, controllerNamespace, controllerName, path);
  const user = `system:serviceaccount:${controllerNamespace}:${controllerName}`;
  // Built-in resources only: `can-i` says no for a CRD's resource before the CRD exists.
  await untilAllowed(adminKubeconfig, user, ['list', 'deployments.apps']);
  await untilAllowed(adminKubeconfig, user, ['list', 'customresourcedefinitions.apiextensions.k8s.io']);
  await untilAllowed(adminKubeconfig, user, ['list', 'secrets', '-n', workloadsNamespace]);
  return path;
}
