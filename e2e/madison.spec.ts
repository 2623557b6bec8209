/**
 * Madison end to end on the real control plane (kwok makes the proxy Deployments
 * Available), with local Connect and DNS stand-ins: backends from DNS, one proxy per
 * backend, no second registration after a restart, pruning when DNS shrinks, Connect
 * failures and recovery, revocation, switching Madison off, and deleting the resource.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import { FakeEgressProxy } from './fakes/egress.js';
import {
  apply,
  condition,
  flantIntegration,
  getFlantIntegration,
  removeFlantIntegrationAndNamespace,
  secret,
  workloadsNamespace,
} from './support/cluster.js';
import { ControllerProcess, eventually, startController as startAsServiceAccount } from './support/controller.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const kc = inject('kubeconfig');
const licence = 'LICENCE-madison-e2e-91af';
const ns = 'madison-e2e';
const host = 'madison.e2e.test';
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
let ctl: ControllerProcess;

function startController(): ControllerProcess {
  return startAsServiceAccount([
    '--sync-period=5s',
    `--dns-server=${dns.address}`,
    '--madison-status-check-interval=2s',
    '--madison-discovery-interval=2s',
    '--image=flant-integration-controller:e2e',
  ]);
}

function spec(extra: Record<string, unknown> = {}, namespace = ns, top: Record<string, unknown> = {}): string {
  return flantIntegration({
    ...top,
    namespace,
    licenseKeySecretRef: { namespace, name: 'license', key: 'key' },
    connect: { url: connect.url },
    madison: { backendsHost: host, ...extra },
    metrics: { enabled: false },
    logs: { enabled: false },
    upmeter: { enabled: false },
  });
}

async function names(kind: string, namespaced = true): Promise<string[]> {
  const args = ['get', kind, '-l', 'integration.flant.com/component=madison', '-o', 'jsonpath={.items[*].metadata.name}'];
  const out = await kubectlOk(kc, namespaced ? ['-n', ns, ...args] : args);
  return out.split(' ').filter(Boolean).sort();
}

async function uid(kind: string, name: string): Promise<string> {
  return kubectlOk(kc, ['get', kind, '-n', ns, name, '-o', 'jsonpath={.metadata.uid}']);
}

beforeAll(async () => {
  await installCRD(kc);
  await kubectlOk(kc, ['apply', '--server-side', '-f', 'e2e/fixtures/crds/']);
  await kubectlOk(kc, ['wait', '--for=condition=Established', 'crd/customalertmanagers.deckhouse.io']);
  await connect.start();
  await dns.start();
  dns.setA(host, ['192.0.2.20', '192.0.2.3']);
  await workloadsNamespace(kc, ns);
  await apply(kc, secret(ns, 'license', { key: licence }));
  await apply(kc, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-ours', namespace: ns }, data: { a: 'b' } }));
  ctl = startController();
  await apply(kc, spec());
});

afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await removeFlantIntegrationAndNamespace(kc, ns);
  await connect.stop();
  await dns.stop();
});

describe('Madison', () => {
  it('runs one Available proxy per A record, with the Service, Secret and CustomAlertmanager', async () => {
    await eventually('MadisonProxyReady is True', async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True', 60_000);
    expect(await names('deployments')).toHaveLength(2);
    const byDeckhouseLabels = await kubectlOk(kc, [
      'get',
      'deploy',
      '-n',
      ns,
      '-l',
      'app=madison-proxy',
      '-o',
      'jsonpath={.items[*].metadata.labels.madison-backend}',
    ]);
    expect(byDeckhouseLabels.split(' ').sort()).toEqual(['192.0.2.20', '192.0.2.3']);
    expect(await names('services')).toEqual(['madison-proxy']);
    expect(await names('secrets')).toEqual(['madison-proxy']);
    expect(await names('customalertmanagers', false)).toEqual(['madison-proxy']);
    const fi = await getFlantIntegration(kc);
    expect((fi?.status as { madison?: unknown }).madison).toMatchObject({ backends: ['192.0.2.20', '192.0.2.3'], registered: true, revoked: false });
    expect(await condition(kc, 'MadisonRegistered')).toMatchObject({ status: 'True' });
    expect(connect.requests('/v1/madison_register')).toHaveLength(1);
    expect(connect.requests('/v1/madison_register')[0]?.authorization).toBe(`Bearer ${licence}`);
  });

  it('does not register again after a restart', async () => {
    await ctl.stop('SIGTERM');
    ctl = startController();
    await eventually('the new process reconciles', () => ctl.messages('caches synced').length > 0, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(connect.requests('/v1/madison_register')).toHaveLength(1);
    expect((await condition(kc, 'MadisonProxyReady'))?.status).toBe('True');
  });

  it('moves to a new spec.namespace: the stored key goes along (no second registration), nothing of ours stays in the former one', async () => {
    const moved = 'madison-moved-e2e';
    const key = await kubectlOk(kc, ['get', 'secret', '-n', ns, 'madison-proxy', '-o', 'jsonpath={.data.auth-key}']);
    const registrations = connect.requests('/v1/madison_register').length;
    await workloadsNamespace(kc, moved);
    await apply(kc, secret(moved, 'license', { key: licence }));
    await apply(kc, spec({}, moved));
    const inNamespace = async (namespace: string) =>
      (await kubectlOk(kc, ['get', 'deployments,services,secrets', '-n', namespace, '-l', 'integration.flant.com/component=madison', '-o', 'name']))
        .split('\n')
        .filter(Boolean);
    await eventually('nothing of ours is left in the former namespace', async () => (await inNamespace(ns)).length === 0, 30_000);
    await eventually(
      'MadisonProxyReady is True in the new one',
      async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True' && (await inNamespace(moved)).length > 0,
      60_000,
    );
    expect(await kubectlOk(kc, ['get', 'secret', '-n', moved, 'madison-proxy', '-o', 'jsonpath={.data.auth-key}'])).toBe(key);
    expect(connect.requests('/v1/madison_register').length, 'no second registration').toBe(registrations);
    expect((await getFlantIntegration(kc))?.status).toMatchObject({ namespace: moved });
    expect(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'license', '-o', 'name']), 'the license Secret is not ours').toContain('license');

    await apply(kc, spec());
    await eventually('back: nothing of ours in the other namespace', async () => (await inNamespace(moved)).length === 0, 30_000);
    await eventually(
      'MadisonProxyReady is True again',
      async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True' && (await inNamespace(ns)).length > 0,
      60_000,
    );
    expect(connect.requests('/v1/madison_register').length).toBe(registrations);
    await kubectlOk(kc, ['delete', 'namespace', moved, '--wait=false']);
  });

  it('asks Connect through an egress proxy with credentials from a Secret, and writes them into no Deployment', async () => {
    const egress = new FakeEgressProxy();
    const egressURL = await egress.start();
    const password = 'p@ss:w0rd-e2e-4f1d';
    try {
      await apply(kc, secret(ns, 'egress-credentials', { username: 'alice', password }));
      await apply(kc, spec({}, ns, { proxy: { httpsProxy: egressURL, credentialsSecretRef: { namespace: ns, name: 'egress-credentials' } } }));
      // The key state check (every 2 s here) is the controller's Connect call that follows.
      await eventually(
        'Connect is asked through the egress proxy',
        () => egress.forwarded.some((u) => u.startsWith(`${connect.url}/v1/madison_`)),
        30_000,
      );
      expect(egress.authorizations).toContain(`Basic ${Buffer.from(`alice:${password}`).toString('base64')}`);
      await eventually('the proxies are Available', async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True', 60_000);
      await eventually(
        'the proxies take the egress proxy',
        async () =>
          (await kubectlOk(kc, ['get', 'deployments', '-n', ns, '-l', 'app=madison-proxy', '-o', 'json'])).includes('EGRESS_PROXY_USERINFO'),
        30_000,
      );
      const deployments = await kubectlOk(kc, ['get', 'deployments', '-n', ns, '-l', 'app=madison-proxy', '-o', 'json']);
      expect(deployments).toContain(`http://$(EGRESS_PROXY_USERINFO)@${egressURL.replace('http://', '')}`);
      expect(deployments).not.toContain(password);
      expect(deployments).not.toContain(encodeURIComponent(password));
      const stored = await kubectlOk(kc, ['get', 'secret', '-n', ns, 'madison-proxy-egress', '-o', 'jsonpath={.data.userinfo}']);
      expect(Buffer.from(stored, 'base64').toString()).toBe(`alice:${encodeURIComponent(password)}`);
      const status = JSON.stringify((await getFlantIntegration(kc))?.status);
      const events = await kubectlOk(kc, ['get', 'events.events.k8s.io', '-A', '-o', 'json']);
      for (const where of [status, events, ctl.lines.join('\n')]) expect(where).not.toContain(password);
    } finally {
      await apply(kc, spec());
      await egress.stop();
    }
    await eventually(
      'the egress Secret goes with the proxy settings',
      async () => (await kubectl(kc, ['get', 'secret', '-n', ns, 'madison-proxy-egress'])).code !== 0,
      30_000,
    );
    await eventually('the proxies are Available without it', async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True', 60_000);
  });

  it('prunes exactly the proxy of a vanished backend', async () => {
    const before = await names('deployments');
    const keptUIDs = await Promise.all(before.map((n) => uid('deployment', n)));
    dns.setA(host, ['192.0.2.3']);
    await eventually('one proxy is left', async () => (await names('deployments')).length === 1, 30_000);
    const [left] = await names('deployments');
    expect(before).toContain(left);
    expect(keptUIDs).toContain(await uid('deployment', left ?? ''));
    await eventually(
      'status lists one backend',
      async () => JSON.stringify((await getFlantIntegration(kc))?.status).includes('"backends":["192.0.2.3"]'),
      30_000,
    );
  });

  it('keeps the proxies when DNS fails, and says so', async () => {
    const before = await names('deployments');
    dns.setA(host, undefined);
    await eventually(
      'MadisonProxyReady says DiscoveryFailed',
      async () => (await condition(kc, 'MadisonProxyReady'))?.reason === 'DiscoveryFailed',
      30_000,
    );
    expect((await condition(kc, 'MadisonProxyReady'))?.message).toContain(`cannot resolve ${host}`);
    expect(await names('deployments')).toEqual(before);
    dns.setA(host, ['192.0.2.3']);
    await eventually('MadisonProxyReady is True again', async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True', 30_000);
  });

  it('reports a failing Connect as "500 Internal Server Error: <error>", retries, and recovers', async () => {
    connect.failRegistration(500, 'registry is on fire');
    await kubectlOk(kc, ['delete', 'secret', '-n', ns, 'madison-proxy']);
    await eventually('MadisonRegistered is False', async () => (await condition(kc, 'MadisonRegistered'))?.status === 'False', 30_000);
    expect(await condition(kc, 'MadisonRegistered')).toMatchObject({
      reason: 'RegistrationFailed',
      message: '500 Internal Server Error: registry is on fire',
    });
    const tries = connect.requests('/v1/madison_register').length;
    await eventually('it retries', () => connect.requests('/v1/madison_register').length > tries + 1, 30_000);
    connect.recover();
    await eventually('MadisonRegistered is True again', async () => (await condition(kc, 'MadisonRegistered'))?.status === 'True', 60_000);
    await eventually('the proxy is Available again', async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True', 60_000);
  });

  it('stops shipping when Connect says the setup is archived, keeping the key', async () => {
    connect.revoke(connect.issued.at(-1) ?? '');
    await eventually('MadisonRegistered is Revoked', async () => (await condition(kc, 'MadisonRegistered'))?.reason === 'Revoked', 30_000);
    await eventually('the proxies are gone', async () => (await names('deployments')).length === 0, 30_000);
    expect(await names('secrets')).toEqual(['madison-proxy']);
    expect(JSON.stringify((await getFlantIntegration(kc))?.status)).toContain('"revoked":true');
  });

  it('removes every Madison object and nothing else when switched off', async () => {
    await apply(kc, spec({ enabled: false }));
    await eventually(
      'no Madison object is left',
      async () => (await names('secrets')).length + (await names('services')).length + (await names('customalertmanagers', false)).length === 0,
      30_000,
    );
    expect(await condition(kc, 'MadisonProxyReady')).toMatchObject({ status: 'True', reason: 'Disabled' });
    expect(await kubectlOk(kc, ['get', 'configmap', '-n', ns, 'not-ours', '-o', 'name'])).toContain('not-ours');
    expect(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'license', '-o', 'name'])).toContain('license');
  });

  it('removes every Madison object and nothing else with the FlantIntegration, but for the stored key, which a reinstall reuses', async () => {
    await kubectlOk(kc, ['delete', 'secret', '-n', ns, 'madison-proxy', '--ignore-not-found']);
    await apply(kc, spec());
    await eventually('Madison is back', async () => (await names('deployments')).length === 1, 60_000);
    await kubectlOk(kc, ['delete', 'flantintegration', 'default', '--timeout=60s']);
    expect(await names('deployments')).toEqual([]);
    expect(await names('services')).toEqual([]);
    expect(await names('customalertmanagers', false)).toEqual([]);
    expect(await kubectlOk(kc, ['get', 'secrets', '-n', 'd8-monitoring', '-l', 'integration.flant.com/component=madison', '-o', 'name'])).toBe('');
    expect(await kubectlOk(kc, ['get', 'configmap', '-n', ns, 'not-ours', '-o', 'name'])).toContain('not-ours');
    // The key stays, released: no owner left for the garbage collector to follow.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'madison-proxy', '-o', 'jsonpath={.metadata.ownerReferences}'])).toBe('');
    const registrations = connect.requests('/v1/madison_register').length;
    await apply(kc, spec());
    await eventually('MadisonProxyReady is True again', async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True', 60_000);
    expect(connect.requests('/v1/madison_register').length, 'no second registration').toBe(registrations);
    const fiUID = await kubectlOk(kc, ['get', 'fi', 'default', '-o', 'jsonpath={.metadata.uid}']);
    expect(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'madison-proxy', '-o', 'jsonpath={.metadata.ownerReferences[0].uid}'])).toBe(fiUID);
    await kubectlOk(kc, ['delete', 'flantintegration', 'default', '--timeout=60s']);
    expect(ctl.lines.join('\n')).not.toContain(licence);
    for (const key of connect.issued) expect(ctl.lines.join('\n')).not.toContain(key);
  });
});
