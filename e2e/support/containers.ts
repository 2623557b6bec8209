/**
 * Containers of one image, run the way the chart runs its pods: read-only root filesystem,
 * every capability dropped, no privilege escalation, user 65532. They share the host's
 * network (the local control plane and the stand-ins listen on 127.0.0.1) and see one folder
 * of the test's at /config, read-only.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dockerEnv, type Engine } from '../../image/engine.js';

const run = promisify(execFile);

/** How a container ended. */
export interface Stopped {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** From `docker stop` to the container's exit. */
  readonly seconds: number;
}

/** The containers a spec runs, each by a short name; removed together at the end. */
export class Containers {
  private readonly names = new Set<string>();
  private readonly prefix = `flant-e2e-${process.pid}-`;

  constructor(
    private readonly engine: Pick<Engine, 'host'>,
    private readonly image: string,
    private readonly configDir: string,
  ) {}

  /** `docker` with `args`, its stdout. */
  async docker(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await run('docker', args, { env: dockerEnv(this.engine), maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      throw new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${(err as { stderr?: string }).stderr?.trim() ?? String(err)}`, { cause: err });
    }
  }

  private hardened(env: Record<string, string>): string[] {
    const vars = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    return [
      '--network=host',
      '--read-only',
      '--cap-drop=ALL',
      '--security-opt=no-new-privileges',
      '--user=65532',
      `--volume=${this.configDir}:/config:ro`,
      ...vars,
    ];
  }

  /** Runs the image with `args` to its end and returns what it printed. */
  async output(args: readonly string[]): Promise<string> {
    return (await this.docker(['run', '--rm', ...this.hardened({}), this.image, ...args])).trim();
  }

  /** A field of the image's configuration (a `docker image inspect` Go template). */
  async config(template: string): Promise<string> {
    return (await this.docker(['image', 'inspect', '--format', template, this.image])).trim();
  }

  /** Every path in the image's filesystem, without a leading `./` or `/`. */
  async files(): Promise<string[]> {
    const id = (await this.docker(['create', this.image])).trim();
    try {
      const { stdout } = await run('sh', ['-c', `docker export ${id} | tar -t`], { env: dockerEnv(this.engine), maxBuffer: 256 * 1024 * 1024 });
      return stdout
        .split('\n')
        .map((f) => f.replace(/^\.?\//, '').replace(/\/$/, ''))
        .filter(Boolean);
    } finally {
      await this.docker(['rm', id]);
    }
  }

  /** Starts container `name` in the background. */
  async start(name: string, args: readonly string[], env: Record<string, string> = {}): Promise<void> {
    this.names.add(name);
    await this.docker(['run', '--detach', `--name=${this.prefix}${name}`, ...this.hardened(env), this.image, ...args]);
  }

  /** What container `name` printed so far (stdout and stderr). */
  async logs(name: string): Promise<string> {
    const { stdout, stderr } = await run('docker', ['logs', `${this.prefix}${name}`], { env: dockerEnv(this.engine), maxBuffer: 256 * 1024 * 1024 });
    return stdout + stderr;
  }

  /** `docker stop` with `graceSeconds` (SIGTERM, then SIGKILL at the end of the grace period) and how it ended. */
  async stop(name: string, graceSeconds: number): Promise<Stopped> {
    const started = Date.now();
    await this.docker(['stop', `--time=${graceSeconds}`, `${this.prefix}${name}`]);
    const seconds = (Date.now() - started) / 1000;
    const [exitCode, oomKilled] = (await this.docker(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', `${this.prefix}${name}`]))
      .trim()
      .split(' ');
    return { exitCode: Number(exitCode), oomKilled: oomKilled === 'true', seconds };
  }

  /** Removes every container this started. */
  async removeAll(): Promise<void> {
    for (const name of this.names) await this.docker(['rm', '--force', `${this.prefix}${name}`]).catch(() => undefined);
    this.names.clear();
  }
}
