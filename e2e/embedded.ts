/**
 * `npm start`'s embedded mode: a local control plane with the CRD, the sample licence
 * Secret and the sample FlantIntegration, so the controller has something to do at once.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { crdPath, flantIntegrationCRD, group, plural } from '../src/api/index.js';
import { Applier, realClock, RESTMapper, type KubeClient, type KubeObject } from '../src/reconciler/index.js';
import { fixturesDir } from '../cdk8s/imports.js';
import { kubernetesVersion, repoRoot } from './controlplane/binaries.js';
import { ControlPlane } from './controlplane/controlplane.js';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import { waitFor } from './controlplane/process.js';

/** Sample manifests applied in embedded mode, relative to the repository root. */
export const embeddedSamples = ['config/samples/license-secret.yaml', 'config/samples/flantintegration.yaml'];

/** The licence of config/samples/license-secret.yaml, which the Connect stand-in accepts. */
const sampleLicence = 'replace-with-your-license-key';
/** The name the DNS stand-in answers for, with documentation-only addresses (never dialled: kwok pods do not run). */
const localBackendsHost = 'madison-direct.local';
const localBackends = ['192.0.2.10', '192.0.2.11'];

/** Starts the local control plane and the Connect and DNS stand-ins for `npm start`. */
export async function startEmbeddedCluster() {
  process.stderr.write('starting a local control plane (no kubeconfig given)...\n');
  const connect = new FakeConnect(sampleLicence);
  const dns = new FakeDNS();
  dns.setA(localBackendsHost, localBackends);
  const [connectURL, dnsServer] = await Promise.all([connect.start(), dns.start()]);
  const plane = await ControlPlane.start({ nodes: 2 }).catch(async (err: unknown) => {
    await Promise.all([connect.stop(), dns.stop()]);
    throw err;
  });
  return {
    kubeconfigPath: plane.kubeconfigPath,
    dnsServer,
    prepare: (client: KubeClient) => installSamples(client, { connect: { url: connectURL }, madison: { backendsHost: localBackendsHost } }),
    banner: () =>
      [
        '',
        `Local control plane is up: Kubernetes ${kubernetesVersion}, 2 kwok nodes, the FlantIntegration CRD and samples installed.`,
        `  kubeconfig: ${plane.kubeconfigPath}`,
        `  try:        kubectl --kubeconfig ${plane.kubeconfigPath} get flantintegrations`,
        `  stand-ins:  Connect at ${connectURL}, DNS at ${dnsServer} (${localBackendsHost} -> ${localBackends.join(', ')})`,
        'Ctrl-C stops the controller and the control plane.',
        '',
        '',
      ].join('\n'),
    stop: async () => {
      await plane.stop();
      await Promise.all([connect.stop(), dns.stop()]);
    },
  };
}

/**
 * Applies the CRDs (ours and the Deckhouse fixtures), waits until ours is Established, then applies the samples with `overrides` on the
 * FlantIntegration spec.
 */
export async function installSamples(client: KubeClient, overrides: Record<string, Record<string, unknown>>): Promise<void> {
  const mapper = new RESTMapper(client, realClock, 0);
  const applier = new Applier(
    client,
    mapper,
    { managedBy: { key: 'app.kubernetes.io/managed-by', value: 'flant-integration-embedded' }, componentKey: 'embedded' },
    'flant-integration-embedded',
  );
  await applier.apply(flantIntegrationCRD());
  for (const file of (await readdir(join(repoRoot(), fixturesDir))).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(repoRoot(), fixturesDir, file), 'utf8'))) await applier.apply(doc.toJS() as KubeObject);
  }
  await waitFor(
    `CRD ${crdPath} Established`,
    async () => {
      const crd = await client.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${group}`,
      );
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    },
    30_000,
  );
  for (const file of embeddedSamples) {
    const docs = parseAllDocuments(await readFile(join(repoRoot(), file), 'utf8')).map((d) => d.toJS() as KubeObject);
    for (const doc of docs) await applier.apply(doc.kind === 'FlantIntegration' ? withOverrides(doc, overrides) : doc);
  }
}

function withOverrides(fi: KubeObject, overrides: Record<string, Record<string, unknown>>): KubeObject {
  const spec = { ...((fi.spec ?? {}) as Record<string, Record<string, unknown>>) };
  for (const [key, value] of Object.entries(overrides)) spec[key] = { ...(spec[key] ?? {}), ...value };
  return { ...fi, spec };
}
