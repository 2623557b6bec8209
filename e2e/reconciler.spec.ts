/**
 * The reconciler library and the FlantIntegration spine against a real control plane of
 * their own (this file kills kube-apiserver): licence conditions, zero writes at rest,
 * recovery from an API server restart, leader election, graceful shutdown, no secret leaks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ControlPlane } from './controlplane/controlplane.js';
import { apply, condition, flantIntegration, getFlantIntegration, namespace, resetCluster, secret } from './support/cluster.js';
import { join } from 'node:path';
import { controllerNamespace, readSecretVerbs, secretsRoleObjects } from '../cdk8s/install.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { applyObjects, controllerKubeconfig, untilAllowed } from './support/credentials.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const licence = 'LICENCE-e2e-7f3a9c1d';
const licenceRef = { namespace: 'd8-flant-integration', name: 'flant-license', key: 'license-key' };
/** The Lease goes to the controller's own namespace ($POD_NAMESPACE), where the install's Role allows it. */
const leaseArgs = ['--leader-elect'];

/** On the local harness this file gets a control plane of its own, which it may restart; on kind it shares the cluster. */
const local = inject('localControlPlane');
let plane: ControlPlane | undefined;
let kc: string;
/** The controller's ServiceAccount on this file's control plane. */
let ckc: string;
const running: ControllerProcess[] = [];

/** A FlantIntegration with every component off: these specs are about the spine, and must not reach for the internet. */
function fi(spec: Record<string, unknown>): string {
  return flantIntegration({
    ...spec,
    madison: { enabled: false },
    metrics: { enabled: false },
    logs: { enabled: false },
    upmeter: { enabled: false },
  });
}

function controller(args: string[] = []): ControllerProcess {
  const p = startController(args, ckc);
  running.push(p);
  return p;
}

async function leaseHolder(): Promise<string> {
  const r = await kubectl(kc, ['get', 'lease', '-n', controllerNamespace, 'flant-integration-leader', '-o', 'jsonpath={.spec.holderIdentity}']);
  return r.code === 0 ? r.stdout : '<none>';
}

beforeAll(async () => {
  plane = local ? await ControlPlane.start({ nodes: 1, auditLogPath: join(inject('auditDir'), 'reconciler.log') }) : undefined;
  kc = plane?.kubeconfigPath ?? inject('kubeconfig');
  ckc = plane ? await controllerKubeconfig(kc, join(plane.dir, 'controller.kubeconfig')) : inject('controllerKubeconfig');
  await installCRD(kc);
  await apply(kc, namespace('d8-flant-integration'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await resetCluster(kc, false);
  await kubectl(kc, ['patch', 'flantintegration', 'default', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  await kubectl(kc, ['delete', 'secret', '-n', licenceRef.namespace, licenceRef.name, '--ignore-not-found']);
  await kubectl(kc, ['delete', 'lease', '-n', controllerNamespace, 'flant-integration-leader', '--ignore-not-found']);
});

afterAll(async () => {
  await plane?.stop();
});

describe('FlantIntegration reconciler', () => {
  it('names the missing license Secret, turns True within 2 s of its creation, and then writes nothing at rest', async () => {
    const ctl = controller(['--sync-period=2s', '--log-level=debug']);
    await apply(kc, fi({ licenseKeySecretRef: licenceRef }));
    await eventually('LicenseValid is False', async () => (await condition(kc, 'LicenseValid'))?.status === 'False');
    expect(await condition(kc, 'LicenseValid')).toMatchObject({
      reason: 'SecretNotFound',
      message: expect.stringContaining('Secret d8-flant-integration/flant-license not found'),
    });
    expect(await condition(kc, 'Ready')).toMatchObject({ status: 'False', reason: 'LicenseMissing' });

    await apply(kc, secret(licenceRef.namespace, licenceRef.name, { [licenceRef.key]: licence }));
    await eventually('LicenseValid turns True', async () => (await condition(kc, 'LicenseValid'))?.status === 'True', 2000, 50);
    expect(await condition(kc, 'Ready')).toMatchObject({ status: 'True' });

    const before = await getFlantIntegration(kc);
    const reconcilesBefore = ctl.messages('reconciled').length;
    await new Promise((r) => setTimeout(r, 7000));
    const after = await getFlantIntegration(kc);
    expect(ctl.messages('reconciled').length - reconcilesBefore).toBeGreaterThanOrEqual(3);
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);

    const ports = JSON.parse(ctl.messages('serving probes and metrics')[0] ?? '{}') as { probePort: number; metricsPort: number };
    expect((await fetch(`http://127.0.0.1:${ports.probePort}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.probePort}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${ports.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^controller_runtime_reconcile_total\{controller="flantintegration",result="success"\} [1-9]/m);
    for (const name of [
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds_bucket',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).not.toContain(licence);

    expect(await ctl.stop('SIGTERM')).toBe(0);
    const events = await kubectlOk(kc, ['get', 'events', '-A', '-o', 'json']);
    expect(events).toContain('LicenseValid');
    expect(ctl.lines.join('\n')).not.toContain(licence);
    expect(events).not.toContain(licence);
    expect(JSON.stringify(after)).not.toContain(licence);
  });

  it.skipIf(!local)('recovers from a kube-apiserver restart without restarting and converges on a later change', async () => {
    if (!plane) throw new Error('needs the local control plane');
    await apply(kc, secret(licenceRef.namespace, licenceRef.name, { [licenceRef.key]: licence }));
    const ctl = controller();
    await apply(kc, fi({ licenseKeySecretRef: licenceRef }));
    await eventually('LicenseValid is True', async () => (await condition(kc, 'LicenseValid'))?.status === 'True');

    await plane.killApiServer();
    await new Promise((r) => setTimeout(r, 3000));
    await plane.restartApiServer();
    await kubectlOk(kc, ['delete', 'secret', '-n', licenceRef.namespace, licenceRef.name]);

    await eventually(
      'LicenseValid turns False after the restart',
      async () => (await condition(kc, 'LicenseValid'))?.reason === 'SecretNotFound',
      60_000,
    );
    expect(await Promise.race([ctl.exited, Promise.resolve('running')])).toBe('running');
    expect(ctl.lines.some((l) => l.includes('list/watch failed, retrying'))).toBe(true);
  });

  it('lets exactly one of two controllers reconcile; the other takes over within 20 s when the leader is killed', async () => {
    const a = controller(leaseArgs);
    const b = controller(leaseArgs);
    await apply(kc, fi({}));
    await eventually('one controller leads', () => a.messages('became leader').length + b.messages('became leader').length > 0);
    await new Promise((r) => setTimeout(r, 3000));
    const [leader, follower] = a.messages('became leader').length > 0 ? [a, b] : [b, a];
    expect(follower.messages('became leader')).toEqual([]);

    await apply(kc, fi({ billing: { contacts: 3 } }));
    await eventually('the leader reconciles the change', () => leader.messages('status updated').length >= 2);
    expect(follower.messages('status updated')).toEqual([]);
    // The Events say who wrote them with the same identity as the lease holder.
    const holder = await leaseHolder();
    const uid = await kubectlOk(kc, ['get', 'fi', 'default', '-o', 'jsonpath={.metadata.uid}']);
    const events = JSON.parse(await kubectlOk(kc, ['get', 'events.events.k8s.io', '-n', 'default', '-o', 'json'])) as {
      items: Array<{ reportingInstance: string; regarding: { uid: string } }>;
    };
    const instances = events.items.filter((e) => e.regarding.uid === uid).map((e) => e.reportingInstance);
    expect(instances.length).toBeGreaterThan(0);
    expect(new Set(instances)).toEqual(new Set([holder]));

    await leader.stop('SIGKILL');
    const took = await eventually('the follower takes over', () => follower.messages('became leader').length > 0, 20_000);
    process.stderr.write(`e2e: the follower took over ${(took / 1000).toFixed(1)} s after the leader was killed\n`);
  });

  it('never reads a license Secret outside the allowed namespaces, unless --secret-namespaces allows it', async () => {
    const stolen = 'STOLEN-kube-system-9e1f';
    await apply(kc, secret('kube-system', 'not-for-flant', { token: stolen }));
    const refused = controller(['--sync-period=2s']);
    await apply(kc, fi({ licenseKeySecretRef: { namespace: 'kube-system', name: 'not-for-flant', key: 'token' } }));
    await eventually(
      'LicenseValid says SecretNamespaceNotAllowed',
      async () => (await condition(kc, 'LicenseValid'))?.reason === 'SecretNamespaceNotAllowed',
    );
    expect((await condition(kc, 'LicenseValid'))?.message).toContain('--secret-namespaces=kube-system');
    const events = await kubectlOk(kc, ['get', 'events', '-A', '-o', 'json']);
    expect(events).not.toContain(stolen);
    expect(JSON.stringify(await getFlantIntegration(kc))).not.toContain(stolen);
    await refused.stop('SIGTERM');
    expect(refused.lines.join('\n')).not.toContain(stolen);

    // What the chart's secretNamespaces does: the flag, and a Role that lets the controller read there.
    await applyObjects(kc, secretsRoleObjects('kube-system', readSecretVerbs));
    await untilAllowed(kc, 'system:serviceaccount:flant-integration-system:flant-integration-controller', ['list', 'secrets', '-n', 'kube-system']);
    const allowed = controller(['--sync-period=2s', '--secret-namespaces=kube-system']);
    await eventually('LicenseValid is True with the namespace allowed', async () => (await condition(kc, 'LicenseValid'))?.status === 'True', 30_000);
    await allowed.stop('SIGTERM');
    expect(allowed.lines.join('\n')).not.toContain(stolen);
    await kubectl(kc, ['delete', 'secret', '-n', 'kube-system', 'not-for-flant']);
  });

  it('exits 0 on SIGTERM within 30 s and releases the lease', async () => {
    const ctl = controller(leaseArgs);
    await apply(kc, fi({}));
    await eventually('it leads', () => ctl.messages('became leader').length > 0);
    expect(await leaseHolder()).not.toBe('');
    const deadline = new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000).unref());
    expect(await Promise.race([ctl.stop('SIGTERM'), deadline])).toBe(0);
    expect(await leaseHolder()).toBe('');
  });
});
