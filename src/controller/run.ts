/**
 * `flant-integration run`: finds the cluster (or starts the embedded local control plane),
 * runs the manager until SIGTERM or SIGINT, and shuts down gracefully.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createLogger, errorText, kubeClient, type KubeClient } from '../reconciler/index.js';
import { connectToCluster, loadKubeConfig, type ClusterSource } from './connect.js';
import { setupController } from './setup.js';
import { dnsResolver, MadisonComponent } from '../components/madison/index.js';

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
  /** Namespace of the leader election Lease. @default POD_NAMESPACE, else "default" */
  readonly leaderElectionNamespace?: string;
  /** Every FlantIntegration is reconciled again this often, in ms. @default 600000 */
  readonly syncPeriodMs: number;
  /** pino level. @default "info" */
  readonly logLevel: string;
  /** DNS servers (`host:port`) for Madison backend discovery. @default the system's */
  readonly dnsServers?: readonly string[];
  /** Image of the generated madison-proxy Deployments: this controller's image. */
  readonly image: string;
  /** How often Connect is asked whether the Madison key was revoked, in ms. @default 300000 */
  readonly revocationCheckIntervalMs: number;
  /** This Pod's name, the leader election identity in a cluster. */
  readonly podName?: string;
  /** This Pod's namespace, where the Lease lives in a cluster. */
  readonly podNamespace?: string;
}

/** A cluster started for this run, stopped when it ends. */
interface EmbeddedCluster {
  readonly kubeconfigPath: string;
  /** The local DNS stand-in the controller resolves Madison backends with. */
  readonly dnsServer: string;
  prepare(client: KubeClient): Promise<void>;
  banner(): string;
  stop(): Promise<void>;
}

/** Runs the controller; resolves with the exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  const log = createLogger(options.logLevel);
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
  let embedded: EmbeddedCluster | undefined;
  try {
    embedded = wantsEmbedded(options) ? await startEmbedded() : undefined;
    const source: ClusterSource = embedded ? { kubeconfig: embedded.kubeconfigPath, inCluster: false } : options;
    const client = await connectOrPrepare(source, embedded);
    if (embedded) process.stderr.write(embedded.banner());
    log.info({ server: client.server }, 'connected');
    const manager = setupController({
      client,
      log,
      leaderElection: leaderElection(options),
      healthProbeBindAddress: options.healthProbeBindAddress,
      metricsBindAddress: options.metricsBindAddress,
      syncPeriodMs: options.syncPeriodMs,
      identity: identity(options),
      components: [
        new MadisonComponent({ resolver: dnsResolver(embedded ? [embedded.dnsServer] : options.dnsServers), image: options.image, revocationCheckIntervalMs: options.revocationCheckIntervalMs }),
      ],
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
    await embedded?.stop();
  }
}

function wantsEmbedded(options: RunOptions): boolean {
  if (options.embedded === 'always') return true;
  return options.embedded === 'auto' && !options.kubeconfig && !options.inCluster;
}

async function startEmbedded(): Promise<EmbeddedCluster> {
  const { startEmbeddedCluster } = await import('../../e2e/embedded.js');
  return startEmbeddedCluster();
}

async function connectOrPrepare(source: ClusterSource, embedded: EmbeddedCluster | undefined): Promise<KubeClient> {
  const config = loadKubeConfig(source);
  if (embedded) await embedded.prepare(await kubeClient(config));
  return connectToCluster(config);
}

function identity(options: RunOptions): string {
  return options.podName ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
}

function leaderElection(options: RunOptions) {
  if (!options.leaderElect) return undefined;
  return { namespace: options.leaderElectionNamespace ?? options.podNamespace ?? 'default', name: 'flant-integration-leader', identity: identity(options) };
}
