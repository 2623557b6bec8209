/**
 * vitest global setup of the e2e project: one control plane for every spec. With
 * E2E_KUBECONFIG set (the kind path), the specs run against that cluster instead and
 * nothing is started here.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureKubectl, ensurePrometheus } from './controlplane/binaries.js';
import { ControlPlane } from './controlplane/controlplane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the cluster under test. */
    kubeconfig: string;
    /** True when the harness started the control plane (so specs may restart kube-apiserver). */
    localControlPlane: boolean;
    /** The kubectl to run. */
    kubectl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.E2E_KUBECONFIG;
  project.provide('kubectl', await ensureKubectl());
  // The metrics spec's real scraper and remote-writer; installed here so a slow apt-get counts against no test.
  await ensurePrometheus();
  if (external) {
    project.provide('kubeconfig', external);
    project.provide('localControlPlane', false);
    return async () => {};
  }
  const started = Date.now();
  const plane = await ControlPlane.start({ nodes: 2, keepData: process.env.E2E_KEEP === '1' });
  process.stderr.write(`e2e: control plane up in ${((Date.now() - started) / 1000).toFixed(1)} s (${plane.dir})\n`);
  project.provide('kubeconfig', plane.kubeconfigPath);
  project.provide('localControlPlane', true);
  return async () => {
    await plane.stop();
  };
}
