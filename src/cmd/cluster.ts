/**
 * Finding and checking the cluster the controller manages.
 */
import { group, plural } from '../api/index.js';
import { describeNetworkError, isNotFound, kubeClient, type KubeClient } from '../reconciler/index.js';
import { inClusterConfig, kubeconfigFile, type ClusterConfig } from '../reconciler/kubeconfig.js';

/** Where the kubeconfig comes from. */
export interface ClusterSource {
  /** Path of a kubeconfig file; wins over in-cluster. */
  readonly kubeconfig?: string;
  /** Running in a Pod: use the service account. */
  readonly inCluster: boolean;
}

/** Loads the kubeconfig named by `source`, or fails with a sentence saying what to give. */
export function loadKubeConfig(source: ClusterSource): ClusterConfig {
  if (source.kubeconfig) {
    try {
      return kubeconfigFile(source.kubeconfig);
    } catch (err) {
      throw new Error(`cannot read kubeconfig ${source.kubeconfig}: ${describeNetworkError(err)}`, { cause: err });
    }
  }
  if (source.inCluster) return inClusterConfig();
  throw new Error('no cluster given: pass --kubeconfig PATH or set KUBECONFIG (`npm start` in a checkout starts a local control plane)');
}

/** Connects and checks that the API server answers and serves the FlantIntegration CRD. */
export async function connectToCluster(config: ClusterConfig): Promise<KubeClient> {
  const client = await kubeClient(config);
  try {
    await client.request('GET', '/version', { timeoutMs: 10_000 });
  } catch (err) {
    throw new Error(`cannot reach the Kubernetes API at ${client.server}: ${describeNetworkError(err)}`, { cause: err });
  }
  try {
    await client.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${group}`);
  } catch (err) {
    if (isNotFound(err)) {
      throw new Error(`the FlantIntegration CRD is not installed in ${client.server}: kubectl apply -f crds/`, { cause: err });
    }
    throw err;
  }
  return client;
}
