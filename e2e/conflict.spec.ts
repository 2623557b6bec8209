/**
 * Adopt nothing, on the real control plane: a Service and a Secret that someone else made
 * with the names the controller would use survive enabling, disabling and deleting the
 * FlantIntegration unchanged, while the components' conditions say Conflict, naming them;
 * the component's other objects are applied all the same.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import { apply, condition, flantIntegration, removeFlantIntegrationAndNamespace, secret, workloadsNamespace } from './support/cluster.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const kc = inject('kubeconfig');
const licence = 'LICENCE-conflict-e2e-61c2';
const ns = 'conflict-e2e';
const host = 'madison.conflict.test';
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
let ctl: ControllerProcess;

const foreign = [
  {
    kind: 'service',
    name: 'madison-proxy',
    manifest: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'madison-proxy', namespace: ns, labels: { team: 'someone-else' } },
      spec: { selector: { app: 'theirs' }, ports: [{ port: 9999 }] },
    },
  },
  {
    kind: 'secret',
    name: 'pricing-agent-config',
    manifest: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pricing-agent-config', namespace: ns }, stringData: { mine: 'do not touch' } },
  },
];

function spec(enabled: boolean): string {
  return flantIntegration({
    namespace: ns,
    licenseKeySecretRef: { namespace: ns, name: 'license', key: 'key' },
    connect: { url: connect.url },
    madison: { enabled, backendsHost: host },
    metrics: { enabled },
    logs: { enabled: false },
    upmeter: { enabled: false },
  });
}

/** Each foreign object as stored: its resourceVersion and spec or data. */
async function foreignState(): Promise<string[]> {
  return Promise.all(
    foreign.map((f) => kubectlOk(kc, ['get', f.kind, '-n', ns, f.name, '-o', 'jsonpath={.metadata.resourceVersion} {.spec.ports} {.data}'])),
  );
}

beforeAll(async () => {
  await installCRD(kc);
  await connect.start();
  await dns.start();
  dns.setA(host, ['192.0.2.60']);
  await workloadsNamespace(kc, ns);
  await apply(kc, secret(ns, 'license', { key: licence }));
  for (const f of foreign) await apply(kc, JSON.stringify(f.manifest));
  ctl = startController(['--sync-period=10m', `--dns-server=${dns.address}`, '--image=flant-integration-controller:e2e']);
});

afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await removeFlantIntegrationAndNamespace(kc, ns);
  await connect.stop();
  await dns.stop();
});

describe('objects that are not ours', () => {
  it('are left untouched through enable, disable and deletion, while the conditions say Conflict', async () => {
    const before = await foreignState();
    await apply(kc, spec(true));
    await eventually('MadisonProxyReady says Conflict', async () => (await condition(kc, 'MadisonProxyReady'))?.reason === 'Conflict', 60_000);
    expect((await condition(kc, 'MadisonProxyReady'))?.message).toContain(`Service ${ns}/madison-proxy exists and was not made by this controller`);
    await eventually('MetricsShippingReady says Conflict', async () => (await condition(kc, 'MetricsShippingReady'))?.reason === 'Conflict', 30_000);
    expect((await condition(kc, 'MetricsShippingReady'))?.message).toContain(
      `Secret ${ns}/pricing-agent-config exists and was not made by this controller`,
    );
    // The rest of each component is applied all the same.
    await eventually(
      'the proxy Deployment exists',
      async () => (await kubectl(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'name'])).stdout.includes('madison-proxy-'),
      30_000,
    );
    expect(await foreignState()).toEqual(before);

    await apply(kc, spec(false));
    await eventually(
      'both are Disabled',
      async () =>
        (await condition(kc, 'MadisonProxyReady'))?.reason === 'Disabled' && (await condition(kc, 'MetricsShippingReady'))?.reason === 'Disabled',
      30_000,
    );
    expect(await foreignState()).toEqual(before);

    await apply(kc, spec(true));
    await eventually('Conflict again', async () => (await condition(kc, 'MetricsShippingReady'))?.reason === 'Conflict', 30_000);
    await kubectlOk(kc, ['delete', 'flantintegration', 'default', '--timeout=60s']);
    expect(await foreignState()).toEqual(before);
    expect(ctl.lines.join('\n')).not.toContain(licence);
  });

  it('does not take a Secret with our labels copied onto it for the Madison key it stored: unused, untouched, Conflict', async () => {
    const labels = { 'app.kubernetes.io/managed-by': 'flant-integration', 'integration.flant.com/component': 'madison' };
    await apply(
      kc,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'madison-proxy', namespace: ns, labels },
        stringData: { 'auth-key': 'FORGED-KEY-e2e' },
      }),
    );
    const state = () =>
      kubectlOk(kc, ['get', 'secret', '-n', ns, 'madison-proxy', '-o', 'jsonpath={.metadata.resourceVersion} {.data} {.metadata.ownerReferences}']);
    const before = await state();
    await apply(kc, spec(true));
    const keyConflict = async () => {
      const c = await condition(kc, 'MadisonRegistered');
      return c?.reason === 'Conflict' && c.message.includes(`Secret ${ns}/madison-proxy exists`);
    };
    await eventually('MadisonRegistered says Conflict, naming the Secret', keyConflict, 60_000).catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(await condition(kc, 'MadisonRegistered'))}; log: ${ctl.lines.slice(-15).join('\n')}`);
    });
    expect((await condition(kc, 'MadisonRegistered'))?.message).toContain(`Secret ${ns}/madison-proxy exists and was not made by this controller`);
    expect(ctl.messages('the stored Madison key Secret has neither our owner reference nor our signature: not used').length).toBeGreaterThan(0);
    expect(await state()).toBe(before);
    expect(await kubectl(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'name']).then((r) => r.stdout.trim())).toBe('');
    await kubectlOk(kc, ['delete', 'flantintegration', 'default', '--timeout=60s']);
    expect(await state()).toBe(before);
  });
});
