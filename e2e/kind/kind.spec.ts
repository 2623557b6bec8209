/**
 * The kind suite: the product installed as users install it, in a real kind cluster whose
 * node image and images are all built here (e2e/kind/nodeimage.ts), with real pods:
 * - the chart (`helm install`, 2 replicas, leader election) with the image of `npm run image`;
 * - the sample-shaped FlantIntegration (Deckhouse CRD fixtures installed) to Ready=True;
 * - every madison-proxy pod Running and Ready through its probes;
 * - a real Prometheus pod's alert through the madison-proxy Service to the Madison stand-in
 *   (a pod serving HTTPS), which records path, key and body; again after a proxy pod is killed;
 * - the pricing pods: the exporter and Alloy (built here) running the generated configuration,
 *   whose flant_pricing_* samples reach the Connect stand-in with the licence as token;
 * - Pod Security `restricted` on every namespace our pods run in, read-only root filesystems;
 * - `helm uninstall` plus deleting the FlantIntegration leaves none of our objects.
 * Skipped, saying why, where no Docker engine can be had; a failure instead with CI=true or
 * E2E_REQUIRE_KIND=1. KEEP_CLUSTER=1 keeps the cluster and prints `kubeconfig: PATH`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildAndLoad } from '../../image/build.js';
import { ensureEngine, type Engine } from '../../image/engine.js';
import { defaultCacheDir, repoRoot } from '../../image/paths.js';
import { managedByLabel } from '../../src/flantintegration/contract.js';
import { alertBatch } from '../../bench/proxy.js';
import { ensureDebian, ensurePrometheus } from '../controlplane/binaries.js';
import { eventually } from '../support/controller.js';
import { kubectl, kubectlOk } from '../support/kubectl.js';
import { createCluster, deleteCluster, keptKubeconfigPath, loadImages, prepareKind, type KindSetup } from './cluster.js';
import { buildKindImages, kindImages, makeCertificates } from './images.js';
import { standinPorts, type StandinLine } from './standin-log.js';

const required = process.env.CI === 'true' || process.env.E2E_REQUIRE_KIND === '1' || process.env.E2E_REQUIRE_IMAGE === '1';
/** What this run built or installed once (the "built X in N s" lines of the builders), for the cold and warm figures. */
const oneTime: Array<{ what: string; seconds: number }> = [];
const log = (line: string) => {
  const built = /^(?:built|installed) (.+) in (\d+) s$/.exec(line);
  if (built) oneTime.push({ what: built[1] ?? '', seconds: Number(built[2]) });
  process.stderr.write(`kind suite: ${line}\n`);
};
const suiteStarted = Date.now();
const engine: Engine | Error = await ensureEngine({ cacheDir: defaultCacheDir(), log }).catch((err: unknown) =>
  err instanceof Error ? err : new Error(String(err)),
);
if (engine instanceof Error) {
  if (required) throw new Error(`the kind suite must run here (CI=true) but no Docker engine can be had: ${engine.message}`);
  log(`SKIPPED: ${engine.message}`);
}

const release = 'flant-integration';
const controllerNs = 'flant-integration-system';
const ns = 'd8-flant-integration';
const monitoringNs = 'd8-monitoring';
const standinsNs = 'flant-e2e-standins';
const licence = 'LICENCE-kind-e2e-7c1f';
const connectHost = `connect.${standinsNs}.svc`;
const backendsHost = `madison.${standinsNs}.svc.cluster.local`;
const restricted = { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' };
const hardened = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The Deckhouse and Prometheus Operator CRDs a Deckhouse cluster serves (e2e/fixtures). */
const fixtureCRDs = [
  'clusterlogdestinations.deckhouse.io',
  'clusterloggingconfigs.deckhouse.io',
  'customalertmanagers.deckhouse.io',
  'nodegroups.deckhouse.io',
  'upmeterremotewrites.deckhouse.io',
  'podmonitors.monitoring.coreos.com',
  'prometheusrules.monitoring.coreos.com',
];

let setup: KindSetup;
let kc = '';
let dir = '';
const timings: Record<string, number> = {};

async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = (Date.now() - started) / 1000;
  }
}

function k(args: string[], input?: string): Promise<string> {
  return kubectlOk(kc, args, input);
}

async function applyAll(objects: readonly object[]): Promise<void> {
  await k(['apply', '--server-side', '--force-conflicts', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
}

function namespace(name: string): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: restricted } };
}

/** The stand-ins' pod, its TLS and license Secrets, and one Service per service (443 to the pod's unprivileged ports). */
async function standins(): Promise<object[]> {
  const certs = join(dir, 'certs');
  const secret = (name: string, data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: standinsNs },
    stringData: data,
  });
  const service = (name: string, targetPort: number) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: standinsNs },
    spec: { selector: { app: 'standins' }, ports: [{ name: 'https', port: 443, targetPort }] },
  });
  return [
    namespace(standinsNs),
    secret('tls', { 'tls.crt': await readFile(join(certs, 'tls.crt'), 'utf8'), 'tls.key': await readFile(join(certs, 'tls.key'), 'utf8') }),
    secret('license', { license: licence }),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'standins', namespace: standinsNs },
      spec: {
        selector: { matchLabels: { app: 'standins' } },
        template: {
          metadata: { labels: { app: 'standins' } },
          spec: {
            enableServiceLinks: false,
            securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'standins',
                image: kindImages.standins,
                imagePullPolicy: 'Never',
                env: [
                  { name: 'LICENCE', valueFrom: { secretKeyRef: { name: 'license', key: 'license' } } },
                  { name: 'TLS_DIR', value: '/tls' },
                ],
                ports: [{ containerPort: standinPorts.madison }, { containerPort: standinPorts.connect }],
                readinessProbe: { tcpSocket: { port: standinPorts.connect }, periodSeconds: 2 },
                securityContext: hardened,
                volumeMounts: [{ name: 'tls', mountPath: '/tls', readOnly: true }],
              },
            ],
            volumes: [{ name: 'tls', secret: { secretName: 'tls' } }],
          },
        },
      },
    },
    service('madison', standinPorts.madison),
    service('connect', standinPorts.connect),
  ];
}

/** A real Prometheus in the monitoring namespace: an always-firing rule, alerts to the madison-proxy Service by its DNS name. */
function prometheus(): object[] {
  const config = {
    global: { evaluation_interval: '2s' },
    rule_files: ['/config/rules.yaml'],
    alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [`madison-proxy.${ns}.svc:8080`] }] }] },
  };
  const rules = {
    groups: [
      {
        name: 'kind-e2e',
        rules: [
          { alert: 'KindE2EAlwaysFiring', expr: 'vector(1)', labels: { severity_level: '4' }, annotations: { summary: 'from the kind suite' } },
        ],
      },
    ],
  };
  return [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'prometheus', namespace: monitoringNs },
      data: { 'prometheus.yaml': stringify(config), 'rules.yaml': stringify(rules) },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'prometheus', namespace: monitoringNs },
      spec: {
        selector: { matchLabels: { app: 'prometheus' } },
        template: {
          metadata: { labels: { app: 'prometheus' } },
          spec: {
            securityContext: { runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'prometheus',
                image: kindImages.prometheus,
                imagePullPolicy: 'Never',
                args: [
                  '--config.file=/config/prometheus.yaml',
                  '--storage.tsdb.path=/data',
                  '--rules.alert.resend-delay=2s',
                  '--web.listen-address=:9090',
                ],
                securityContext: hardened,
                volumeMounts: [
                  { name: 'config', mountPath: '/config' },
                  { name: 'data', mountPath: '/data' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'prometheus' } },
              { name: 'data', emptyDir: {} },
            ],
          },
        },
      },
    },
  ];
}

function flantIntegration(): object {
  return {
    apiVersion: 'integration.flant.com/v1alpha1',
    kind: 'FlantIntegration',
    metadata: { name: 'default' },
    spec: {
      namespace: ns,
      licenseKeySecretRef: { namespace: ns, name: 'license', key: 'key' },
      connect: { url: `https://${connectHost}` },
      madison: { backendsHost },
      // Alloy, the default agent, from the image built here; a short interval so samples come soon.
      metrics: { scrapeInterval: '10s', image: kindImages.alloy },
    },
  };
}

/** The stand-ins' log, one parsed line each. */
async function standinLines(): Promise<StandinLine[]> {
  const out = await k(['-n', standinsNs, 'logs', 'deploy/standins']);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StandinLine);
}

async function madisonAlerts(): Promise<Array<Extract<StandinLine, { server: 'madison' }>>> {
  return (await standinLines()).filter(
    (l): l is Extract<StandinLine, { server: 'madison' }> => l.server === 'madison' && l.body.includes('KindE2EAlwaysFiring'),
  );
}

async function readyCondition(): Promise<{ status?: string; reason?: string; message?: string } | undefined> {
  const out = await kubectl(kc, ['get', 'flantintegration', 'default', '-o', 'json']);
  if (out.code !== 0) return undefined;
  const fi = JSON.parse(out.stdout) as { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } };
  return fi.status?.conditions?.find((c) => c.type === 'Ready');
}

interface PodList {
  items: Array<{
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    spec: { containers: Array<{ image: string; securityContext?: { readOnlyRootFilesystem?: boolean } }> };
    status: {
      phase?: string;
      conditions?: Array<{ type: string; status: string }>;
      containerStatuses?: Array<{ restartCount: number; lastState?: { terminated?: { reason?: string } } }>;
    };
  }>;
}

async function pods(namespaceName: string, selector?: string): Promise<PodList['items']> {
  const args = ['-n', namespaceName, 'get', 'pods', '-o', 'json', ...(selector ? ['-l', selector] : [])];
  return (JSON.parse(await k(args)) as PodList).items;
}

const ready = (p: PodList['items'][number]) =>
  p.status.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe.skipIf(engine instanceof Error)('the product in a real kind cluster', () => {
  beforeAll(async () => {
    if (engine instanceof Error) return;
    const started = Date.now();
    dir = await mkdtemp(join(tmpdir(), 'kind-e2e-'));
    setup = await timed('prepare (engine, kind, node image)', () => prepareKind(log));
    Object.assign(timings, Object.fromEntries(Object.entries(setup.timings).map(([name, s]) => [`  ${name}`, s])));
    kc = await timed('kind create cluster', () => createCluster(setup, log));
    await timed("images (npm run image, the suite's, kind load)", async () => {
      const product = await buildAndLoad(engine, { log });
      const certs = await makeCertificates(join(dir, 'certs'), ['madison.flant.com', connectHost, `${connectHost}.cluster.local`]);
      const { prometheus: prometheusBinary } = await ensurePrometheus(log);
      const hey = await ensureDebian('hey', 'hey', log);
      // Built by the e2e setup (e2e/alloy/build.ts).
      await buildKindImages(setup.env, product.tag, repoRoot(), certs, { prometheus: prometheusBinary, hey, alloy: inject('alloy') });
      await loadImages(setup, [product.tag, ...Object.values(kindImages)], log);
    });
    await timed('helm install and the stand-ins', async () => {
      for (const crd of fixtureCRDs) await k(['apply', '--server-side', '-f', join(repoRoot(), 'e2e', 'fixtures', 'crds', `${crd}.yaml`)]);
      await k(['apply', '--server-side', '-f', join(repoRoot(), 'e2e', 'fixtures', 'watched', 'ingressnginxcontrollers.deckhouse.io.yaml')]);
      // A Deckhouse-shaped cluster: its namespaces exist before the chart's Roles go into them.
      await applyAll([namespace('d8-system'), namespace(monitoringNs)]);
      await applyAll(await standins());
      await installProduct();
      await k(['-n', standinsNs, 'rollout', 'status', 'deployment/standins', '--timeout=120s']);
    });
    timings['beforeAll total'] = (Date.now() - started) / 1000;
  });

  afterAll(async () => {
    if (engine instanceof Error) return;
    for (const [name, seconds] of Object.entries(timings)) log(`${name}: ${seconds.toFixed(1)} s`);
    if (setup) {
      const total = (Date.now() - suiteStarted) / 1000;
      const builds = oneTime.reduce((sum, b) => sum + b.seconds, 0);
      if (oneTime.length > 0) {
        log(
          `cold run: ${total.toFixed(0)} s in all, of which one-time builds ${builds.toFixed(0)} s ` +
            `(${oneTime.map((b) => `${b.what} ${b.seconds} s`).join(', ')})`,
        );
        log(`warm: ${(total - builds).toFixed(0)} s, this run without those builds (what a run on this machine takes from now on)`);
      } else {
        log(
          `warm run: ${total.toFixed(0)} s in all (everything was cached; a cold run on a fresh machine also builds kind's programs, the ` +
            `node image and the engine's runtime wrapper)`,
        );
      }
      if (process.env.KEEP_CLUSTER === '1') {
        // The last test uninstalled the product: install it again, so a person finds it running.
        await installProduct();
        await applyAll([flantIntegration()]);
        await eventually('Ready is True again', async () => (await readyCondition())?.status === 'True', 240_000, 2000);
        process.stdout.write(`kubeconfig: ${keptKubeconfigPath()}\n`);
      } else {
        await deleteCluster(setup);
        await rm(keptKubeconfigPath(), { force: true });
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    if (process.env.KEEP_CLUSTER !== '1') await engine.stop();
  });

  /** Installs the chart; `deckhouse` false is its default (no Roles in d8-system and d8-monitoring). */
  async function installProduct(deckhouse = true): Promise<void> {
    const extras = deckhouse ? ['--set', 'deckhouse.enabled=true'] : [];
    await helm([
      'install',
      release,
      join(repoRoot(), 'charts', 'flant-integration-controller'),
      '--set',
      `image.tag=${kindImages.controller.split(':')[1] ?? ''}`,
      '--set',
      'replicas=2',
      ...extras,
      '--wait',
      '--timeout',
      '180s',
    ]);
  }

  async function helm(args: string[]): Promise<string> {
    const { execFile } = await import('node:child_process');
    return new Promise((resolve, reject) => {
      execFile(setup.helm, ['--kubeconfig', kc, ...args], { env: setup.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
        err ? reject(new Error(`helm ${args[0] ?? ''} failed: ${stderr || err.message}`)) : resolve(stdout),
      );
    });
  }

  it('runs a real node from the images built here: kube-system pods Running', async () => {
    const nodes = JSON.parse(await k(['get', 'nodes', '-o', 'json'])) as {
      items: Array<{
        status: { conditions: Array<{ type: string; status: string }>; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } };
      }>;
    };
    expect(nodes.items).toHaveLength(1);
    expect(nodes.items[0]?.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    log(`node: kubelet ${nodes.items[0]?.status.nodeInfo.kubeletVersion}, ${nodes.items[0]?.status.nodeInfo.containerRuntimeVersion}`);
    const system = (await pods('kube-system')).map((p) => p.metadata.name);
    for (const prefix of ['coredns-', 'etcd-', 'kube-apiserver-', 'kube-controller-manager-', 'kube-proxy-', 'kube-scheduler-']) {
      expect(
        system.some((name) => name.startsWith(prefix)),
        `a ${prefix}* pod`,
      ).toBe(true);
    }
    await eventually('every kube-system pod is Running and Ready', async () => (await pods('kube-system')).every(ready), 120_000, 1000);
  });

  it('runs the controller from the chart: 2 replicas Available through their probes, one leading', async () => {
    const deployment = JSON.parse(await k(['-n', controllerNs, 'get', 'deployment', 'flant-integration-controller', '-o', 'json'])) as {
      status: { availableReplicas?: number };
    };
    expect(deployment.status.availableReplicas).toBe(2);
    const names = (await pods(controllerNs, 'app.kubernetes.io/name=flant-integration-controller')).map((p) => p.metadata.name);
    let holder = '';
    await eventually(
      'a replica holds the leader Lease',
      async () => {
        const lease = await kubectl(kc, ['-n', controllerNs, 'get', 'lease', 'flant-integration-leader', '-o', 'jsonpath={.spec.holderIdentity}']);
        holder = lease.stdout.trim();
        return names.includes(holder);
      },
      60_000,
      1000,
    );
    expect(names).toHaveLength(2);
  });

  it('takes the FlantIntegration to Ready=True, with madison-proxy pods Running and Ready through their probes', async () => {
    await applyAll([
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'license', namespace: ns }, stringData: { key: licence } },
      flantIntegration(),
    ]);
    let last: Awaited<ReturnType<typeof readyCondition>>;
    await eventually('Ready is True', async () => (last = await readyCondition())?.status === 'True', 240_000, 2000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last Ready: ${JSON.stringify(last)}`);
    });
    const proxies = await pods(ns, 'app=madison-proxy');
    expect(proxies.length).toBeGreaterThan(0);
    expect(proxies.every(ready)).toBe(true);
    expect(proxies.every((p) => p.spec.containers.every((c) => c.image === kindImages.controller))).toBe(true);
    const registrations = (await standinLines()).filter((l) => l.server === 'connect' && l.path === '/v1/madison_register');
    expect(registrations.length).toBeGreaterThan(0);
    expect(registrations.every((l) => l.server === 'connect' && l.licence)).toBe(true);
  });

  it("carries a real Prometheus pod's alert through the madison-proxy Service to the Madison stand-in", async () => {
    await applyAll(prometheus());
    await k(['-n', monitoringNs, 'rollout', 'status', 'deployment/prometheus', '--timeout=120s']);
    await eventually('the alert reached Madison', async () => (await madisonAlerts()).length > 0, 120_000, 2000);
    const key = Buffer.from(await k(['-n', ns, 'get', 'secret', 'madison-proxy', '-o', 'jsonpath={.data.auth-key}']), 'base64').toString('utf8');
    expect(key).not.toBe('');
    const [first] = await madisonAlerts();
    expect(first).toMatchObject({ method: 'POST', path: `/api/events/prometheus/${key}`, host: 'madison.flant.com' });
    const sent = JSON.parse(first?.body ?? '[]') as Array<{ labels: Record<string, string> }>;
    expect(sent[0]?.labels).toMatchObject({ alertname: 'KindE2EAlwaysFiring', severity_level: '4' });
    const proxyLogs = await k(['-n', ns, 'logs', '-l', 'app=madison-proxy', '--tail=-1']);
    expect(proxyLogs).not.toContain(key);
    expect(proxyLogs).not.toContain(licence);
  });

  it(
    'runs the metrics agent (Alloy) on the generated configuration: the Connect stand-in receives flant_pricing_* samples with the ' +
      'license as token',
    async () => {
      const pricingPods = await pods(ns, 'app=pricing');
      expect(pricingPods).toHaveLength(2);
      expect(pricingPods.every(ready)).toBe(true);
      expect(pricingPods.every((p) => p.spec.containers.map((c) => c.image).join(',') === `${kindImages.controller},${kindImages.alloy}`)).toBe(true);
      const pushes = async () =>
        (await standinLines()).filter(
          (l): l is Extract<StandinLine, { server: 'connect' }> => l.server === 'connect' && l.path === '/v1/remote_write',
        );
      await eventually(
        'flant_pricing_nodes reached Connect',
        async () => (await pushes()).some((l) => l.pricing?.some((s) => s.name === 'flant_pricing_nodes')),
        120_000,
        2000,
      ).catch(async (err: unknown) => {
        throw new Error(
          `${(err as Error).message}; the agent's log ends: ` +
            `${(await kubectl(kc, ['-n', ns, 'logs', 'deploy/pricing', '-c', 'agent', '--tail=20'])).stdout}`,
        );
      });
      const received = await pushes();
      expect(received.every((l) => l.licence && l.error === undefined)).toBe(true);
      const clusterUUID = await k(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}']);
      const names = new Set(pricingPods.map((p) => p.metadata.name));
      const samples = received.flatMap((l) => l.pricing ?? []);
      expect(
        samples.every(
          (s) =>
            s.labels.cluster_uuid === clusterUUID &&
            names.has(s.labels.__replica__ ?? '') &&
            s.labels.job === 'flant-pricing' &&
            s.labels.instance === undefined,
        ),
      ).toBe(true);
      log(`Connect received ${received.length} remote_write pushes from Alloy: ${[...new Set(samples.map((s) => s.name))].sort().join(', ')}`);
    },
  );

  it('delivers the alerts Prometheus sends while a proxy pod is killed and replaced', async () => {
    const before = await pods(ns, 'app=madison-proxy');
    const victim = before[0]?.metadata.name ?? '';
    await k(['-n', ns, 'delete', 'pod', victim, '--grace-period=0', '--force', '--wait=false']);
    const killedAt = Date.now();
    await eventually(
      'a new proxy pod is Ready',
      async () => {
        const now = await pods(ns, 'app=madison-proxy');
        return now.some((p) => p.metadata.name !== victim && ready(p)) && now.length === before.length;
      },
      120_000,
      1000,
    );
    const seen = (await madisonAlerts()).length;
    await eventually('alerts reach Madison again after the restart', async () => (await madisonAlerts()).length > seen, 60_000, 1000);
    log(`proxy pod replaced and alerts delivered again ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  });

  it(
    'holds the proxy within its memory limit under the bench load (hey, batches of 10 alerts through the Service): no OOM kill, no ' + 'restart',
    async () => {
      const job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'proxy-load', namespace: monitoringNs },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [
                {
                  name: 'hey',
                  image: kindImages.standins,
                  imagePullPolicy: 'Never',
                  command: [
                    '/usr/bin/hey',
                    '-z',
                    '20s',
                    '-c',
                    '16',
                    '-m',
                    'POST',
                    '-T',
                    'application/json',
                    '-d',
                    alertBatch(),
                    `http://madison-proxy.${ns}.svc:8080/api/v2/alerts`,
                  ],
                  securityContext: hardened,
                },
              ],
            },
          },
        },
      };
      await applyAll([job]);
      await k(['-n', monitoringNs, 'wait', '--for=condition=Complete', 'job/proxy-load', '--timeout=120s']);
      const report = await k(['-n', monitoringNs, 'logs', 'job/proxy-load']);
      const ok = Number(/\[200\]\s+(\d+) responses/.exec(report)?.[1] ?? 0);
      log(`load through the madison-proxy Service: ${/Requests\/sec:\s+([\d.]+)/.exec(report)?.[1] ?? '?'} posts/s, ${ok} answered 200`);
      expect(ok).toBeGreaterThan(100);
      for (const p of await pods(ns, 'app=madison-proxy')) {
        expect(ready(p), `${p.metadata.name} Ready after the load`).toBe(true);
        expect(
          p.status.containerStatuses?.every((s) => s.restartCount === 0 && s.lastState?.terminated?.reason !== 'OOMKilled'),
          `${p.metadata.name} not restarted`,
        ).toBe(true);
      }
      await k(['-n', monitoringNs, 'delete', 'job', 'proxy-load', '--cascade=foreground']);
    },
  );

  it('runs every pod of ours under Pod Security restricted, with read-only root filesystems, none restarted or OOM-killed', async () => {
    for (const name of [controllerNs, ns]) {
      const labels = JSON.parse(await k(['get', 'namespace', name, '-o', 'jsonpath={.metadata.labels}'])) as Record<string, string>;
      expect(labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
    const ours = [...(await pods(controllerNs)), ...(await pods(ns))];
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const p of ours) {
      expect(ready(p), `${p.metadata.namespace}/${p.metadata.name} Ready`).toBe(true);
      expect(
        p.spec.containers.every((c) => c.securityContext?.readOnlyRootFilesystem === true),
        `${p.metadata.name} read-only root`,
      ).toBe(true);
      expect(p.status.containerStatuses?.some((s) => s.lastState?.terminated?.reason === 'OOMKilled') ?? false, `${p.metadata.name} OOM-killed`).toBe(
        false,
      );
    }
    expect((await pods(controllerNs)).every((p) => p.status.containerStatuses?.every((s) => s.restartCount === 0))).toBe(true);
  });

  it('leaves none of our objects after the FlantIntegration is deleted and the chart uninstalled, but what the README says is kept', async () => {
    await k(['delete', 'flantintegration', 'default', '--wait=true', '--timeout=120s']);
    await helm(['uninstall', release, '--wait', '--timeout', '120s']);
    const kinds =
      'deployments,services,secrets,configmaps,serviceaccounts,roles,rolebindings,networkpolicies,poddisruptionbudgets,podmonitors,prometheusrules';
    const clusterKinds =
      'clusterroles,clusterrolebindings,clusterlogdestinations,clusterloggingconfigs,upmeterremotewrites,customalertmanagers,namespaces';
    // Kept on purpose (README, Uninstall): the workloads namespace and the stored Madison key in it.
    const kept = [`${ns}/secret/madison-proxy`, 'namespace/d8-flant-integration'];
    let left: string[] = [];
    await eventually(
      'only what is kept on purpose is left',
      async () => {
        const found = new Set<string>();
        for (const selector of [`${managedByLabel.key}=${managedByLabel.value}`, 'app.kubernetes.io/part-of=flant-integration']) {
          const namespaced = JSON.parse(await k(['get', kinds, '-A', '-l', selector, '-o', 'json'])) as {
            items: Array<{ kind: string; metadata: { name: string; namespace: string } }>;
          };
          for (const o of namespaced.items) found.add(`${o.metadata.namespace}/${o.kind.toLowerCase()}/${o.metadata.name}`);
          for (const name of (await k(['get', clusterKinds, '-l', selector, '-o', 'name'])).split('\n').filter(Boolean))
            found.add(name.replace(/^[a-z.]*?([a-z]+)\.[^/]*\//, '$1/'));
        }
        left = [...found].sort();
        return JSON.stringify(left) === JSON.stringify([...kept].sort());
      },
      120_000,
      2000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: left ${JSON.stringify(left)}`);
    });
  });

  it("reaches Ready=True with the chart's defaults too (no Deckhouse Roles), the kept Madison key reused", async () => {
    await installProduct(false);
    const roles = await k(['get', 'roles', '-n', 'd8-system', '-l', 'app.kubernetes.io/part-of=flant-integration', '-o', 'name']);
    expect(roles.trim(), 'no Role in d8-system').toBe('');
    await applyAll([flantIntegration()]);
    let last: Awaited<ReturnType<typeof readyCondition>>;
    await eventually('Ready is True', async () => (last = await readyCondition())?.status === 'True', 240_000, 2000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: Ready ${JSON.stringify(last)}`);
    });
    const controllers = await pods(controllerNs, 'app.kubernetes.io/name=flant-integration-controller');
    expect(controllers.filter(ready)).toHaveLength(2);
    await k(['delete', 'flantintegration', 'default', '--wait=true', '--timeout=120s']);
    await helm(['uninstall', release, '--wait', '--timeout', '120s']);
  });
});
