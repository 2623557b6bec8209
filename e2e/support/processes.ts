/**
 * Which control plane processes run on this machine, read from /proc.
 */
import { readdir, readFile } from 'node:fs/promises';

const names = /(^|\/)(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok)\0/;

/** Control plane processes running now, as "pid command" lines. */
export async function controlPlaneProcesses(): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (names.test(cmd)) lines.push(`${entry} ${cmd.replaceAll('\0', ' ').trim()}`);
  }
  return lines;
}
