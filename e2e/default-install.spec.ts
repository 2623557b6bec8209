/**
 * The default install on a cluster without Deckhouse, on a control plane of its own: no
 * `d8-system`, no Deckhouse CRDs, the install's RBAC without its Deckhouse Roles (the chart's
 * `deckhouse.enabled: false`, its default). The controller must become ready, reconcile to
 * `Ready=True`, and never list Secrets where it has no Role; a `spec.namespace` it has no
 * Role in is a condition naming it, never a hang.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { controllerName, controllerNamespace, workloadsNamespace } from '../cdk8s/install.js';
import { ControlPlane } from './controlplane/controlplane.js';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import { parseAudit, usesOf } from './support/audit.js';
import { apply, condition, flantIntegration, namespace, secret } from './support/cluster.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { controllerKubeconfig, grantWorkloadsNamespace } from './support/credentials.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const licence = 'LICENCE-default-install-e2e-41c7';
const host = 'madison.default-install.test';
const local = inject('localControlPlane');
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
let plane: ControlPlane | undefined;
let kc: string;
let ckc: string;
let ctl: ControllerProcess | undefined;
let auditLog: string;

/** What a person writes on a plain cluster: a licence Secret, and the components Deckhouse's CRDs bring switched off. */
function spec(extra: Record<string, unknown> = {}): string {
  return flantIntegration({
    licenseKeySecretRef: { namespace: workloadsNamespace, name: 'flant-license', key: 'key' },
    connect: { url: connect.url },
    madison: { backendsHost: host },
    logs: { enabled: false },
    upmeter: { enabled: false },
    ...extra,
  });
}

/** The controller's requests so far, from this control plane's audit log. */
async function controllerUses() {
  return usesOf(parseAudit(await readFile(auditLog, 'utf8')), `system:serviceaccount:${controllerNamespace}:${controllerName}`);
}

/** The probe port the controller logged. */
function probePort(c: ControllerProcess): number | undefined {
  const line = c.messages('serving probes and metrics')[0];
  return line ? (JSON.parse(line) as { probePort?: number }).probePort : undefined;
}

beforeAll(async () => {
  if (!local) return;
  auditLog = join(inject('auditDir'), 'default-install.log');
  plane = await ControlPlane.start({ nodes: 2, auditLogPath: auditLog });
  kc = plane.kubeconfigPath;
  await installCRD(kc);
  ckc = await controllerKubeconfig(kc, join(plane.dir, 'controller.kubeconfig'), false);
  await connect.start();
  await dns.start();
  dns.setA(host, ['192.0.2.61']);
  await apply(kc, secret(workloadsNamespace, 'flant-license', { key: licence }));
});

// A case that fails says what the controller saw: the stored status and its last log lines.
afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail' || !kc) return;
  const status = await kubectl(kc, ['get', 'flantintegration', 'default', '-o', 'jsonpath={.status}']);
  process.stderr.write(`default-install: ${task.name} failed; status ${status.stdout}\n${ctl?.lines.slice(-20).join('\n') ?? ''}\n`);
});

afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await connect.stop();
  await dns.stop();
  await plane?.stop();
});

describe.skipIf(!local)('the default install on a cluster without Deckhouse', () => {
  it('becomes ready and reaches Ready=True, and never lists Secrets where it has no Role (d8-system)', async () => {
    expect((await kubectl(kc, ['get', 'namespace', 'd8-system'])).code, 'no d8-system here').not.toBe(0);
    ctl = startController(
      ['--sync-period=10m', `--dns-server=${dns.address}`, '--image=flant-integration-controller:e2e', '--madison-discovery-interval=2s'],
      ckc,
    );
    const c = ctl;
    await eventually('the controller says where its probes are', () => probePort(c) !== undefined, 30_000);
    await eventually(
      '/readyz answers 200',
      async () => (await fetch(`http://127.0.0.1:${probePort(c)}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
    );
    await apply(kc, spec());
    await eventually('Ready is True', async () => (await condition(kc, 'Ready'))?.status === 'True', 90_000, 200);
    expect(await condition(kc, 'LicenseValid')).toMatchObject({ status: 'True', reason: 'LicenseFound' });
    expect(await condition(kc, 'MadisonProxyReady')).toMatchObject({ status: 'True' });
    expect(await condition(kc, 'MetricsShippingReady')).toMatchObject({ status: 'True' });

    const uses = await controllerUses();
    const refused = uses.filter((u) => u.code === 403).map((u) => `${u.verb} ${u.resource} in ${u.namespace}`);
    expect(
      uses.filter((u) => u.resource === 'secrets' && u.namespace === 'd8-system'),
      'no request for Secrets in d8-system',
    ).toEqual([]);
    expect(
      uses.some((u) => u.resource === 'selfsubjectaccessreviews' && u.code === 201),
      'it asked first',
    ).toBe(true);
    // Only the prune of the alert relabel Secret in d8-monitoring (absent here) may be refused: it writes nothing there.
    expect(refused.filter((r) => !r.endsWith('secrets in d8-monitoring'))).toEqual([]);
  });

  it('says NamespaceForbidden naming a spec.namespace it has no Role in (it does not even exist), and goes on once the Role is granted', async () => {
    const other = 'team-without-role-e2e';
    await apply(kc, spec({ namespace: other, licenseKeySecretRef: { namespace: other, name: 'flant-license', key: 'key' } }));
    await eventually(
      'MadisonRegistered says NamespaceForbidden',
      async () => (await condition(kc, 'MadisonRegistered'))?.reason === 'NamespaceForbidden',
      30_000,
      200,
    );
    expect(await condition(kc, 'MadisonRegistered')).toMatchObject({
      status: 'False',
      message: expect.stringContaining(`spec.namespace ${other}: the controller's RBAC does not let it list Secrets in namespace ${other}`),
    });
    expect(await condition(kc, 'LicenseValid')).toMatchObject({ status: 'False', reason: 'NamespaceForbidden' });
    expect(await condition(kc, 'Ready')).toMatchObject({ status: 'False', message: expect.stringContaining(`namespace ${other}`) });
    expect((await kubectl(kc, ['get', 'namespace', other])).code, 'nothing was created').not.toBe(0);
    const events = await kubectlOk(kc, ['get', 'events', '-n', 'default', '--field-selector', 'reason=NamespaceForbidden', '-o', 'name']);
    expect(events.trim(), 'an Event says it').not.toBe('');

    // The operator creates the namespace, grants the Role and puts the licence there; any change of the FlantIntegration asks again at once.
    await apply(kc, namespace(other));
    await grantWorkloadsNamespace(kc, other);
    await apply(kc, secret(other, 'flant-license', { key: licence }));
    await kubectlOk(kc, ['annotate', 'flantintegration', 'default', '--overwrite', 'e2e/poke=1']);
    await eventually('Ready is True in the new namespace', async () => (await condition(kc, 'Ready'))?.status === 'True', 90_000, 200);
    expect(await kubectlOk(kc, ['get', 'deployments', '-n', other, '-l', 'integration.flant.com/component=madison', '-o', 'name'])).toContain(
      'deployment.apps/madison-proxy-',
    );
    expect((await kubectlOk(kc, ['get', 'deployments', '-n', workloadsNamespace, '-o', 'name'])).trim(), 'the old namespace is emptied').toBe('');
  });
});
