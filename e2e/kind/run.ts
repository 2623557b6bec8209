/**
 * `npm run e2e:kind`: the kind suite (e2e/kind/kind.spec.ts) alone: vitest runs it, which
 * makes everything it needs (engine, kind, node image, images), creates the cluster and
 * deletes it afterwards; `KEEP_CLUSTER=1` keeps it (its kubeconfig path is printed).
 * `npm run e2e:kind -- --delete` deletes a kept cluster and stops the engine this project
 * started. `npm run e2e:kind -- --create` only makes a cluster (and keeps it), for a person.
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { stopEngine } from '../../image/engine.js';
import { clusterName, createCluster, deleteCluster, keptKubeconfigPath, prepareKind } from './cluster.js';

const log = (line: string) => process.stderr.write(`e2e:kind: ${line}\n`);

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--delete')) {
    const setup = await prepareKind(log);
    await deleteCluster(setup);
    await rm(keptKubeconfigPath(), { force: true });
    log(`deleted the cluster ${clusterName} (if there was one)`);
    await stopEngine(undefined, log);
    return 0;
  }
  if (argv.includes('--create')) {
    const setup = await prepareKind(log);
    const kubeconfig = await createCluster(setup, log);
    process.stdout.write(`kubeconfig: ${kubeconfig}\n`);
    return 0;
  }
  const result = spawnSync('npx', ['vitest', 'run', '--project', 'e2e', 'e2e/kind/kind.spec.ts'], {
    stdio: 'inherit',
    env: { ...process.env, E2E_KIND: '1' },
  });
  return result.status ?? 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
