/**
 * The control plane's binaries, obtained only through this machine's package registries:
 * kube-apiserver, kube-controller-manager and kube-scheduler (and the kind node's kubelet,
 * kubeadm and kube-proxy) built from the published k8s.io/kubernetes Go module (e2e/controlplane/kube), kwok from its Go module, etcd from
 * Debian's etcd-server. Built once and cached outside the work tree, keyed by version, so
 * a fresh clone (CI's) reuses what an earlier run built.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, mkdir, rename, rm, mkdtemp, constants } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { defaultCacheDir, repoRoot } from '../../image/paths.js';

export { defaultCacheDir, repoRoot };

/** Kubernetes release the control plane runs; the Go module in ./kube pins the same. */
export const kubernetesVersion = 'v1.30.14';
/** kwok release. */
export const kwokVersion = 'v0.7.0';
/** Helm release the chart is linted and templated with (built from its Go module: Debian has no helm). */
export const helmVersion = 'v3.19.0';

/** Paths of every binary the control plane runs. */
export interface Binaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kwok: string;
  /** kubectl from PATH, else built from the same Kubernetes module. */
  readonly kubectl: string;
}

/** Where binaries are cached and how progress is reported. */
export interface BinaryOptions {
  /** Cache root. @default "$FLANT_E2E_CACHE_DIR", else "$XDG_CACHE_HOME/flant-integration", else "~/.cache/flant-integration" */
  readonly cacheDir?: string;
  /** Progress lines for a person (build times). @default process.stderr */
  readonly log?: (line: string) => void;
}

/** Every command built from the Kubernetes module: the local control plane's, and the kind node's. */
const kubeCommands = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubelet', 'kubeadm', 'kubectl'] as const;

/** Paths of the commands built from the Kubernetes module. */
export interface KubernetesBinaries {
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubeProxy: string;
  readonly kubelet: string;
  readonly kubeadm: string;
  readonly kubectl: string;
}

/** Returns the binaries, building or installing whatever is missing first. */
export async function ensureBinaries(options: BinaryOptions = {}): Promise<Binaries> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const kwokDir = join(cacheDir, `kwok-${kwokVersion}`);
  const etcd = await ensureEtcd(log);
  const kube = await ensureKubernetes({ cacheDir, log });
  await ensureBuilt(kwokDir, ['kwok'], `kwok ${kwokVersion}`, log, (out) => buildKwok(out));
  return {
    kubectl: await ensureKubectl(options),
    etcd,
    kubeApiserver: kube.kubeApiserver,
    kubeControllerManager: kube.kubeControllerManager,
    kubeScheduler: kube.kubeScheduler,
    kwok: join(kwokDir, 'kwok'),
  };
}

/**
 * The Kubernetes commands, built once (static: CGO_ENABLED=0, so the same files run on
 * this host and inside the kind node's images) into `<cacheDir>/kubernetes-<version>-static`.
 */
export async function ensureKubernetes(options: BinaryOptions = {}): Promise<KubernetesBinaries> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = join(cacheDir, `kubernetes-${kubernetesVersion}-static`);
  await ensureBuilt(dir, [...kubeCommands], `Kubernetes ${kubernetesVersion}`, log, (out) => buildKubernetes(out));
  return {
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    kubeProxy: join(dir, 'kube-proxy'),
    kubelet: join(dir, 'kubelet'),
    kubeadm: join(dir, 'kubeadm'),
    kubectl: join(dir, 'kubectl'),
  };
}

/** Runs `build` into a staging folder and moves it to `dir`, unless every one of `names` is already there. */
export async function ensureBuilt(
  dir: string,
  names: string[],
  what: string,
  log: (line: string) => void,
  build: (outDir: string) => Promise<void>,
): Promise<void> {
  if (await allExecutable(names.map((n) => join(dir, n)))) return;
  await mkdir(dirname(dir), { recursive: true });
  const staging = await mkdtemp(`${dir}.building-`);
  const started = Date.now();
  log(`building ${what} from the Go module proxy (once; cached in ${dir})...`);
  try {
    await build(staging);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  log(`built ${what} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** kubectl from PATH; a machine without one gets the one built from the Kubernetes module. */
export async function ensureKubectl(options: BinaryOptions = {}): Promise<string> {
  const found = await which('kubectl');
  if (found) return found;
  return (await ensureKubernetes(options)).kubectl;
}

function buildKubernetes(outDir: string): Promise<void> {
  const minor = kubernetesVersion.split('.')[1] ?? '';
  const ldflags = [
    '-s -w',
    `-X k8s.io/component-base/version.gitVersion=${kubernetesVersion}`,
    '-X k8s.io/component-base/version.gitMajor=1',
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    `-X k8s.io/client-go/pkg/version.gitVersion=${kubernetesVersion}`,
  ].join(' ');
  const packages = kubeCommands.map((c) => `k8s.io/kubernetes/cmd/${c}`);
  return runGo(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', `${outDir}/`, ...packages], join(repoRoot(), 'e2e', 'controlplane', 'kube'));
}

/** `go args` (static: CGO_ENABLED=0), in `cwd`, with `env` added. */
export function runGo(args: string[], cwd?: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  return run(goBinary(), args, { ...(cwd ? { cwd } : {}), env: { ...process.env, CGO_ENABLED: '0', ...env } });
}

function buildKwok(outDir: string): Promise<void> {
  return runGo(['install', '-trimpath', '-ldflags=-s -w', `sigs.k8s.io/kwok/cmd/kwok@${kwokVersion}`], undefined, { GOBIN: outDir });
}

/** helm from PATH, else built once from the helm.sh/helm/v3 Go module into the cache. */
export async function ensureHelm(options: BinaryOptions = {}): Promise<string> {
  const found = await which('helm');
  if (found) return found;
  const dir = join(options.cacheDir ?? defaultCacheDir(), `helm-${helmVersion}`);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  await ensureBuilt(dir, ['helm'], `helm ${helmVersion}`, log, (out) =>
    runGo(['install', '-trimpath', '-ldflags=-s -w', `helm.sh/helm/v3/cmd/helm@${helmVersion}`], undefined, { GOBIN: out }),
  );
  return join(dir, 'helm');
}

/** etcd from PATH, else Debian's etcd-server installed with apt-get (root only). */
function ensureEtcd(log: (line: string) => void): Promise<string> {
  return ensureDebian('etcd', 'etcd-server', log);
}

/** Paths of the real Prometheus (server and agent mode) and its promtool. */
export interface PrometheusBinaries {
  readonly prometheus: string;
  readonly promtool: string;
}

/** Prometheus and promtool from PATH, else Debian's prometheus package installed with apt-get (root only). */
export async function ensurePrometheus(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<PrometheusBinaries> {
  const prometheus = await ensureDebian('prometheus', 'prometheus', log);
  const promtool = await which('promtool');
  if (!promtool) throw new Error('prometheus is installed but promtool is not on PATH');
  return { prometheus, promtool };
}

/** `command` from PATH, else Debian's `pkg` installed with apt-get (root only; its services are not started). */
export async function ensureDebian(command: string, pkg: string, log: (line: string) => void): Promise<string> {
  const found = await which(command);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(`${command} is not installed: run "apt-get install ${pkg}" as root, then try again`);
  }
  const started = Date.now();
  log(`installing ${command} from Debian (${pkg})...`);
  await run('apt-get', ['update'], {});
  await run('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  log(`installed ${command} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const installed = await which(command);
  if (!installed) throw new Error(`apt-get installed ${pkg} but no ${command} is on PATH`);
  return installed;
}

/** The folder of `module` (`path@version`) in the Go module cache, downloaded when missing. */
export async function goModuleDir(module: string): Promise<string> {
  const { stdout } = await promisify(execFile)(goBinary(), ['mod', 'download', '-json', module], { maxBuffer: 4 * 1024 * 1024 });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${module} named no folder`);
  return dir;
}

/** `go` from PATH, else the toolchain's usual place. */
export function goBinary(): string {
  const onPath = (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, 'go')));
  return onPath ? 'go' : '/usr/local/go/bin/go';
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, name);
    if (await allExecutable([candidate])) return candidate;
  }
  return undefined;
}

async function allExecutable(paths: string[]): Promise<boolean> {
  try {
    await Promise.all(paths.map((p) => access(p, constants.X_OK)));
    return true;
  } catch {
    return false;
  }
}

/** Runs a command, keeping its output for the error message if it fails. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`, { cause: err })));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}
