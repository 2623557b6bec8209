/**
 * The component contract end to end on the real control plane: log-shipper and upmeter
 * objects written exactly as the Deckhouse module wrote them into the fixture CRDs, `CRDNotInstalled` while
 * those CRDs are missing (Madison unaffected), CRDs picked up within 5 s of installation,
 * the best served ClusterLoggingConfig version, our objects deleted or edited by hand put
 * back within 2 s, licence rotation within 2 s, switching
 * each component off, deleting the FlantIntegration, and `render` output the API server accepts.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../src/cmd/cluster.js';
import { isNotFound, kubeClient, type KubeClient } from '../src/reconciler/index.js';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import {
  apply,
  fakesSpec,
  column as columnOf,
  condition,
  removeFlantIntegrationAndNamespace,
  secret,
  workloadsNamespace,
} from './support/cluster.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const kc = inject('kubeconfig');
const licence = 'LICENCE-components-e2e-5c1e';
const newLicence = 'LICENCE-components-e2e-rotated-77d0';
const ns = 'components-e2e';
const host = 'madison.components.test';
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
const crds = ['clusterlogdestinations.deckhouse.io', 'clusterloggingconfigs.deckhouse.io', 'upmeterremotewrites.deckhouse.io'];
const fixture = (name: string) => `e2e/fixtures/crds/${name}.yaml`;
let ctl: ControllerProcess;
let clusterUUID: string;
let api: KubeClient;

/** The three objects' REST paths: read straight from the API where a bound is timed (kubectl's start-up and discovery would be what is measured). */
const paths = {
  destination: '/apis/deckhouse.io/v1alpha1/clusterlogdestinations/flant-integration-loki-storage',
  config: '/apis/deckhouse.io/v1alpha1/clusterloggingconfigs/flant-integration-d8-logs',
  remoteWrite: '/apis/deckhouse.io/v1/upmeterremotewrites/flant-integration-promscale',
};

/** The object at `path`, or undefined when it does not exist (or its kind is not served yet). */
async function read(path: string): Promise<{ spec: Record<string, unknown> } | undefined> {
  try {
    return await api.request(`GET`, path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const spec = (extra: Record<string, unknown> = {}) => fakesSpec(ns, connect.url, host, extra);

/** The object as stored, read at `version` (`<plural>.<version>.<group>`), or undefined. */
async function get(
  resource: string,
  name: string,
): Promise<{ apiVersion: string; spec: Record<string, unknown>; metadata: { uid: string } } | undefined> {
  const r = await kubectl(kc, ['get', resource, name, '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) : undefined;
}

/** A fixture CRD with only `served` versions served. */
async function crdServing(name: string, served: string[]): Promise<string> {
  const crd = parseAllDocuments(await readFile(fixture(name), 'utf8'))[0]?.toJS() as { spec: { versions: Array<{ name: string; served: boolean }> } };
  for (const v of crd.spec.versions) v.served = served.includes(v.name);
  return stringify(crd);
}

const column = (name: string) => columnOf(kc, name);

const expectedDestination = () => ({
  type: 'Loki',
  loki: { endpoint: `${connect.url}/v1/loki_push/`, auth: { strategy: 'Bearer', token: licence } },
  buffer: { type: 'Memory', memory: { maxEvents: 10240 }, whenFull: 'DropNewest' },
  extraLabels: { cluster_uuid: clusterUUID },
});

beforeAll(async () => {
  await installCRD(kc);
  await kubectlOk(kc, ['delete', 'crd', ...crds, '--ignore-not-found', '--wait=true']);
  await kubectlOk(kc, ['apply', '--server-side', '-f', fixture('customalertmanagers.deckhouse.io')]);
  await connect.start();
  await dns.start();
  dns.setA(host, ['192.0.2.40']);
  await workloadsNamespace(kc, ns);
  await apply(kc, secret(ns, 'license', { key: licence }));
  clusterUUID = await kubectlOk(kc, ['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}']);
  api = await kubeClient(loadKubeConfig({ kubeconfig: kc, inCluster: false }));
  ctl = startController(['--sync-period=10m', `--dns-server=${dns.address}`, '--image=flant-integration-controller:e2e']);
  await apply(kc, spec());
});

afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await kubectl(kc, ['delete', 'clusterlogdestination', 'someone-elses', '--ignore-not-found']);
  await removeFlantIntegrationAndNamespace(kc, ns);
  await connect.stop();
  await dns.stop();
});

describe('log-shipper and upmeter components', () => {
  it('say CRDNotInstalled while their CRDs are missing, and Madison is Ready all the same', async () => {
    await eventually('MadisonProxyReady is True', async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True', 60_000);
    expect(await condition(kc, 'LogShippingReady')).toMatchObject({
      status: 'False',
      reason: 'CRDNotInstalled',
      message: expect.stringContaining(
        'ClusterLogDestination (clusterlogdestinations.deckhouse.io) and ClusterLoggingConfig (clusterloggingconfigs.deckhouse.io)',
      ),
    });
    expect(await condition(kc, 'UpmeterReady')).toMatchObject({
      status: 'False',
      reason: 'CRDNotInstalled',
      message: expect.stringContaining('spec.upmeter.enabled: false'),
    });
    expect(await condition(kc, 'Ready')).toMatchObject({ status: 'False', reason: 'ComponentsNotReady' });
    expect(await column('LOGS')).toBe('CRDNotInstalled');
    expect(await column('UPMETER')).toBe('CRDNotInstalled');
  });

  it('writes the objects within 5 s of the CRDs being installed, with no restart, exactly as the Deckhouse module wrote them', async () => {
    const manifests = [
      await readFile(fixture('clusterlogdestinations.deckhouse.io'), 'utf8'),
      await crdServing('clusterloggingconfigs.deckhouse.io', ['v1alpha1']),
      await readFile(fixture('upmeterremotewrites.deckhouse.io'), 'utf8'),
    ];
    await kubectlOk(kc, ['apply', '--server-side', '-f', '-'], manifests.join('\n---\n'));
    const took = await eventually(
      'the three objects exist',
      async () => (await Promise.all(Object.values(paths).map(read))).every((o) => o !== undefined),
      5000,
      50,
    );
    process.stderr.write(`e2e: objects appeared ${took} ms after the CRDs were applied\n`);
    expect((await get('clusterlogdestinations', 'flant-integration-loki-storage'))?.spec).toEqual(expectedDestination());
    const config = await get('clusterloggingconfigs.v1alpha1.deckhouse.io', 'flant-integration-d8-logs');
    expect(config?.spec).toEqual({
      type: 'KubernetesPods',
      kubernetesPods: { namespaceSelector: { matchNames: ['d8-system'] }, labelSelector: { matchLabels: { app: 'deckhouse' } } },
      destinationRefs: ['flant-integration-loki-storage'],
    });
    const remoteWrite = await get('upmeterremotewrites', 'flant-integration-promscale');
    expect(remoteWrite?.apiVersion).toBe('deckhouse.io/v1');
    expect(remoteWrite?.spec).toEqual({
      config: { url: `${connect.url}/v1/remote_write`, bearerToken: licence },
      additionalLabels: { cluster_uuid: clusterUUID },
      intervalSeconds: 300,
    });
    await eventually(
      'LogShippingReady and UpmeterReady are True',
      async () => (await condition(kc, 'LogShippingReady'))?.status === 'True' && (await condition(kc, 'UpmeterReady'))?.status === 'True',
      10_000,
    );
    await eventually('Ready is True', async () => (await condition(kc, 'Ready'))?.status === 'True', 10_000);
    expect(await column('LOGS')).toBe('Ready');
    expect(await column('UPMETER')).toBe('Ready');
  });

  it('writes the v1alpha2 ClusterLoggingConfig once that version is served too', async () => {
    await kubectlOk(kc, ['apply', '--server-side', '-f', '-'], await crdServing('clusterloggingconfigs.deckhouse.io', ['v1alpha1', 'v1alpha2']));
    const selectorOf = async () =>
      (
        (await get('clusterloggingconfigs.v1alpha2.deckhouse.io', 'flant-integration-d8-logs'))?.spec.kubernetesPods as
          { namespaceSelector?: unknown } | undefined
      )?.namespaceSelector;
    await eventually(
      'the v1alpha2 shape is written',
      async () =>
        JSON.stringify(await selectorOf()) === JSON.stringify({ labelSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'd8-system' } } }),
      10_000,
    );
    expect((await condition(kc, 'LogShippingReady'))?.message).toContain('(deckhouse.io/v1alpha2)');
  });

  it('puts back within 2 s any object of ours deleted or edited by hand, and leaves alike objects of others alone', async () => {
    // Alike objects that are not ours: same kind, same app label, no managed-by label.
    await apply(
      kc,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'not-ours', namespace: ns, labels: { app: 'madison-proxy' } },
        spec: { ports: [{ port: 80 }] },
      }),
    );
    await apply(
      kc,
      JSON.stringify({
        apiVersion: 'deckhouse.io/v1alpha1',
        kind: 'ClusterLogDestination',
        metadata: { name: 'not-ours-drift' },
        spec: { type: 'Loki', loki: { endpoint: 'https://loki.example.com' } },
      }),
    );
    const theirs = async () =>
      [
        (await read(`/api/v1/namespaces/${ns}/services/not-ours`)) as unknown,
        (await read('/apis/deckhouse.io/v1alpha1/clusterlogdestinations/not-ours-drift')) as unknown,
      ].map((o) => JSON.stringify(o));
    const theirsBefore = await theirs();
    const [deployment] = (
      await kubectlOk(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'jsonpath={.items[*].metadata.name}'])
    ).split(' ');
    const objects: Record<string, string> = {
      ClusterLogDestination: paths.destination,
      ClusterLoggingConfig: '/apis/deckhouse.io/v1alpha2/clusterloggingconfigs/flant-integration-d8-logs',
      UpmeterRemoteWrite: paths.remoteWrite,
      'proxy Deployment': `/apis/apps/v1/namespaces/${ns}/deployments/${deployment ?? ''}`,
      'proxy Service': `/api/v1/namespaces/${ns}/services/madison-proxy`,
      'Madison key Secret': `/api/v1/namespaces/${ns}/secrets/madison-proxy`,
    };
    const uid = async (path: string) => ((await read(path)) as { metadata?: { uid?: string } } | undefined)?.metadata?.uid;
    const took: string[] = [];
    for (const [what, path] of Object.entries(objects)) {
      const before = await uid(path);
      expect(before, what).toBeDefined();
      await api.request('DELETE', path);
      const ms = await eventually(`the ${what} is back`, async () => ((await uid(path)) ?? before) !== before, 2000, 25);
      took.push(`${what} ${ms} ms`);
    }
    // Edited by hand: our fields come back, in place.
    const endpoint = async () => ((await read(paths.destination))?.spec.loki as { endpoint?: string } | undefined)?.endpoint;
    const ours = await endpoint();
    await kubectlOk(kc, [
      'patch',
      'clusterlogdestination',
      'flant-integration-loki-storage',
      '--type=merge',
      '-p',
      '{"spec":{"loki":{"endpoint":"https://elsewhere.example.com"}}}',
    ]);
    took.push(
      `edited ClusterLogDestination ` +
        `${await eventually('the destination points to Connect again', async () => (await endpoint()) === ours, 2000, 25)} ms`,
    );
    // A port list replaced by hand: our entry clashes with the new one by name, so the object is replaced.
    const servicePath = `/api/v1/namespaces/${ns}/services/madison-proxy`;
    const servicePorts = async () => ((await read(servicePath))?.spec.ports as Array<{ port: number }> | undefined)?.map((p) => p.port).join(',');
    const portsBefore = await servicePorts();
    await kubectlOk(kc, [
      'patch',
      'service',
      '-n',
      ns,
      'madison-proxy',
      '--type=merge',
      '-p',
      '{"spec":{"ports":[{"name":"http","port":9999,"targetPort":"http"}]}}',
    ]);
    const portsBack = await eventually('the Service has its own port again', async () => (await servicePorts()) === portsBefore, 2000, 25);
    took.push(`Service ports replaced ${portsBack} ms`);
    process.stderr.write(`e2e: deleted or edited by hand, back after: ${took.join(', ')}\n`);
    expect(await theirs()).toEqual(theirsBefore);
    await kubectlOk(kc, ['delete', 'service', '-n', ns, 'not-ours']);
    await kubectlOk(kc, ['delete', 'clusterlogdestination', 'not-ours-drift']);
    await eventually('Ready is True', async () => (await condition(kc, 'Ready'))?.status === 'True', 30_000);
  });

  it('puts a replaced license in the destination and the remote write within 2 s', async () => {
    await apply(kc, secret(ns, 'license', { key: newLicence }));
    const took = await eventually(
      'both carry the new license',
      async () =>
        ((await read(paths.destination))?.spec.loki as { auth?: { token?: string } } | undefined)?.auth?.token === newLicence &&
        ((await read(paths.remoteWrite))?.spec.config as { bearerToken?: string } | undefined)?.bearerToken === newLicence,
      2000,
      50,
    );
    process.stderr.write(`e2e: the new license was in both objects after ${took} ms\n`);
  });

  it(
    'stops shipping when the license goes: removes what carries or uses it, keeps the Madison key, and comes back without a second ' + 'registration',
    async () => {
      const registrations = connect.requests('/v1/madison_register').length;
      await kubectlOk(kc, ['delete', 'secret', '-n', ns, 'license']);
      await eventually(
        'the destination, the remote write and the proxies are gone',
        async () =>
          (await read(paths.destination)) === undefined &&
          (await read(paths.remoteWrite)) === undefined &&
          (await kubectlOk(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'name'])) === '',
        10_000,
      );
      expect(await condition(kc, 'LogShippingReady')).toMatchObject({ status: 'False', reason: 'LicenseMissing' });
      expect(await condition(kc, 'MadisonProxyReady')).toMatchObject({ status: 'False', reason: 'LicenseMissing' });
      expect(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'madison-proxy', '-o', 'name'])).toContain('madison-proxy');
      // Every column says what exists now: no proxy runs, and kstatus sees a resource that needs a person.
      await eventually('the MADISON column says 0', async () => (await column('MADISON')) === '0', 5000);
      expect(await condition(kc, 'Stalled')).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
      await apply(kc, secret(ns, 'license', { key: newLicence }));
      await eventually(
        'everything is back',
        async () => (await read(paths.destination)) !== undefined && (await condition(kc, 'MadisonProxyReady'))?.status === 'True',
        30_000,
      );
      const proxies = (await kubectlOk(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'name'])).split('\n').filter(Boolean);
      expect(proxies.length).toBeGreaterThan(0);
      expect(await column('MADISON')).toBe(String(proxies.length));
      expect(connect.requests('/v1/madison_register')).toHaveLength(registrations);
    },
  );

  it('removes exactly the two log objects when logs are switched off, and the remote write when upmeter is', async () => {
    await apply(
      kc,
      JSON.stringify({
        apiVersion: 'deckhouse.io/v1alpha1',
        kind: 'ClusterLogDestination',
        metadata: { name: 'someone-elses' },
        spec: { type: 'Loki', loki: { endpoint: 'https://loki.example.com' } },
      }),
    );
    const remoteWriteUID = (await get('upmeterremotewrites', 'flant-integration-promscale'))?.metadata.uid;
    await apply(kc, spec({ logs: { enabled: false } }));
    await eventually(
      'the log objects are gone',
      async () =>
        (await get('clusterlogdestinations', 'flant-integration-loki-storage')) === undefined &&
        (await get('clusterloggingconfigs', 'flant-integration-d8-logs')) === undefined,
      10_000,
    );
    expect(await condition(kc, 'LogShippingReady')).toMatchObject({ status: 'True', reason: 'Disabled' });
    expect(await column('LOGS')).toBe('Disabled');
    expect((await get('upmeterremotewrites', 'flant-integration-promscale'))?.metadata.uid).toBe(remoteWriteUID);
    expect(await get('clusterlogdestinations', 'someone-elses')).toBeDefined();

    await apply(kc, spec({ logs: { enabled: false }, upmeter: { enabled: false } }));
    await eventually('the remote write is gone', async () => (await get('upmeterremotewrites', 'flant-integration-promscale')) === undefined, 10_000);
    expect(await condition(kc, 'UpmeterReady')).toMatchObject({ status: 'True', reason: 'Disabled' });
    expect(await get('clusterlogdestinations', 'someone-elses')).toBeDefined();
    expect((await condition(kc, 'MadisonProxyReady'))?.status).toBe('True');
  });

  it('removes all three when the FlantIntegration is deleted, and nothing else', async () => {
    await apply(kc, spec());
    await eventually(
      'all three are back',
      async () =>
        (await get('clusterlogdestinations', 'flant-integration-loki-storage')) !== undefined &&
        (await get('upmeterremotewrites', 'flant-integration-promscale')) !== undefined,
      10_000,
    );
    await kubectlOk(kc, ['delete', 'flantintegration', 'default', '--timeout=60s']);
    expect(await get('clusterlogdestinations', 'flant-integration-loki-storage')).toBeUndefined();
    expect(await get('clusterloggingconfigs', 'flant-integration-d8-logs')).toBeUndefined();
    expect(await get('upmeterremotewrites', 'flant-integration-promscale')).toBeUndefined();
    expect(await get('clusterlogdestinations', 'someone-elses')).toBeDefined();
    expect(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'license', '-o', 'name'])).toContain('license');
    const logs = ctl.lines.join('\n');
    expect(logs).not.toContain(licence);
    expect(logs).not.toContain(newLicence);
  });

  it('renders objects the API server accepts against the fixture CRDs', async () => {
    const { renderFromFiles } = await import('../src/cmd/render.js');
    const docs = parseAllDocuments(await renderFromFiles('config/samples/flantintegration.yaml')).map((d) => d.toJS() as { kind: string });
    const deckhouse = docs.filter((d) => ['ClusterLogDestination', 'ClusterLoggingConfig', 'UpmeterRemoteWrite'].includes(d.kind));
    expect(deckhouse.map((d) => d.kind)).toEqual(['ClusterLogDestination', 'ClusterLoggingConfig', 'UpmeterRemoteWrite']);
    const result = await kubectl(
      kc,
      ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
      deckhouse.map((d) => JSON.stringify(d)).join('\n'),
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('says CRDNotInstalled again when a CRD is removed while it runs, and nothing crashes', async () => {
    // Madison registers again, and the stand-in knows only the first licence. The key kept from the deletion was signed
    // with the rotated licence: under this one it cannot be told from a copy, so (as an operator would) it is deleted.
    await apply(kc, secret(ns, 'license', { key: licence }));
    await kubectlOk(kc, ['delete', 'secret', '-n', ns, 'madison-proxy', '--ignore-not-found']);
    await apply(kc, spec());
    // Facts survive the resource: the backends found before it was deleted are used at once, not after the 10 minute discovery interval.
    const took = await eventually(
      'MadisonProxyReady is True on the re-created FlantIntegration',
      async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True',
      2000,
      50,
    );
    process.stderr.write(`e2e: a re-created FlantIntegration had its Madison proxies Available after ${took} ms\n`);
    await eventually('Ready is True', async () => (await condition(kc, 'Ready'))?.status === 'True', 20_000);
    await kubectlOk(kc, ['delete', 'crd', 'upmeterremotewrites.deckhouse.io', '--wait=true']);
    await eventually('UpmeterReady says CRDNotInstalled', async () => (await condition(kc, 'UpmeterReady'))?.reason === 'CRDNotInstalled', 10_000);
    expect(await condition(kc, 'LogShippingReady')).toMatchObject({ status: 'True' });
    expect(await condition(kc, 'MadisonProxyReady')).toMatchObject({ status: 'True' });
    expect(await column('UPMETER')).toBe('CRDNotInstalled');
    await kubectlOk(kc, ['apply', '--server-side', '-f', fixture('upmeterremotewrites.deckhouse.io')]);
    await eventually('the remote write is back', async () => (await read(paths.remoteWrite)) !== undefined, 5000, 50);
    await eventually('UpmeterReady is True again', async () => (await condition(kc, 'UpmeterReady'))?.status === 'True', 10_000);
    expect(ctl.messages('component failed')).toEqual([]);
  });
});
