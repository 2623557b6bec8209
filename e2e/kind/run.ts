/**
 * `npm run e2e:kind`: the e2e specs against a kind cluster on a Docker host. Creates the
 * cluster, builds (npm run image) and loads the controller image, installs config/default, checks the
 * in-cluster controller becomes Available, scales it to zero (the specs run their own
 * controller processes), runs the specs, and deletes the cluster (unless KEEP_CLUSTER=1).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controllerImage, controllerName, controllerNamespace } from '../../cdk8s/install.js';

const clusterName = 'flant-integration-e2e';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  process.stderr.write(`+ ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.error) throw new Error(`cannot run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args[0] ?? ''} exited with ${result.status}`);
}

function available(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

function preflight(): void {
  if (!available('kind', ['version'])) throw new Error('kind is not installed: see https://kind.sigs.k8s.io (npm test runs the same specs on a local control plane)');
  if (!available('docker', ['info'])) throw new Error('no Docker engine answers "docker info": kind needs one (npm test runs the same specs on a local control plane)');
  if (!available('kubectl', ['version', '--client'])) throw new Error('kubectl is not on PATH');
}

function main(): number {
  try {
    preflight();
  } catch (err) {
    process.stderr.write(`e2e:kind: ${(err as Error).message}\n`);
    return 2;
  }
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'flant-kind-')), 'kubeconfig');
  run('kind', ['create', 'cluster', '--name', clusterName, '--config', 'e2e/kind/cluster.yaml', '--kubeconfig', kubeconfig, '--wait', '120s']);
  try {
    // Built here from Debian packages and Node 24 (image/): no registry is needed.
    run('npm', ['run', 'image', '--silent', '--', '--tag', controllerImage]);
    run('kind', ['load', 'docker-image', controllerImage, '--name', clusterName]);
    run('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '-k', 'config/default']);
    run('kubectl', ['--kubeconfig', kubeconfig, '-n', controllerNamespace, 'rollout', 'status', `deployment/${controllerName}`, '--timeout=180s']);
    run('kubectl', ['--kubeconfig', kubeconfig, '-n', controllerNamespace, 'scale', `deployment/${controllerName}`, '--replicas=0']);
    run('npx', ['vitest', 'run', '--project', 'e2e'], { E2E_KUBECONFIG: kubeconfig });
    return 0;
  } catch (err) {
    process.stderr.write(`e2e:kind: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (process.env.KEEP_CLUSTER !== '1') run('kind', ['delete', 'cluster', '--name', clusterName]);
  }
}

process.exitCode = main();
