/**
 * `npm start`: with no cluster given (no `--kubeconfig`, no `KUBECONFIG`, not in a Pod) it
 * starts the embedded local control plane with the Connect and DNS stand-ins, installs the
 * CRDs and samples, and runs `flant-integration run` against it; with a cluster given it
 * runs the controller there and starts nothing. Arguments go on to `run`.
 */
import { main } from '../src/cmd/cli.js';
import { loadKubeConfig } from '../src/cmd/cluster.js';
import { kubeClient } from '../src/reconciler/index.js';
import { startEmbeddedCluster } from './embedded.js';

/** Runs `npm start` with `args`; resolves with the exit code. */
export async function start(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const clusterGiven = Boolean(env.KUBECONFIG) || Boolean(env.KUBERNETES_SERVICE_HOST) || args.some((a) => a.startsWith('--kubeconfig'));
  if (clusterGiven) return main(['run', ...args], env);
  const embedded = await startEmbeddedCluster();
  try {
    await embedded.prepare(await kubeClient(loadKubeConfig({ kubeconfig: embedded.kubeconfigPath, inCluster: false })));
    process.stderr.write(embedded.banner());
    return await main(['run', `--kubeconfig=${embedded.kubeconfigPath}`, `--dns-server=${embedded.dnsServer}`, ...args], env);
  } finally {
    await embedded.stop();
  }
}

if (process.argv[1]?.endsWith('start.js')) {
  process.exitCode = await start(process.argv.slice(2), process.env);
}
