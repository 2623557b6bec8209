/**
 * The real kubectl, run against the cluster under test.
 */
import { spawn } from 'node:child_process';
import { inject } from 'vitest';

/** What a kubectl run printed and how it ended. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs kubectl with `args` (the binary: $E2E_KUBECTL, set by the global setup, else the injected one), feeding `input` on stdin; never rejects on a
 * non-zero exit.
 */
export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.E2E_KUBECTL || inject('kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => reject(new Error(`cannot run kubectl (is it on PATH?): ${err.message}`, { cause: err })));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Runs kubectl and returns stdout; rejects with kubectl's stderr on failure. */
export async function kubectlOk(kubeconfig: string, args: string[], input?: string): Promise<string> {
  const result = await kubectl(kubeconfig, args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}
