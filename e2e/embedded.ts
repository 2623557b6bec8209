/**
 * `npm start`'s embedded mode: a local control plane with the CRD, the sample licence
 * Secret and the sample FlantIntegration, so the controller has something to do at once.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { crdPath, flantIntegrationCRD, group, plural } from '../src/api/index.js';
import { Applier, realClock, RESTMapper, type KubeClient, type KubeObject } from '../src/reconciler/index.js';
import { kubernetesVersion, repoRoot } from './controlplane/binaries.js';
import { ControlPlane } from './controlplane/controlplane.js';
import { waitFor } from './controlplane/process.js';

/** Sample manifests applied in embedded mode, relative to the repository root. */
export const embeddedSamples = ['config/samples/licence-secret.yaml', 'config/samples/flantintegration.yaml'];

/** Starts the local control plane for `flant-integration run --embedded`. */
export async function startEmbeddedCluster() {
  process.stderr.write('starting a local control plane (no kubeconfig given)...\n');
  const plane = await ControlPlane.start({ nodes: 2 });
  return {
    kubeconfigPath: plane.kubeconfigPath,
    prepare: (client: KubeClient) => installSamples(client),
    banner: () =>
      [
        '',
        `Local control plane is up: Kubernetes ${kubernetesVersion}, 2 kwok nodes, the FlantIntegration CRD and samples installed.`,
        `  kubeconfig: ${plane.kubeconfigPath}`,
        `  try:        kubectl --kubeconfig ${plane.kubeconfigPath} get flantintegrations`,
        'Ctrl-C stops the controller and the control plane.',
        '',
        '',
      ].join('\n'),
    stop: () => plane.stop(),
  };
}

/** Applies the CRD, waits until it is Established, then applies the samples. */
export async function installSamples(client: KubeClient): Promise<void> {
  const mapper = new RESTMapper(client, realClock, 0);
  const applier = new Applier(client, mapper, { managedBy: { key: 'app.kubernetes.io/managed-by', value: 'flant-integration-embedded' }, componentKey: 'embedded' });
  await applier.apply(flantIntegrationCRD() as KubeObject);
  await waitFor(`CRD ${crdPath} Established`, async () => {
    const crd = await client.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${group}`,
    );
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  }, 30_000);
  for (const file of embeddedSamples) {
    const docs = parseAllDocuments(await readFile(join(repoRoot(), file), 'utf8')).map((d) => d.toJS() as KubeObject);
    for (const doc of docs) await applier.apply(doc);
  }
}
