/**
 * Child processes of the harness: started with their output in a log file, stopped with
 * SIGTERM then SIGKILL, and killed synchronously if the harness process exits first, so
 * no process outlives the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

/** A running child process. */
export interface Managed {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<string>;
  /** True once the process has ended. */
  readonly done: () => boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Starts `command` with its stdout and stderr appended to `logFile`. */
export function startProcess(name: string, command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Managed {
  installExitHook();
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  running.add(child);
  let finished = false;
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => {
      finished = true;
      running.delete(child);
      resolve(signal ?? String(code));
    });
    child.on('error', (err) => {
      finished = true;
      running.delete(child);
      log.write(`cannot start ${command}: ${err.message}\n`);
      resolve('error');
    });
  });
  return {
    name,
    pid: child.pid ?? -1,
    exited,
    done: () => finished,
    async stop(graceMs = 10_000) {
      if (finished) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `intervalMs` until it returns true, or fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
}
