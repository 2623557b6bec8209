/**
 * `flant-integration pricing`: the exporter that runs as the `pricing` container beside the
 * metrics agent. It loads no cdk8s and no reconciler of FlantIntegrations.
 */
import { readFile } from 'node:fs/promises';
import { Exporter } from '../pricing/index.js';
import { errorText, realClock } from '../reconciler/index.js';
import { connectToCluster, loadKubeConfig } from './cluster.js';
import { programLogger } from './logging.js';

/** Where the kubelet mounts the pod's ServiceAccount token and the cluster CA. */
export { serviceAccountDir } from '../reconciler/kubeconfig.js';

/** Options of `flant-integration pricing`, as the CLI parsed them. */
export interface PricingOptions {
  readonly kubeconfig?: string;
  readonly inCluster: boolean;
  readonly listen: string;
  /** `/healthz` and `/readyz` alone, for the kubelet; empty or `0` turns it off. */
  readonly probeListen: string;
  readonly logLevel: string;
  /** File with the bearer token for Prometheus, read for every request. */
  readonly tokenFile: string;
  /** File with the CA of Prometheus when the spec names none. */
  readonly caFile: string;
  /** How often Prometheus is queried, in ms. */
  readonly queryIntervalMs?: number;
}

/** Runs the exporter until SIGTERM or SIGINT; resolves with the exit code. */
export async function pricingCommand(options: PricingOptions): Promise<number> {
  const log = programLogger(options.logLevel);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const client = await connectToCluster(loadKubeConfig(options));
    const exporter = new Exporter({
      client,
      log,
      clock: realClock,
      listen: options.listen,
      probeListen: options.probeListen,
      queryIntervalMs: options.queryIntervalMs,
      prometheusToken: () => readOptional(options.tokenFile),
      defaultCA: () => readOptional(options.caFile),
    });
    await exporter.run(abort.signal);
    log.info('pricing exporter stopped');
    return 0;
  } catch (err) {
    if (abort.signal.aborted) return 0;
    log.error({ err: errorText(err) }, 'pricing exporter failed');
    throw err;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim() || undefined;
  } catch {
    // Out of a pod there is no ServiceAccount file: Prometheus is asked without it.
    return undefined;
  }
}
