/**
 * Metrics end to end: the controller writes the metrics objects into the real API server;
 * `flant-integration pricing` reads real Nodes and NodeGroups; the real agent scrapes it and
 * remote-writes to the Connect stand-in, which decodes what it gets: Grafana Alloy (the
 * default, built from its Go module) runs the generated `.alloy` file with the arguments of the
 * generated Deployment; for `metrics.agent: GrafanaAgent`, the real Prometheus (Debian's, in
 * agent mode) runs the scrape_configs and remote_write of the static-mode file (grafana-agent
 * itself is not built here). Only the target address, the token file, the listen address and
 * the data folder are swapped for local ones. The numbers follow a change.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensurePrometheus } from './controlplane/binaries.js';
import { freePort } from './controlplane/process.js';
import { FakeConnect } from './fakes/connect.js';
import { apply, column, condition, flantIntegration, removeFlantIntegrationAndNamespace, secret, workloadsNamespace } from './support/cluster.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { installCRD } from './support/crd.js';
import { serviceAccountKubeconfig, untilAllowed } from './support/credentials.js';
import { kubectl, kubectlOk } from './support/kubectl.js';
import { pricingRoleName } from '../src/components/metrics/render.js';

const kc = inject('kubeconfig');
const alloy = inject('alloy');
const licence = 'LICENCE-metrics-e2e-3d8b';
const ns = 'metrics-e2e';
const connect = new FakeConnect(licence);
let ctl: ControllerProcess;
let exporter: ControllerProcess;
let prometheus: ChildProcess | undefined;
let agent: ChildProcess | undefined;
let agentLog = '';
let agentPort = 0;
let dir: string;
let clusterUUID: string;
let exporterKubeconfigFile: string;
let usageExporter: ControllerProcess | undefined;
let usagePrometheus: ChildProcess | undefined;
/** Where Deckhouse runs its ingress-nginx controllers. */
const ingressNamespace = 'd8-ingress-nginx';

function spec(extra: Record<string, unknown> = {}): string {
  return flantIntegration({
    namespace: ns,
    licenseKeySecretRef: { namespace: ns, name: 'license', key: 'key' },
    connect: { url: connect.url },
    madison: { enabled: false },
    logs: { enabled: false },
    upmeter: { enabled: false },
    metrics: { scrapeInterval: '10s' },
    billing: { contacts: 2 },
    // No Prometheus answers there; the CA is read through the Role the controller grants the exporter.
    prometheus: { url: 'https://127.0.0.1:1', caSecretRef: { namespace: ns, name: 'prometheus-ca', key: 'ca.crt' } },
    ...extra,
  });
}

function nodeGroup(name: string, nodeType: string): Record<string, unknown> {
  return { apiVersion: 'deckhouse.io/v1', kind: 'NodeGroup', metadata: { name }, spec: { nodeType } };
}

interface NodeInput {
  readonly group?: string;
  readonly annotations?: Record<string, string>;
  readonly taint?: string;
}

/**
 * Every rule's inputs: annotations in several cases, an unknown one, virtualization unknown and real, both control-plane taints, a ghost group, no
 * group.
 */
const nodes: Record<string, NodeInput> = {
  'pe-m1': { group: 'master', taint: 'node-role.kubernetes.io/control-plane' },
  'pe-m2': { group: 'master', taint: 'node-role.kubernetes.io/master' },
  'pe-e1': { group: 'spot' },
  'pe-e2': { group: 'spot', annotations: { 'pricing.flant.com/nodeType': 'vm' } },
  'pe-s1': { group: 'metal', annotations: { 'node.deckhouse.io/virtualization': 'unknown' } },
  'pe-s2': { group: 'metal', annotations: { 'node.deckhouse.io/virtualization': 'kvm' } },
  'pe-s3': { group: 'metal', annotations: { 'pricing.flant.com/nodeType': 'HARD' } },
  'pe-s4': { group: 'metal', annotations: { 'pricing.flant.com/nodeType': 'Special' } },
  'pe-s5': { group: 'metal', annotations: { 'pricing.flant.com/nodeType': 'bogus' } },
  'pe-c1': { group: 'cloudstatic' },
  'pe-ghost': { group: 'no-such-group' },
  'pe-none': {},
};

async function createNode(name: string, n: NodeInput): Promise<void> {
  await apply(
    kc,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: n.group ? { 'node.deckhouse.io/group': n.group } : {}, annotations: n.annotations ?? {} },
      // Not kwok's, so nothing would run there: unschedulable keeps the scheduler off them.
      spec: { unschedulable: true, taints: n.taint ? [{ key: n.taint, effect: 'NoSchedule' }] : [] },
    }),
  );
  const status = {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '3800m', memory: '7Gi', pods: '110' },
    nodeInfo: { kubeletVersion: 'v1.30.14' },
  };
  await kubectlOk(kc, ['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** `flant_pricing_nodes` by type, as the stand-in last received it with the licence as token. */
function shippedNodes(): Record<string, number> {
  return Object.fromEntries([...connect.latest('flant_pricing_nodes', `Bearer ${licence}`).values()].map((s) => [s.labels.type ?? '', s.value]));
}

/** A key of the agent's config Secret, decoded. */
async function configFile(key: string): Promise<string> {
  return Buffer.from(
    await kubectlOk(kc, ['get', 'secret', '-n', ns, 'pricing-agent-config', '-o', `jsonpath={.data.${key.replaceAll('.', '\\.')}}`]),
    'base64',
  ).toString();
}

/** The licence from the agent's licence Secret, in a local token file. */
async function tokenFile(): Promise<string> {
  const file = join(dir, 'license');
  await writeFile(
    file,
    Buffer.from(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'pricing-agent-license', '-o', 'jsonpath={.data.license}']), 'base64'),
  );
  return file;
}

function exporterAddress(): string {
  return `127.0.0.1:${JSON.parse(exporter.messages('serving the pricing metrics')[0] ?? '{}').port as number}`;
}

/** Alloy with the generated Deployment's agent arguments and the generated file, on local addresses and paths. */
async function startAlloy(): Promise<void> {
  const text = (await configFile('config.alloy'))
    .replace('"127.0.0.1:9115"', `"${exporterAddress()}"`)
    .replace('"/etc/pricing-agent/license/license"', `"${await tokenFile()}"`);
  const file = join(dir, 'config.alloy');
  await writeFile(file, text);
  // Our writer prints Alloy's canonical form, and Alloy accepts the file as it is.
  const run = promisify(execFile);
  expect((await run(alloy, ['fmt', file])).stdout).toBe(text);
  await run(alloy, ['validate', file], { env: { ...process.env, POD_NAME: 'pricing-e2e-0' } });
  const args = JSON.parse(
    await kubectlOk(kc, ['get', 'deployment', '-n', ns, 'pricing', '-o', 'jsonpath={.spec.template.spec.containers[?(@.name=="agent")].args}']),
  ) as string[];
  expect(args.at(-1)).toBe('/etc/pricing-agent/config/config.alloy');
  agentPort = await freePort();
  const local = args
    .slice(0, -1)
    .map((a) => a.replace('0.0.0.0:12345', `127.0.0.1:${agentPort}`).replace('=/data/agent', `=${join(dir, 'alloy-data')}`));
  agent = spawn(alloy, [...local, file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'pricing-e2e-0' } });
  agent.stderr?.on('data', (c: Buffer) => (agentLog = (agentLog + c.toString()).slice(-20_000)));
}

async function startPrometheus(): Promise<void> {
  const generated = parse(await configFile('agent-scraping-service.yaml')) as {
    metrics: {
      global: Record<string, unknown>;
      configs: Array<{
        scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
        remote_write: Array<{ bearer_token_file: string }>;
      }>;
    };
  };
  const instance = generated.metrics.configs[0];
  if (!instance) throw new Error('the generated config has no instance');
  const token = await tokenFile();
  for (const job of instance.scrape_configs)
    for (const sc of job.static_configs) sc.targets = sc.targets.map((t) => (t === '127.0.0.1:9115' ? exporterAddress() : t));
  for (const rw of instance.remote_write) rw.bearer_token_file = token;
  // The agent runs with -config.expand-env; Prometheus does not, so expand as the agent would.
  const config = stringify({
    global: generated.metrics.global,
    scrape_configs: instance.scrape_configs,
    remote_write: instance.remote_write,
  }).replaceAll('${POD_NAME}', 'pricing-e2e-0');
  const file = join(dir, 'prometheus.yaml');
  await writeFile(file, config);
  const bins = await ensurePrometheus();
  const check = spawn(bins.promtool, ['check', 'config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let checkOutput = '';
  check.stdout.on('data', (c: Buffer) => (checkOutput += c.toString()));
  check.stderr.on('data', (c: Buffer) => (checkOutput += c.toString()));
  expect(await new Promise((r) => check.on('exit', r)), `promtool check config: ${checkOutput}`).toBe(0);
  const port = await freePort();
  prometheus = spawn(
    bins.prometheus,
    ['--enable-feature=agent', `--config.file=${file}`, `--storage.agent.path=${join(dir, 'wal')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
}

/** The lines of a /metrics page, comments left out. */
async function scrape(address: string): Promise<string[]> {
  return (await (await fetch(`http://${address}/metrics`)).text()).split('\n').filter((l) => l && !l.startsWith('#'));
}

/** Labels and annotations as Deckhouse's ingress-nginx module writes them on its controllers. */
function ingressWorkload(
  kind: 'DaemonSet' | 'Deployment',
  name: string,
  version: string,
  inlet: string,
  extraLabels: Record<string, string> = {},
): string {
  const labels = { heritage: 'deckhouse', module: 'ingress-nginx', app: 'controller', name, ...extraLabels };
  const podLabels = { app: 'controller', name, ...extraLabels };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind,
    metadata: {
      namespace: ingressNamespace,
      name: `controller-${name}${extraLabels['ingress-nginx-failover'] !== undefined ? '-failover' : ''}`,
      labels,
      annotations: { 'ingress-nginx-controller.deckhouse.io/controller-version': version, 'ingress-nginx-controller.deckhouse.io/inlet': inlet },
    },
    spec: {
      ...(kind === 'Deployment' ? { replicas: 2 } : {}),
      selector: { matchLabels: podLabels },
      template: {
        metadata: { labels: podLabels },
        // kwok runs the pods on its fake nodes; nothing is pulled.
        spec: {
          nodeSelector: { type: 'kwok' },
          tolerations: [{ operator: 'Exists' }],
          containers: [{ name: 'controller', image: 'registry.k8s.io/pause:3.9' }],
        },
      },
    },
  });
}

/** The controllers of Deckhouse's ingress-nginx module, as it deploys them. */
async function ingressControllers(): Promise<void> {
  await apply(kc, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ingressNamespace } }));
  await apply(kc, ingressWorkload('DaemonSet', 'main', '1.10', 'LoadBalancer'));
  await apply(kc, ingressWorkload('DaemonSet', 'main', '1.10', 'LoadBalancer', { 'ingress-nginx-failover': '' }));
  await apply(kc, ingressWorkload('Deployment', 'second', '1.9', 'HostPort'));
}

/**
 * A stand-in for the kubelets' cAdvisor and kube-state-metrics, scraped by the real Prometheus:
 * CPU counters that grow at fixed rates, the working-set gauges, and kube_controller_pod joining
 * each pod to its controller. The samples carry their own timestamps, a minute apart from 5
 * minutes ago up to now, so six scrapes fill the 5-minute window the queries read and rate()
 * of these straight lines is exact.
 */
async function startSeries(): Promise<{ address: string; close: () => Promise<void> }> {
  const origin = Date.now() - 5 * 60_000;
  let scrapes = 0;
  const pods = [
    { pod: 'controller-second-a', controller: 'controller-second', type: 'Deployment', cpu: [0.1, 0.1], memory: [60, 40] },
    { pod: 'controller-second-b', controller: 'controller-second', type: 'Deployment', cpu: [0.4], memory: [300] },
    { pod: 'controller-main-x', controller: 'controller-main', type: 'DaemonSet', cpu: [1.5], memory: [64] },
  ];
  const server = createServer((_req, res) => {
    // Six samples a minute apart, the last one now; later scrapes repeat it (Prometheus drops an equal repeat).
    const now = origin + 60_000 * Math.min(scrapes++, 5);
    const seconds = (now - origin) / 1000;
    const out: string[] = [];
    for (const p of pods) {
      const where = `namespace="${ingressNamespace}",pod="${p.pod}"`;
      p.cpu.forEach((rate, i) => out.push(`container_cpu_usage_seconds_total{${where},container="c${i}"} ${rate * seconds} ${now}`));
      p.memory.forEach((mib, i) => out.push(`container_memory_working_set_bytes:without_kmem{${where},container="c${i}"} ${mib * 2 ** 20} ${now}`));
      out.push(`kube_controller_pod{${where},controller_name="${p.controller}",controller_type="${p.type}"} 1 ${now}`);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(`${out.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { address: `127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'metrics-e2e-'));
  await installCRD(kc);
  await kubectlOk(kc, ['apply', '--server-side', '-f', 'e2e/fixtures/crds/nodegroups.deckhouse.io.yaml']);
  await kubectlOk(kc, ['apply', '--server-side', '-f', 'e2e/fixtures/watched/ingressnginxcontrollers.deckhouse.io.yaml']);
  await kubectlOk(kc, ['wait', '--for=condition=Established', 'crd/nodegroups.deckhouse.io', 'crd/ingressnginxcontrollers.deckhouse.io']);
  await connect.start();
  await workloadsNamespace(kc, ns);
  await apply(kc, secret(ns, 'license', { key: licence }));
  const ca = Buffer.from(
    await kubectlOk(kc, ['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}']),
    'base64',
  ).toString('utf8');
  await apply(kc, secret(ns, 'prometheus-ca', { 'ca.crt': ca }));
  clusterUUID = await kubectlOk(kc, ['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}']);
  for (const [name, type] of [
    ['master', 'CloudPermanent'],
    ['spot', 'CloudEphemeral'],
    ['metal', 'Static'],
    ['cloudstatic', 'CloudStatic'],
  ])
    await apply(kc, JSON.stringify(nodeGroup(name ?? '', type ?? '')));
  for (const [name, n] of Object.entries(nodes)) await createNode(name, n);
  await apply(
    kc,
    JSON.stringify({
      apiVersion: 'deckhouse.io/v1',
      kind: 'IngressNginxController',
      metadata: { name: 'main' },
      spec: { inlet: 'LoadBalancer', controllerVersion: '1.10', ingressClass: 'nginx' },
    }),
  );
  ctl = startController(['--sync-period=10m', '--image=flant-integration-controller:e2e']);
  await apply(kc, spec());
  // The exporter runs as the ServiceAccount the controller made, bound by the ClusterRole the controller generated.
  await eventually(
    'the controller made the exporter ServiceAccount and its binding',
    async () =>
      (await kubectl(kc, ['get', 'serviceaccount', '-n', ns, 'pricing'])).code === 0 &&
      (await kubectl(kc, ['get', 'clusterrolebinding', pricingRoleName])).code === 0,
  );
  const exporterKubeconfig = await serviceAccountKubeconfig(kc, ns, 'pricing', join(dir, 'pricing.kubeconfig'));
  exporterKubeconfigFile = exporterKubeconfig;
  await untilAllowed(kc, `system:serviceaccount:${ns}:pricing`, ['list', 'nodes']);
  await untilAllowed(kc, `system:serviceaccount:${ns}:pricing`, ['get', 'secret/pricing-prometheus-ca', '-n', ns]);
  exporter = new ControllerProcess(
    exporterKubeconfig,
    [`--token-file=${join(dir, 'no-token')}`],
    {},
    ['bin/flant-integration.js', 'pricing'],
    ['--listen=127.0.0.1:0', '--probe-listen=0'],
  );
});

afterAll(async () => {
  prometheus?.kill('SIGKILL');
  usagePrometheus?.kill('SIGKILL');
  await usageExporter?.stop('SIGKILL');
  await kubectl(kc, ['delete', 'namespace', ingressNamespace, '--ignore-not-found', '--wait=false']);
  agent?.kill('SIGKILL');
  await Promise.all([ctl?.stop('SIGKILL'), exporter?.stop('SIGKILL')]);
  await kubectl(kc, ['delete', 'node', ...Object.keys(nodes), '--ignore-not-found']);
  await kubectl(kc, ['delete', 'nodegroups', '--all']);
  await kubectl(kc, ['delete', 'ingressnginxcontrollers', '--all']);
  await removeFlantIntegrationAndNamespace(kc, ns);
  await connect.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The metric names the stand-in received. */
function shippedNames(): string[] {
  return [...new Set(connect.remoteWrites.flatMap((w) => w.series.map((s) => s.labels.__name__ ?? '')))];
}

/** The shipped series of each labelled node count, checked for the labels every agent must set and drop. */
function expectShippedLabels(): void {
  for (const s of connect.latest('flant_pricing_nodes', `Bearer ${licence}`).values()) {
    expect(s.labels).toMatchObject({ cluster_uuid: clusterUUID, __replica__: 'pricing-e2e-0', job: 'flant-pricing' });
    expect(s.labels.instance).toBeUndefined();
    expect(s.labels.hook).toBeUndefined();
  }
}

describe('metrics through the real agents', () => {
  it('runs the pricing Deployment and says MetricsShippingReady once it is Available', async () => {
    await eventually('MetricsShippingReady is True', async () => (await condition(kc, 'MetricsShippingReady'))?.status === 'True', 60_000);
    expect(await column(kc, 'METRICS')).toBe('Ready');
    for (const [kind, name] of [
      ['clusterrole', 'flant-integration-pricing'],
      ['clusterrolebinding', 'flant-integration-pricing'],
      ['serviceaccount', `-n=${ns} pricing`],
    ]) {
      expect((await kubectl(kc, ['get', kind ?? '', ...(name ?? '').split(' ')])).code).toBe(0);
    }
  });

  it('reads the Prometheus CA from spec.prometheus.caSecretRef through the Role the controller granted it', async () => {
    await eventually(
      'the first Prometheus queries ran (and failed: nothing listens there)',
      () => exporter.messages('Prometheus queries failed; keeping their last answers').length > 0,
      30_000,
    );
    expect(exporter.lines.join('\n')).not.toContain('Prometheus CA Secret');
    expect(await kubectlOk(kc, ['get', 'role', '-n', ns, '-l', 'integration.flant.com/component=metrics', '-o', 'name'])).not.toBe('');
  });

  it('counts the IngressNginxControllers it watches', async () => {
    await eventually('the exporter is serving', () => exporter.messages('serving the pricing metrics').length > 0, 30_000);
    const port = JSON.parse(exporter.messages('serving the pricing metrics')[0] ?? '{}').port as number;
    const line = 'flant_pricing_ingress_nginx_controllers_count{inlet="LoadBalancer",version="1.10",default="false"} 1';
    await eventually(
      'the exporter counts the controller',
      async () => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes(line),
      30_000,
    );
  });

  it(
    'Alloy, the default agent, delivers exactly the expected node counts, with cluster_uuid, without instance or hook, and the license ' + 'as token',
    async () => {
      await eventually('the exporter is serving', () => exporter.messages('serving the pricing metrics').length > 0, 30_000);
      await startAlloy();
      const expected = { ephemeral: 1, vm: 5, hard: 3, special: 1 };
      await eventually('the stand-in received the node counts', () => JSON.stringify(shippedNodes()) === JSON.stringify(expected), 90_000, 500).catch(
        (err: unknown) => {
          throw new Error(`${String(err)}; Alloy's log ends: ${agentLog.slice(-2000)}`);
        },
      );
      expectShippedLabels();
      expect(
        Object.fromEntries([...connect.latest('flant_pricing_controlplane_tainted_nodes').values()].map((s) => [s.labels.type, s.value])),
      ).toEqual({ ephemeral: 0, vm: 2, hard: 0, special: 0 });
      expect([...connect.latest('flant_pricing_exporter_invalid_annotations_total').values()][0]?.value).toBe(1);
      expect([...connect.latest('flant_pricing_contacts').values()][0]?.value).toBe(2);
      expect(connect.badRemoteWrites).toEqual([]);
      // Alloy relabels the series its scrape adds (up, scrape_*) like the others: only flant_pricing_* leaves.
      expect(shippedNames().filter((n) => !n.startsWith('flant_pricing_'))).toEqual([]);
      // FlantIntegrationMetricsNotDelivered (the alerts component) reads this series of the agent's own metrics.
      const own = await (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
      // The liveness probe of the generated Deployment, answered by the real Alloy.
      expect((await fetch(`http://127.0.0.1:${agentPort}/-/healthy`)).status).toBe(200);
      expect(own).toMatch(/^prometheus_remote_storage_queue_highest_sent_timestamp_seconds\{[^}]*\} [1-9]/m);
    },
  );

  it('follows a change: a node moves group, an annotation changes, the billing spec changes (no pod roll)', async () => {
    await kubectlOk(kc, ['label', 'node', 'pe-e1', 'node.deckhouse.io/group=metal', '--overwrite']);
    await kubectlOk(kc, ['annotate', 'node', 'pe-s4', 'pricing.flant.com/nodeType=Ephemeral', '--overwrite']);
    await apply(kc, spec({ billing: { contacts: 5 } }));
    const expected = { ephemeral: 1, vm: 5, hard: 4, special: 0 };
    await eventually(
      'the stand-in received the new counts',
      () => JSON.stringify(shippedNodes()) === JSON.stringify(expected) && [...connect.latest('flant_pricing_contacts').values()][0]?.value === 5,
      90_000,
      500,
    );
  });

  it(
    'GrafanaAgent: its static-mode file replaces the Alloy one, and its scrape_configs and remote_write deliver the same through ' +
      'Prometheus in agent mode',
    async () => {
      await apply(kc, spec({ billing: { contacts: 5 }, metrics: { scrapeInterval: '10s', agent: 'GrafanaAgent' } }));
      await eventually(
        'the Secret holds the static-mode file only',
        async () =>
          (await kubectlOk(kc, ['get', 'secret', '-n', ns, 'pricing-agent-config', '-o', 'jsonpath={.data}'])).includes(
            'agent-scraping-service.yaml',
          ),
        30_000,
      );
      expect(await kubectlOk(kc, ['get', 'secret', '-n', ns, 'pricing-agent-config', '-o', 'jsonpath={.data}'])).not.toContain('config.alloy');
      agent?.kill('SIGTERM');
      connect.remoteWrites.splice(0);
      await startPrometheus();
      await eventually(
        'the stand-in received the counts from Prometheus',
        () => JSON.stringify(shippedNodes()) === JSON.stringify({ ephemeral: 1, vm: 5, hard: 4, special: 0 }),
        90_000,
        500,
      );
      expectShippedLabels();
      // Beside flant_pricing_*, only the series Prometheus itself adds per target after metric relabeling (up, scrape_*).
      expect(shippedNames().filter((n) => !n.startsWith('flant_pricing_') && n !== 'up' && !n.startsWith('scrape_'))).toEqual([]);
    },
  );

  it("exports the ready pods of Deckhouse's ingress-nginx controllers: a real DaemonSet and Deployment, their pods run by kwok", async () => {
    await ingressControllers();
    const kwokNodes = (await kubectlOk(kc, ['get', 'nodes', '-l', 'type=kwok', '-o', 'name'])).split('\n').filter(Boolean).length;
    const expected = [
      // The IngressNginxController main names 1.10; the DaemonSet runs one ready pod per kwok node (the failover one is left out).
      `flant_pricing_ingress_nginx_controllers_pod_count{inlet="LoadBalancer",version="1.10",default="false"} ${kwokNodes}`,
      // No IngressNginxController names "second": its Deployment's annotation gives the version.
      'flant_pricing_ingress_nginx_controllers_pod_count{inlet="HostPort",version="1.9",default="false"} 2',
    ];
    await eventually(
      'the exporter counts the ready pods',
      async () => {
        const lines = (await scrape(exporterAddress())).filter((l) => l.startsWith('flant_pricing_ingress_nginx_controllers_pod_count'));
        return JSON.stringify(lines.sort()) === JSON.stringify([...expected].sort());
      },
      60_000,
    );
  });

  it("exports each Deckhouse controller's average CPU and memory per pod, as the real Prometheus answers the grouped queries", async () => {
    const series = await startSeries();
    const port = await freePort();
    const config = join(dir, 'prometheus-usage.yaml');
    await writeFile(
      config,
      stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [{ job_name: 'cadvisor-and-ksm', honor_labels: true, static_configs: [{ targets: [series.address] }] }],
      }),
    );
    const bins = await ensurePrometheus();
    usagePrometheus = spawn(
      bins.prometheus,
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
      {
        stdio: 'ignore',
      },
    );
    await apply(kc, spec({ billing: { contacts: 5 }, prometheus: { url: `http://127.0.0.1:${port}` } }));
    // A second exporter that queries every 2 s (the first one waits 20 minutes between queries).
    usageExporter = new ControllerProcess(
      exporterKubeconfigFile,
      [`--token-file=${join(dir, 'no-token')}`],
      {},
      ['bin/flant-integration.js', 'pricing'],
      ['--listen=127.0.0.1:0', '--probe-listen=0', '--query-interval=2s'],
    );
    await eventually('the second exporter is serving', () => usageExporter?.messages('serving the pricing metrics').length === 1, 30_000);
    const address = `127.0.0.1:${JSON.parse(usageExporter.messages('serving the pricing metrics')[0] ?? '{}').port as number}`;
    const value = (lines: string[], prefix: string) =>
      Number(
        lines
          .find((l) => l.startsWith(prefix))
          ?.split(' ')
          .at(-1),
      );
    const cpu = 'flant_pricing_controller_average_cpu_usage_seconds';
    const memory = 'flant_pricing_controller_average_memory_working_set_bytes:without_kmem';
    const second = '{name="controller-second",module="ingress-nginx",kind="Deployment"}';
    const main = '{name="controller-main",module="ingress-nginx",kind="DaemonSet"}';
    let lines: string[] = [];
    await eventually(
      'the exporter exports the usage of both controllers',
      async () => {
        lines = await scrape(address);
        return [cpu + second, cpu + main, memory + second, memory + main].every((p) => lines.some((l) => l.startsWith(p)));
      },
      90_000,
      1000,
    );
    // Pod a's two containers use 0.1 core each, pod b's one 0.4: 0.2 and 0.4 per pod, 0.3 on average; the DaemonSet's pod 1.5.
    // rate() extrapolates a window the samples do not fill yet by the same factor for every series: their ratio is exact.
    expect(value(lines, cpu + second) / value(lines, cpu + main)).toBeCloseTo(0.3 / 1.5, 6);
    expect(value(lines, cpu + main)).toBeGreaterThan(0);
    expect(value(lines, cpu + main)).toBeLessThanOrEqual(1.5 * (1 + 1e-9));
    expect(value(lines, memory + second)).toBe(200 * 2 ** 20);
    expect(value(lines, memory + main)).toBe(64 * 2 ** 20);
    // The failover DaemonSet is a controller too, but Prometheus has no pod of it: it is not exported.
    expect(lines.filter((l) => l.startsWith(cpu)).length).toBe(2);
    await usageExporter.stop('SIGTERM');
    usagePrometheus.kill('SIGTERM');
    await series.close();
    await apply(kc, spec({ billing: { contacts: 5 } }));
  });

  it('removes every metrics object, the ClusterRole and its binding included, and nothing else, when switched off', async () => {
    await apply(kc, spec({ metrics: { enabled: false } }));
    await eventually(
      'the metrics objects are gone',
      async () =>
        (await kubectl(kc, ['get', 'clusterrole', 'flant-integration-pricing'])).code !== 0 &&
        (await kubectl(kc, ['get', 'deployment', '-n', ns, 'pricing'])).code !== 0,
      30_000,
    );
    for (const [kind, name] of [
      ['clusterrolebinding', 'flant-integration-pricing'],
      ['serviceaccount', 'pricing'],
      ['secret', 'pricing-agent-config'],
      ['secret', 'pricing-agent-license'],
    ]) {
      expect((await kubectl(kc, ['get', '-n', ns, kind ?? '', name ?? ''])).code).not.toBe(0);
    }
    expect((await kubectl(kc, ['get', 'secret', '-n', ns, 'license'])).code).toBe(0);
    expect(await condition(kc, 'MetricsShippingReady')).toMatchObject({ status: 'True', reason: 'Disabled' });
    expect(ctl.lines.join('\n') + exporter.lines.join('\n')).not.toContain(licence);
  });
});
