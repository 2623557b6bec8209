/**
 * The kind cluster of the kind suite: everything it needs made or found first (an engine,
 * kind, the node image, helm), then created, used and deleted. The suite's spec and
 * `npm run e2e:kind -- --delete` share it.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { dockerEnv, ensureEngine, type Engine } from '../../image/engine.js';
import { defaultCacheDir, repoRoot } from '../../image/paths.js';
import { ensureHelm } from '../controlplane/binaries.js';
import { ensureKindBinaries, type KindBinaries } from './binaries.js';
import { ensureNodeImage } from './nodeimage.js';

const execFileAsync = promisify(execFile);

/** The cluster's name (its node container is `<name>-control-plane`). */
export const clusterName = 'flant-integration-e2e';

/** Where a kept cluster's kubeconfig is written, so `--delete` and a person find it. */
export function keptKubeconfigPath(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, 'kind', `${clusterName}.kubeconfig`);
}

/** What the suite works with once everything is made. */
export interface KindSetup {
  readonly engine: Engine;
  readonly binaries: KindBinaries;
  readonly helm: string;
  readonly nodeImage: string;
  /** The environment for docker, kind, kubectl and helm: the engine's DOCKER_HOST, kind and kubectl first on PATH. */
  readonly env: NodeJS.ProcessEnv;
  /** Seconds each step took, for the suite's closing lines. */
  readonly timings: Readonly<Record<string, number>>;
}

/** Finds or starts an engine, then builds (or finds cached) kind, helm and the node image. */
export async function prepareKind(log: (line: string) => void): Promise<KindSetup> {
  const cacheDir = defaultCacheDir();
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await step();
    } finally {
      timings[name] = (Date.now() - started) / 1000;
    }
  };
  const engine = await timed('engine', () => ensureEngine({ cacheDir, log }));
  try {
    const binaries = await timed('binaries', () => ensureKindBinaries({ cacheDir, log }));
    const helm = await timed('helm', () => ensureHelm({ cacheDir, log }));
    const nodeImage = await timed('node image', () => ensureNodeImage({ engine, binaries, cacheDir, log }));
    const path = [dirname(binaries.kind), dirname(binaries.kubectl), process.env.PATH ?? ''].join(':');
    return { engine, binaries, helm, nodeImage, env: { ...dockerEnv(engine), PATH: path }, timings };
  } catch (err) {
    await engine.stop();
    throw err;
  }
}

/** Creates the cluster (deleting a kept one of the same name first) and returns its kubeconfig's path. */
export async function createCluster(setup: KindSetup, log: (line: string) => void): Promise<string> {
  const kubeconfig = keptKubeconfigPath();
  await mkdir(dirname(kubeconfig), { recursive: true });
  if ((await kind(setup, ['get', 'clusters'])).split('\n').includes(clusterName)) {
    log(`deleting the cluster ${clusterName} an earlier run kept`);
    await kind(setup, ['delete', 'cluster', '--name', clusterName]);
  }
  await writeFile(kubeconfig, '', { mode: 0o600 });
  await streamed(
    setup,
    'kind',
    [
      'create',
      'cluster',
      '--name',
      clusterName,
      '--image',
      setup.nodeImage,
      '--config',
      join(repoRoot(), 'e2e', 'kind', 'cluster.yaml'),
      '--kubeconfig',
      kubeconfig,
      '--wait',
      '180s',
    ],
    log,
  );
  return kubeconfig;
}

/** Deletes the cluster if it exists. */
export async function deleteCluster(setup: Pick<KindSetup, 'env' | 'binaries'>): Promise<void> {
  if ((await kind(setup, ['get', 'clusters'])).split('\n').includes(clusterName)) await kind(setup, ['delete', 'cluster', '--name', clusterName]);
}

/** Loads images from the engine into the node's containerd. */
export async function loadImages(setup: KindSetup, tags: readonly string[], log: (line: string) => void): Promise<void> {
  await streamed(setup, 'kind', ['load', 'docker-image', '--name', clusterName, ...tags], log);
}

/** kind's node container runs `args` (as root, in the node). */
export async function onNode(setup: Pick<KindSetup, 'env'>, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync('docker', ['exec', `${clusterName}-control-plane`, ...args], {
    env: setup.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

async function kind(setup: Pick<KindSetup, 'env' | 'binaries'>, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(setup.binaries.kind, args, { env: setup.env, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kind ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

/** Runs a command whose progress a person wants to see, each line through `log`. */
function streamed(setup: Pick<KindSetup, 'env'>, command: string, args: readonly string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: setup.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-8000);
      for (const l of text
        .split('\n')
        .map((x) => x.trimEnd())
        .filter(Boolean))
        log(l);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`, { cause: err })));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.slice(0, 3).join(' ')} exited with ${code}:\n${tail}`)),
    );
  });
}

/** True when a kept cluster's kubeconfig exists. */
export function hasKeptCluster(): boolean {
  return existsSync(keptKubeconfigPath());
}
