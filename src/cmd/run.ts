/**
 * `flant-integration run`: connects to the cluster, runs the manager until SIGTERM or
 * SIGINT, and shuts down gracefully.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errorText } from '../reconciler/index.js';
import { connectToCluster, loadKubeConfig } from './cluster.js';
import { programLogger } from './logging.js';
import { components } from './components.js';
import { setupController } from './wiring.js';

/** Options of `flant-integration run`, as the CLI parsed them. */
export interface RunOptions {
  /** kubeconfig path (flag or KUBECONFIG). */
  readonly kubeconfig?: string;
  /** Running in a Pod. */
  readonly inCluster: boolean;
  /** Address of /metrics. */
  readonly metricsBindAddress: string;
  /** Address of /healthz and /readyz. */
  readonly healthProbeBindAddress: string;
  /** Take part in leader election. */
  readonly leaderElect: boolean;
  /** Namespace of the leader election Lease. @default POD_NAMESPACE, else "default" */
  readonly leaderElectionNamespace?: string;
  /** Every FlantIntegration is reconciled again this often, in ms. */
  readonly syncPeriodMs: number;
  /** pino level. */
  readonly logLevel: string;
  /** DNS servers (`host:port`) for Madison backend discovery. @default the system's */
  readonly dnsServers?: readonly string[];
  /** Image of the generated madison-proxy Deployments: this controller's image. */
  readonly image: string;
  /** How often Connect is asked whether the Madison key was revoked, in ms. */
  readonly revocationCheckIntervalMs: number;
  /** Re-resolve Madison backends this often instead of spec.madison.discoveryInterval, in ms. @default the spec's */
  readonly discoveryIntervalMs?: number;
  /** Namespaces whose Secrets may be read besides the workloads', `d8-system` and this Pod's own. @default none */
  readonly secretNamespaces?: readonly string[];
  /** This Pod's name, the leader election identity in a cluster. */
  readonly podName?: string;
  /** This Pod's namespace, where the Lease lives in a cluster. */
  readonly podNamespace?: string;
  /** Render NetworkPolicies for the generated workloads. @default true */
  readonly networkPolicies?: boolean;
  /** The cluster's Prometheus namespace, admitted by the NetworkPolicies. @default d8-monitoring */
  readonly monitoringNamespace?: string;
  /** Render the PrometheusRule of alerts on ourselves. @default true */
  readonly prometheusRule?: boolean;
}

/** Runs the controller; resolves with the exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  const log = programLogger(options.logLevel);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      process.stderr.write(`flant-integration: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    log.info({ signal }, 'shutting down');
    abort.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const client = await connectToCluster(loadKubeConfig(options));
    log.info({ server: client.server }, 'connected');
    const id = identity(options);
    const manager = setupController({
      client,
      log,
      leaderElection: options.leaderElect
        ? { namespace: options.leaderElectionNamespace ?? options.podNamespace ?? 'default', name: 'flant-integration-leader', identity: id }
        : undefined,
      healthProbeBindAddress: options.healthProbeBindAddress,
      metricsBindAddress: options.metricsBindAddress,
      syncPeriodMs: options.syncPeriodMs,
      identity: id,
      // As controller-runtime does: a process whose work cannot be stopped must not write beside the new leader.
      onStuckAfterLeadershipLost: () => {
        log.flush();
        process.exit(1);
      },
      extraSecretNamespaces: [...(options.podNamespace ? [options.podNamespace] : []), ...(options.secretNamespaces ?? [])],
      components: components({
        dnsServers: options.dnsServers,
        image: options.image,
        revocationCheckIntervalMs: options.revocationCheckIntervalMs,
        discoveryIntervalMs: options.discoveryIntervalMs,
        networkPolicies: options.networkPolicies,
        monitoringNamespace: options.monitoringNamespace,
        prometheusRule: options.prometheusRule,
      }),
    });
    await manager.run(abort.signal);
    return 0;
  } catch (err) {
    if (abort.signal.aborted) {
      log.info({ err: errorText(err) }, 'stopped during start-up');
      return 0;
    }
    throw err;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** This process's identity: the leader election holder and the Events' reportingInstance alike. */
function identity(options: RunOptions): string {
  return options.podName ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
}
