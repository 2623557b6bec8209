/**
 * What GitOps tools make of the FlantIntegration the controller really stores: the kstatus
 * library (Flux's health checks, kpt), built from the Go module proxy, and Argo CD's health
 * check (config/argocd/flantintegration-health.lua) run by Lua 5.1. Each state is reached on the
 * real control plane: Current when ready, InProgress while converging, Failed for each error that
 * needs a person (licence Secret missing, Secret namespace not allowed, CRD missing, a spec the
 * controller cannot use), and Current again after each fix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { flantIntegrationCRD } from '../src/api/index.js';
import { argoHealthOf, ensureKstatus, ensureLua, kstatusOf, type Health } from './kstatus/build.js';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import { apply, fakesSpec, condition, removeFlantIntegrationAndNamespace, secret, workloadsNamespace } from './support/cluster.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const kc = inject('kubeconfig');
const licence = 'LICENCE-gitops-e2e-2b7d';
const ns = 'gitops-e2e';
const host = 'madison.gitops.test';
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
const upmeterCRD = 'e2e/fixtures/crds/upmeterremotewrites.deckhouse.io.yaml';
let kstatus: string;
let lua: string;
let ctl: ControllerProcess | undefined;
let controllerArgs: string[] = [];

const spec = (extra: Record<string, unknown> = {}) => fakesSpec(ns, connect.url, host, extra);

/** The FlantIntegration as stored. */
async function stored(): Promise<Record<string, unknown>> {
  return JSON.parse(await kubectlOk(kc, ['get', 'flantintegration', 'default', '-o', 'json'])) as Record<string, unknown>;
}

/** What kstatus and Argo CD say of the stored object. */
async function views(): Promise<{ kstatus: Health; argo: Health }> {
  const obj = await stored();
  const [k, a] = await Promise.all([kstatusOf(kstatus, obj), argoHealthOf(lua, obj)]);
  return { kstatus: k, argo: a };
}

/** Waits until kstatus says `status` (and returns both views then). */
async function until(status: string, timeoutMs = 30_000): Promise<{ kstatus: Health; argo: Health }> {
  let last: { kstatus: Health; argo: Health } | undefined;
  await eventually(
    `kstatus says ${status} (last: ${JSON.stringify(last?.kstatus)})`,
    async () => (last = await views()).kstatus.status === status,
    timeoutMs,
    100,
  );
  if (!last) throw new Error('unreachable');
  return last;
}

/** Our CRD with spec.connect.url's checks taken out, as an older or edited CRD would admit it. */
function loosenedCRD(): string {
  const crd = flantIntegrationCRD() as {
    spec: {
      versions: Array<{
        schema: { openAPIV3Schema: { properties: { spec: { properties: { connect: { properties: { url: Record<string, unknown> } } } } } } };
      }>;
    };
  };
  for (const v of crd.spec.versions) {
    const url = v.schema.openAPIV3Schema.properties.spec.properties.connect.properties.url;
    delete url.pattern;
    delete url['x-kubernetes-validations'];
  }
  return JSON.stringify(crd);
}

beforeAll(async () => {
  [kstatus, lua] = await Promise.all([ensureKstatus(), ensureLua()]);
  await installCRD(kc);
  await kubectlOk(kc, ['apply', '--server-side', '-f', 'e2e/fixtures/crds/']);
  await connect.start();
  await dns.start();
  dns.setA(host, ['192.0.2.70']);
  await workloadsNamespace(kc, ns);
  controllerArgs = ['--sync-period=10m', `--dns-server=${dns.address}`, '--image=flant-integration-controller:e2e'];
  ctl = startController(controllerArgs);
});

// A case that fails says what the controller saw: the stored status and its last log lines.
afterEach(async ({ task }) => {
  if (task.result?.state !== 'fail') return;
  const status = await kubectl(kc, ['get', 'flantintegration', 'default', '-o', 'jsonpath={.status}']);
  process.stderr.write(`gitops: ${task.name} failed; status ${status.stdout}\n${ctl?.lines.slice(-15).join('\n') ?? ''}\n`);
});

afterAll(async () => {
  await ctl?.stop('SIGKILL');
  await installCRD(kc);
  await kubectl(kc, ['apply', '--server-side', '-f', upmeterCRD]);
  await removeFlantIntegrationAndNamespace(kc, ns);
  await connect.stop();
  await dns.stop();
});

describe('GitOps status (kstatus, Argo CD)', () => {
  it('is Failed, and Degraded in Argo CD, while the license Secret is missing, with our reason', async () => {
    await apply(kc, spec());
    const { kstatus: k, argo } = await until('Failed');
    expect(k.message).toMatch(/^needs a person: LicenseValid: Secret gitops-e2e\/license not found/);
    expect(argo).toEqual({ status: 'Degraded', message: `SecretNotFound: ${k.message}` });
    expect(await condition(kc, 'Stalled')).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
  });

  it('is InProgress while Connect fails the registration (retried), then Current; kubectl wait still works', async () => {
    connect.failRegistration(503, 'maintenance');
    await apply(kc, secret(ns, 'license', { key: licence }));
    const converging = await until('InProgress');
    expect(converging.kstatus.message).toContain('RegistrationFailed');
    expect(converging.argo.status).toBe('Progressing');
    expect(await condition(kc, 'Reconciling')).toMatchObject({ status: 'True', reason: 'RegistrationFailed' });
    expect(await condition(kc, 'Stalled')).toBeUndefined();
    connect.recover();
    // The failed registrations were retried with per-key exponential backoff (as controller-runtime's,
    // up to about 16 minutes): wake the controller now rather than wait out the backoff it reached.
    process.stderr.write(`e2e: ${connect.requests('/v1/madison_register').length} registrations refused before Connect recovered\n`);
    await kubectlOk(kc, ['annotate', 'flantintegration', 'default', '--overwrite', `e2e.flant.com/poke=${Date.now()}`]);
    await kubectlOk(kc, ['wait', '--for=condition=Ready', 'flantintegration/default', '--timeout=60s']);
    const ready = await until('Current');
    expect(ready.kstatus.message).toBe('Resource is Ready');
    expect(ready.argo).toEqual({ status: 'Healthy', message: 'every enabled component is ready' });
    const obj = (await stored()) as {
      metadata: { generation: number };
      status: { observedGeneration: number; conditions: Array<{ type: string; observedGeneration: number }> };
    };
    expect(obj.status.conditions.map((c) => c.type)).not.toContain('Reconciling');
    expect(new Set([obj.status.observedGeneration, ...obj.status.conditions.map((c) => c.observedGeneration)])).toEqual(
      new Set([obj.metadata.generation]),
    );
  });

  it('is Failed for a license in a namespace whose Secrets may not be read, and Current once it points back', async () => {
    await apply(kc, spec({ licenseKeySecretRef: { namespace: 'kube-system', name: 'license', key: 'key' } }));
    const failed = await until('Failed');
    expect(failed.kstatus.message).toContain('LicenseValid');
    expect(failed.argo.status).toBe('Degraded');
    expect(failed.argo.message).toMatch(/^SecretNamespaceNotAllowed: /);
    await apply(kc, spec());
    expect((await until('Current')).argo.status).toBe('Healthy');
  });

  it('is Failed while a CRD an enabled component writes is missing, and Current once it is installed', async () => {
    await kubectlOk(kc, ['delete', '-f', upmeterCRD, '--wait=true']);
    const failed = await until('Failed');
    expect(failed.argo.message).toMatch(/^CRDNotInstalled: needs a person: UpmeterReady: the CRD of UpmeterRemoteWrite/);
    await kubectlOk(kc, ['apply', '--server-side', '-f', upmeterCRD]);
    expect((await until('Current')).argo.status).toBe('Healthy');
  });

  it('says SpecInvalid (Failed, an Event) for an admitted spec it cannot use, changes nothing, and is Current after the fix', async () => {
    const proxies = await kubectlOk(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'jsonpath={.items[*].metadata.uid}']);
    await kubectlOk(kc, ['apply', '--server-side', '--force-conflicts', '-f', '-'], loosenedCRD());
    // Plain http to a remote host: the licence would travel in clear. This CRD lets it in; the controller does not.
    await eventually(
      'the loosened CRD admits it',
      async () => (await kubectl(kc, ['apply', '-f', '-'], spec({ connect: { url: 'http://connect.example.com' } }))).code === 0,
      10_000,
      200,
    );
    const failed = await until('Failed');
    expect(failed.kstatus.message).toMatch(/^spec\.connect\.url: .*nothing is changed until it is fixed$/);
    expect(failed.argo).toEqual({ status: 'Degraded', message: `SpecInvalid: ${failed.kstatus.message}` });
    expect(await condition(kc, 'Ready')).toMatchObject({ status: 'False', reason: 'SpecInvalid' });
    const events = JSON.parse(await kubectlOk(kc, ['get', 'events.events.k8s.io', '-n', 'default', '-o', 'json'])) as {
      items: Array<{ reason: string; type: string; note: string }>;
    };
    expect(events.items.filter((e) => e.reason === 'SpecInvalid').map((e) => `${e.type} ${e.note}`)).toEqual([
      expect.stringMatching(/^Warning Ready: spec\.connect\.url: /),
    ]);
    expect(await kubectlOk(kc, ['get', 'deploy', '-n', ns, '-l', 'app=madison-proxy', '-o', 'jsonpath={.items[*].metadata.uid}'])).toBe(proxies);
    await apply(kc, spec());
    expect((await until('Current')).argo.status).toBe('Healthy');
    await installCRD(kc);
  });

  it('is InProgress (Argo CD: Progressing) for a generation the controller has not seen; Argo CD says Progressing before any status', async () => {
    await ctl?.stop('SIGTERM');
    ctl = undefined;
    await apply(kc, spec({ billing: { contacts: 4 } }));
    const pending = await views();
    expect(pending.kstatus.status).toBe('InProgress');
    expect(pending.kstatus.message).toMatch(/generation is \d+, but latest observed generation is \d+/);
    expect(pending.argo.status).toBe('Progressing');
    expect(pending.argo.message).toMatch(/has not acted on generation \d+ yet/);

    // Deleted with a controller running (its finalizer removes our objects, so nothing is left
    // for the next spec), then made again with none: never reconciled at all, kstatus cannot
    // tell (Current), Argo CD's check waits (Progressing).
    ctl = startController(controllerArgs);
    await kubectlOk(kc, ['delete', 'flantintegration', 'default', '--timeout=60s']);
    await ctl.stop('SIGTERM');
    ctl = undefined;
    await apply(kc, spec());
    const fresh = await views();
    expect(fresh.kstatus.status).toBe('Current');
    expect(fresh.argo).toEqual({ status: 'Progressing', message: 'waiting for the controller to report' });
  });
});
