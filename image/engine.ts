/**
 * A Docker engine to load and run the image. The one the environment points at
 * (`DOCKER_HOST`, else the default socket) is used when it answers; otherwise, as root on
 * Debian, Debian's `docker.io` is installed when missing and its `dockerd` started by hand
 * (these machines have no systemd) with a data root under the cache, so loaded images
 * survive, and folders and a socket of its own. Whoever started it stops it, by its pid.
 * Where this process lacks capabilities (these machines' sandbox), that engine runs its
 * containers through image/runtime, so privileged ones (kind's node) can start.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

/** Where the engine this project starts keeps its socket and pid file (short: a unix socket path is at most 107 bytes). */
export const ownEngineRunDir = '/run/flant-integration-docker';
/** The socket of the engine this project starts. */
export const ownEngineHost = `unix://${ownEngineRunDir}/docker.sock`;

/** An engine that answers. */
export interface Engine {
  /** The value of DOCKER_HOST that reaches it. */
  readonly host: string;
  /** The server's version. */
  readonly version: string;
  /** True when this call started it. */
  readonly started: boolean;
  /** Stops it if this call started it; otherwise does nothing. */
  stop(): Promise<void>;
}

/** How to find or start an engine. */
export interface EngineOptions {
  /** The cache root; the engine's data root is `<cacheDir>/docker`. */
  readonly cacheDir: string;
  readonly log: (line: string) => void;
  /** The environment to read DOCKER_HOST from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** The environment for a docker client that talks to `engine`. */
export function dockerEnv(engine: Pick<Engine, 'host'>, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, DOCKER_HOST: engine.host };
}

/** Returns an engine that answers, starting Debian's when none does and this is root on Debian; throws saying what is missing otherwise. */
export async function ensureEngine(options: EngineOptions): Promise<Engine> {
  const env = options.env ?? process.env;
  const candidates = [env.DOCKER_HOST, 'unix:///var/run/docker.sock', ownEngineHost].filter((h): h is string => Boolean(h));
  for (const host of new Set(candidates)) {
    const version = await serverVersion(host);
    if (version) return { host, version, started: false, stop: async () => {} };
  }
  const why = await whyNoStart();
  if (why) throw new Error(`no Docker engine answers (tried ${[...new Set(candidates)].join(', ')}) and ${why}`);
  return startEngine(options);
}

/** The server version at `host`, or undefined when nothing answers there. */
export async function serverVersion(host: string): Promise<string | undefined> {
  if (host.startsWith('unix://') && !existsSync(host.slice('unix://'.length))) return undefined;
  try {
    const { stdout } = await run('docker', ['version', '--format', '{{.Server.Version}}'], {
      env: { ...process.env, DOCKER_HOST: host },
      timeout: 15_000,
    });
    return stdout.trim() || undefined;
  } catch {
    // Not answering is what this asks; the caller tries the next host or starts one.
    return undefined;
  }
}

/** Why this process cannot start an engine itself, or undefined when it can. */
async function whyNoStart(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'this is not root, so none can be started here: start Docker, or write an archive with --output FILE';
  if (!existsSync('/etc/debian_version'))
    return "this is not Debian, so Debian's docker.io cannot be installed: start Docker, or write an archive with --output FILE";
  return undefined;
}

async function startEngine(options: EngineOptions): Promise<Engine> {
  await installDockerIo(options.log);
  const dataRoot = join(options.cacheDir, 'docker');
  await mkdir(dataRoot, { recursive: true });
  await mkdir(ownEngineRunDir, { recursive: true });
  const pidFile = join(ownEngineRunDir, 'docker.pid');
  await removeStalePidFile(pidFile);
  const logFile = join(dataRoot, 'dockerd.log');
  options.log(`starting Debian's dockerd (data root ${dataRoot}, log ${logFile})...`);
  const out = openSync(logFile, 'a');
  const args = ['--data-root', dataRoot, '--exec-root', join(ownEngineRunDir, 'exec'), '--host', ownEngineHost, '--pidfile', pidFile];
  const runtime = await currentCapsRuntime(options);
  if (runtime) args.push('--add-runtime', `current-caps=${runtime}`, '--default-runtime', 'current-caps');
  const child = spawn('dockerd', args, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  const started = Date.now();
  let exited = false;
  child.on('exit', () => (exited = true));
  while (Date.now() - started < 60_000 && !exited) {
    const version = await serverVersion(ownEngineHost);
    if (version) {
      options.log(`dockerd ${version} answers on ${ownEngineHost} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return { host: ownEngineHost, version, started: true, stop: () => stopEngine(pidFile, options.log) };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = (await readFile(logFile, 'utf8')).trim().split('\n').slice(-5).join('\n');
  throw new Error(`dockerd did not answer on ${ownEngineHost} within 60 s; the end of ${logFile}:\n${tail}`);
}

/** Capabilities the kernel knows (CAP_CHOWN .. CAP_CHECKPOINT_RESTORE): 41 bits. */
const allCapabilities = (1n << 41n) - 1n;

/**
 * Where this process's bounding set lacks capabilities (these machines' sandbox has no
 * CAP_SYS_RESOURCE), Docker's privileged containers (kind's node) cannot start: runc is
 * asked for every capability. The engine then runs containers through image/runtime, which
 * drops what cannot be had and execs runc; it is built once with Go into the cache.
 * Returns its path, or undefined where nothing is missing.
 */
async function currentCapsRuntime(options: EngineOptions): Promise<string | undefined> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!bounding || (BigInt(`0x${bounding}`) & allCapabilities) === allCapabilities) return undefined;
  const source = join(repoRoot(), 'image', 'runtime');
  const hash = createHash('sha256')
    .update(await readFile(join(source, 'main.go')))
    .digest('hex')
    .slice(0, 12);
  const out = join(options.cacheDir, 'docker-runtime', hash, 'current-caps-runc');
  if (existsSync(out)) return out;
  options.log("this sandbox lacks some capabilities: building the engine's runtime wrapper (image/runtime) with Go...");
  const go = existsSync('/usr/local/go/bin/go') && !(await onPath('go')) ? '/usr/local/go/bin/go' : 'go';
  await run(go, ['build', '-trimpath', '-ldflags=-s -w', '-o', out, '.'], { cwd: source, env: { ...process.env, CGO_ENABLED: '0' } });
  return out;
}

/** Stops the engine whose pid is in `pidFile`: SIGTERM, then SIGKILL after 30 s. */
export async function stopEngine(pidFile: string = join(ownEngineRunDir, 'docker.pid'), log: (line: string) => void = () => {}): Promise<void> {
  const pid = await readPid(pidFile);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const started = Date.now();
  while (alive(pid) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  log(`dockerd stopped (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function installDockerIo(log: (line: string) => void): Promise<void> {
  if (await onPath('dockerd')) return;
  log("installing Debian's docker.io (dockerd, containerd, runc)...");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => run('apt-get', ['-q', '-o', 'DPkg::Lock::Timeout=600', ...args], { env, maxBuffer: 64 * 1024 * 1024 });
  try {
    await apt(['install', '-y', '--no-install-recommends', 'docker.io']);
  } catch {
    // The package lists may be missing on a fresh machine: refresh them once and try again.
    await apt(['update']);
    await apt(['install', '-y', '--no-install-recommends', 'docker.io']);
  }
}

async function onPath(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    // `command -v` exits non-zero when the command is not on PATH.
    return false;
  }
}

async function removeStalePidFile(pidFile: string): Promise<void> {
  const pid = await readPid(pidFile);
  if (pid !== undefined && !alive(pid)) await rm(pidFile, { force: true });
}

async function readPid(pidFile: string): Promise<number | undefined> {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: no such process.
    return false;
  }
}
