/**
 * The harness itself: a second control plane starts beside the shared one, and stopping
 * it (after success or after a start that timed out) leaves no process and no port.
 */
import { connect } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { controlPlaneProcesses } from '../support/processes.js';
import { ControlPlane } from './controlplane.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe.skipIf(!inject('localControlPlane'))('control plane harness', () => {
  it('leaves no process and no port behind after stop()', async () => {
    const plane = await ControlPlane.start({ nodes: 1 });
    const pids = plane.pids();
    const port = Number(new URL(plane.server).port);
    expect(pids).toHaveLength(5);
    expect(await listening(port)).toBe(true);
    await plane.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('tears down what it started when the start times out', async () => {
    const before = await controlPlaneProcesses();
    await expect(ControlPlane.start({ nodes: 1, startTimeoutSeconds: 0.001 })).rejects.toThrow(/timed out/);
    const after = await controlPlaneProcesses();
    expect(after.filter((line) => !before.includes(line))).toEqual([]);
  });
});
