/**
 * Faults on the real control plane, with the stand-ins misbehaving: Connect answering too
 * slowly, with garbage, with an oversized body; DNS answering SERVFAIL; the controller killed
 * with SIGKILL right after it stored its key, then restarted. Each ends converged, with
 * nothing that is not ours deleted and no secret in logs, Events or status.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import {
  apply,
  condition,
  flantIntegration,
  getFlantIntegration,
  removeFlantIntegrationAndNamespace,
  secret,
  workloadsNamespace,
} from './support/cluster.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const kc = inject('kubeconfig');
const licence = 'LICENCE-faults-e2e-0b7d';
const ns = 'faults-e2e';
const host = 'madison.faults.test';
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
const controllers: ControllerProcess[] = [];

function controller(): ControllerProcess {
  const c = startController([
    '--sync-period=10m',
    `--dns-server=${dns.address}`,
    '--madison-discovery-interval=2s',
    '--image=flant-integration-controller:e2e',
  ]);
  controllers.push(c);
  return c;
}

const spec = () =>
  flantIntegration({
    namespace: ns,
    licenseKeySecretRef: { namespace: ns, name: 'license', key: 'key' },
    connect: { url: connect.url },
    madison: { backendsHost: host },
    metrics: { enabled: false },
    logs: { enabled: false },
    upmeter: { enabled: false },
  });

const registered = async () => (await condition(kc, 'MadisonRegistered'))?.status === 'True';
const proxiesReady = async () => (await condition(kc, 'MadisonProxyReady'))?.status === 'True';

/** No licence and no issued key in any log line, Event or the status. */
async function expectNoSecrets(): Promise<void> {
  const events = await kubectlOk(kc, ['get', 'events.events.k8s.io', '-A', '-o', 'json']);
  const status = JSON.stringify((await getFlantIntegration(kc))?.status ?? {});
  const logs = controllers.flatMap((c) => c.lines).join('\n');
  for (const value of [licence, ...connect.issued]) {
    expect(logs).not.toContain(value);
    expect(events).not.toContain(value);
    expect(status).not.toContain(value);
  }
}

beforeAll(async () => {
  await installCRD(kc);
  await connect.start();
  await dns.start();
  dns.setA(host, ['192.0.2.70', '192.0.2.71']);
  await workloadsNamespace(kc, ns);
  await apply(kc, secret(ns, 'license', { key: licence }));
  await apply(kc, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-ours', namespace: ns }, data: { a: 'b' } }));
});

// A fault case that fails says what the controller was doing: its last log lines and the conditions.
afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return;
  const stored = await Promise.all(['MadisonRegistered', 'MadisonProxyReady'].map(async (type) => JSON.stringify(await condition(kc, type))));
  process.stderr.write(
    `faults: ${task.name} failed; conditions ${stored.join(' ')}; the controller's last ` +
      `lines:\n${controllers.flatMap((c) => c.lines.slice(-40)).join('\n')}\n`,
  );
});

afterAll(async () => {
  await Promise.all(controllers.map((c) => c.stop('SIGKILL')));
  await removeFlantIntegrationAndNamespace(kc, ns);
  await connect.stop();
  await dns.stop();
});

describe('faults', () => {
  it.each<[string, 'slow' | 'garbage' | 'huge', string]>([
    ['answers too slowly', 'slow', 'no answer within 10 s'],
    ['answers garbage', 'garbage', '200 OK: the answer has no auth_key string'],
    ['answers an oversized body', 'huge', 'over the 1048576-byte limit'],
  ])(
    'Connect %s: RegistrationFailed saying so, then recovery',
    async (_name, mode, message) => {
      if (controllers.length === 0) controller();
      connect.misbehave(mode);
      await kubectl(kc, ['delete', 'secret', '-n', ns, 'madison-proxy', '--ignore-not-found']);
      await apply(kc, spec());
      await eventually(
        `MadisonRegistered says ${message}`,
        async () => (await condition(kc, 'MadisonRegistered'))?.message.includes(message) ?? false,
        60_000,
      );
      expect(await condition(kc, 'MadisonRegistered')).toMatchObject({ status: 'False', reason: 'RegistrationFailed' });
      connect.recover();
      await eventually('registered again', registered, 90_000);
      await eventually('the proxies are Available', proxiesReady, 60_000);
      await expectNoSecrets();
    },
    240_000,
  );

  it('Connect answers a 40 KB error: the condition carries a capped message, the status is written, and it recovers', async () => {
    if (controllers.length === 0) controller();
    connect.failRegistration(503, `upstream failure ${'x'.repeat(40 * 1024)}`);
    await kubectl(kc, ['delete', 'secret', '-n', ns, 'madison-proxy', '--ignore-not-found']);
    await apply(kc, spec());
    await eventually(
      'MadisonRegistered says RegistrationFailed',
      async () => (await condition(kc, 'MadisonRegistered'))?.reason === 'RegistrationFailed',
      60_000,
    );
    const stored = await condition(kc, 'MadisonRegistered');
    expect(stored?.message).toContain('upstream failure xxx');
    expect(Buffer.byteLength(stored?.message ?? '')).toBeLessThanOrEqual(2048);
    expect(stored?.message.endsWith('… (cut)')).toBe(true);
    connect.recover();
    await eventually('registered again', registered, 90_000);
    await expectNoSecrets();
  }, 240_000);

  it('DNS SERVFAIL keeps the proxies and says DiscoveryFailed, then recovers', async () => {
    const before = await kubectlOk(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'jsonpath={.items[*].metadata.uid}']);
    dns.setServFail(host, true);
    await eventually(
      'MadisonProxyReady says DiscoveryFailed',
      async () => (await condition(kc, 'MadisonProxyReady'))?.reason === 'DiscoveryFailed',
      30_000,
    );
    expect((await condition(kc, 'MadisonProxyReady'))?.message).toContain(`cannot resolve ${host}`);
    expect(await kubectlOk(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'jsonpath={.items[*].metadata.uid}'])).toBe(before);
    dns.setServFail(host, false);
    await eventually('MadisonProxyReady is True again', proxiesReady, 30_000);
  });

  it('a controller killed right after storing its key converges after a restart, with no second registration', async () => {
    await Promise.all(controllers.map((c) => c.stop('SIGTERM')));
    await kubectlOk(kc, ['delete', 'flantintegration', 'default', '--wait=false']);
    await kubectl(kc, ['patch', 'flantintegration', 'default', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await kubectl(kc, ['delete', 'secret', '-n', ns, 'madison-proxy', '--ignore-not-found']);
    await eventually('the FlantIntegration is gone', async () => (await getFlantIntegration(kc)) === undefined, 30_000);
    const registrations = connect.requests('/v1/madison_register').length;
    const first = controller();
    await apply(kc, spec());
    await eventually('the key is stored', async () => (await kubectl(kc, ['get', 'secret', '-n', ns, 'madison-proxy'])).code === 0, 30_000, 20);
    await first.stop('SIGKILL');
    expect(connect.requests('/v1/madison_register')).toHaveLength(registrations + 1);
    controller();
    await eventually('the proxies are Available', proxiesReady, 60_000);
    expect(await registered()).toBe(true);
    expect(connect.requests('/v1/madison_register')).toHaveLength(registrations + 1);
    expect(await kubectlOk(kc, ['get', 'configmap', '-n', ns, 'not-ours', '-o', 'name'])).toContain('not-ours');
    await expectNoSecrets();
  });
});
