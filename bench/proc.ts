/**
 * A process's memory as Linux reports it in /proc/<pid>/status: resident now (VmRSS), its
 * peak (VmHWM), and the part of the resident set the process owns (RssAnon: heap, stacks,
 * V8's spaces) apart from the pages of files it maps (RssFile: mostly the node binary,
 * shared by every Node process on a machine).
 */
import { readFileSync } from 'node:fs';

/** Memory figures of one process, in MiB. */
export interface ProcMemory {
  readonly rssMiB: number;
  readonly peakMiB: number;
  readonly anonMiB: number;
  readonly fileMiB: number;
}

export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024, anonMiB: kb('RssAnon') / 1024, fileMiB: kb('RssFile') / 1024 };
}

/** Samples `pid`'s RssAnon every `intervalMs` until stopped and returns the highest seen (Linux keeps no peak of it). */
export function sampleAnonPeak(pid: number, intervalMs = 50): () => number {
  let peak = procMemory(pid).anonMiB;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procMemory(pid).anonMiB);
    } catch {
      // The process has exited: the peak so far stands.
      clearInterval(timer);
    }
  }, intervalMs);
  return () => {
    clearInterval(timer);
    return peak;
  };
}
