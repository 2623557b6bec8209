/**
 * Reading and writing the cluster under test from specs, through the real kubectl.
 */
import { grantWorkloadsNamespace } from './credentials.js';
import { kubectl, kubectlOk } from './kubectl.js';

/** A condition as stored. */
export interface StoredCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** The FlantIntegration `default` as stored, or undefined. */
export async function getFlantIntegration(
  kubeconfig: string,
): Promise<
  { metadata: { resourceVersion: string; finalizers?: string[] }; status?: { conditions?: StoredCondition[]; clusterUUID?: string } } | undefined
> {
  const result = await kubectl(kubeconfig, ['get', 'flantintegration', 'default', '-o', 'json']);
  return result.code === 0 ? JSON.parse(result.stdout) : undefined;
}

/** The condition of `type` on the FlantIntegration. */
export async function condition(kubeconfig: string, type: string): Promise<StoredCondition | undefined> {
  return (await getFlantIntegration(kubeconfig))?.status?.conditions?.find((c) => c.type === type);
}

/** Applies YAML or JSON manifests. */
export async function apply(kubeconfig: string, manifest: string): Promise<void> {
  await kubectlOk(kubeconfig, ['apply', '-f', '-'], manifest);
}

/** Deletes the FlantIntegration (waiting for finalizers when a controller runs) and what the specs created. */
export async function resetCluster(kubeconfig: string, wait = true): Promise<void> {
  await kubectlOk(kubeconfig, ['delete', 'flantintegrations', '--all', `--wait=${wait}`, '--timeout=60s']);
}

/** A Secret manifest with one key. */
export function secret(namespace: string, name: string, data: Record<string, string>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name }, stringData: data });
}

/** A namespace manifest; Pod Security `restricted` is enforced in it, as in the install's namespaces. */
export function namespace(name: string): string {
  const labels = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' };
  return JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
}

/**
 * Creates a spec's workloads namespace (`restricted` enforced) and grants the controller its Secrets, as the install does for d8-flant-integration.
 */
export async function workloadsNamespace(kubeconfig: string, name: string): Promise<void> {
  await apply(kubeconfig, namespace(name));
  await grantWorkloadsNamespace(kubeconfig, name);
}

/** The FlantIntegration `default` with `spec`. */
export function flantIntegration(spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'integration.flant.com/v1alpha1', kind: 'FlantIntegration', metadata: { name: 'default' }, spec });
}

/**
 * The FlantIntegration of a spec that runs Madison against the fakes: the license in Secret
 * `<namespace>/license` (key `key`), Connect and the Madison host given, metrics off (no agent
 * to run), and `extra` on top.
 */
export function fakesSpec(namespace: string, connectURL: string, host: string, extra: Record<string, unknown> = {}): string {
  return flantIntegration({
    namespace,
    licenseKeySecretRef: { namespace, name: 'license', key: 'key' },
    connect: { url: connectURL },
    madison: { backendsHost: host },
    metrics: { enabled: false },
    ...extra,
  });
}

/** The value of one column of `kubectl get fi default` (empty when the column is blank). */
export async function column(kubeconfig: string, name: string): Promise<string> {
  const out = await kubectlOk(kubeconfig, ['get', 'fi', 'default']);
  const [header, row] = out.split('\n');
  const at = header?.indexOf(name) ?? -1;
  return at < 0 ? '' : (row?.slice(at).split(/\s+/)[0] ?? '');
}

/**
 * Removes what a spec left: the FlantIntegration (its finalizer dropped, since the spec's
 * controller may be gone) and the spec's namespace, without waiting.
 */
export async function removeFlantIntegrationAndNamespace(kubeconfig: string, namespace: string): Promise<void> {
  await kubectl(kubeconfig, ['delete', 'flantintegration', 'default', '--ignore-not-found', '--wait=false']);
  await kubectl(kubeconfig, ['patch', 'flantintegration', 'default', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await kubectl(kubeconfig, ['delete', 'namespace', namespace, '--wait=false']);
}
