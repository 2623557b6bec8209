/**
 * Runs a program to its end and gives back its exit code and its output (stdout and stderr together).
 */
import { spawn } from 'node:child_process';

/** Runs `command` with `args`; never rejects on a non-zero exit. */
export function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? -1, out }));
  });
}
