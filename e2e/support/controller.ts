/**
 * The controller as a real process (`bin/flant-integration.js run`), its JSON log lines
 * captured for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';

/** A running controller process. */
export class ControllerProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  /**
   * @param kubeconfig cluster to run against; empty for none (embedded mode).
   * @param entry the program and its first arguments. @default `bin/flant-integration.js run`
   * @param listeners the listener flags. @default metrics and probes of `run` on free loopback ports
   */
  constructor(
    kubeconfig: string,
    extraArgs: string[] = [],
    env: NodeJS.ProcessEnv = {},
    entry: readonly string[] = ['bin/flant-integration.js', 'run'],
    listeners: readonly string[] = ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'],
  ) {
    const args = [...entry, ...(kubeconfig ? [`--kubeconfig=${kubeconfig}`] : []), ...listeners, ...extraArgs];
    this.child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const collect = (chunk: Buffer) => this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Log lines whose msg equals `msg`. */
  messages(msg: string): string[] {
    return this.lines.filter((l) => l.includes(`"msg":"${msg}"`));
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Polls `check` until it is true; fails after `timeoutMs` saying `what`. Returns the time it took. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, intervalMs = 100): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
}

/** The environment the install's Deployment gives the controller (its own namespace: Lease, Secrets). */
export const controllerEnv = { POD_NAMESPACE: 'flant-integration-system' } as const;

/**
 * `run` as the controller's ServiceAccount, bound by the install's RBAC (a request it does
 * not allow fails the spec; the audit log records the rest), on `kubeconfig` when given.
 */
export function startController(args: string[], kubeconfig: string = inject('controllerKubeconfig')): ControllerProcess {
  return new ControllerProcess(kubeconfig, args, controllerEnv);
}
