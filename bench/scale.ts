/**
 * `npm run bench -- scale`: the controller and the pricing exporter on the real local control
 * plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) as the cluster
 * grows in steps (BENCH_SCALE_STEPS, default 100,1000,5000 nodes): kwok nodes with 10 pods
 * each (bound to their node, made Running by kwok), and 5,000 Secrets and 5,000 ConfigMaps in
 * namespaces that are none of ours. Both programs run as in production: separate processes of
 * the runtime we ship, each with its own ServiceAccount token and the RBAC the install and
 * the controller generate, the controller with leader election.
 * For each step, once the cluster has settled:
 * - memory of both processes from /proc: RSS and RssAnon at rest, VmHWM and the highest RssAnon sampled;
 * - each one's requests in a window at rest, from kube-apiserver's audit log, by verb; watches
 *   (long-running, logged when they end) and the Lease are counted apart, as the targets say;
 * - a node's group label changed -> the changed `flant_pricing_nodes` on the exporter's /metrics
 *   (polled every 10 ms), BENCH_SCALE_SAMPLES times, the node's group flipping each time;
 * - a spec change (`spec.billing.contacts`) -> `Ready=True` with the new observedGeneration, seen
 *   by one watch, BENCH_SCALE_SAMPLES times.
 * Prints one JSON object. Heap snapshots of both processes at the last step when
 * BENCH_SCALE_HEAP=1 (written beside the results, summarised by bench/heap.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ControlPlane, kwokNodeAnnotation } from '../e2e/controlplane/controlplane.js';
import { ensureKubectl } from '../e2e/controlplane/binaries.js';
import { freePort } from '../e2e/controlplane/process.js';
import { ensureAlloy } from '../e2e/alloy/build.js';
import { FakeConnect } from '../e2e/fakes/connect.js';
import { FakeDNS } from '../e2e/fakes/dns.js';
import { installSamples } from '../e2e/embedded.js';
import { controllerKubeconfig, serviceAccountKubeconfig, untilAllowed } from '../e2e/support/credentials.js';
import { loadKubeConfig } from '../src/cmd/cluster.js';
import { nodeRuntimeEnv } from '../src/components/workloads.js';
import { nodeGroupLabel } from '../src/pricing/rules.js';
import { kubeClient, type KubeClient } from '../src/reconciler/index.js';
import { procMemory, sampleAnonPeak } from './proc.js';
import { percentile } from './stats.js';

const licence = 'scale-bench-licence';
const workloads = 'd8-flant-integration';
const podsPerNode = 10;
const builtinNodes = 2;
/**
 * kwok's node Lease, renewed every quarter of it: 20 minutes here, where a kubelet's is 40 s.
 * 5,000 nodes renewing every 10 s are 500 writes/s, which would take this 2-core machine's API
 * server from everything else; a real control plane serves them on machines of its own.
 * Stretched, they are 4 writes/s at 5,000 nodes.
 */
const nodeLeaseSeconds = Number(process.env.BENCH_SCALE_NODE_LEASE_SECONDS ?? 1200);
/**
 * How often each node's status is rewritten, as a kubelet's nodeStatusReportFrequency (5 min).
 * kwok's own stage rewrites it every 20-45 s when Leases are on: 59 writes/s at 1,000 nodes,
 * 1.2 cores of the API server, measured.
 */
const nodeStatusSeconds = Number(process.env.BENCH_SCALE_NODE_STATUS_SECONDS ?? 300);
/** The controller's sync period and Madison key check in the bench: a window at rest (60 s) holds two of each. */
const periodicSeconds = 30;
const unrelatedObjects = 5000;
const unrelatedNamespaces = 50;
const podNamespaces = 10;
const controllerUser = 'system:serviceaccount:flant-integration-system:flant-integration-controller';
const exporterUser = `system:serviceaccount:${workloads}:pricing`;
const fiPath = '/apis/integration.flant.com/v1alpha1/flantintegrations';
/** NodeGroups the nodes belong to: a node moved between them changes `flant_pricing_nodes{type}`. */
const groups = { ephemeral: 'CloudEphemeral', permanent: 'CloudPermanent' } as const;

/** One step's figures. */
export interface StepResult {
  readonly nodes: number;
  readonly pods: number;
  readonly createSeconds: number;
  readonly settleSeconds: number;
  readonly controller: MemoryFigures;
  readonly exporter: MemoryFigures;
  /** The metrics agent (Grafana Alloy) on the generated config, scraping the exporter. */
  readonly agent: MemoryFigures;
  readonly rest: {
    readonly seconds: number;
    readonly controller: RestRequests;
    readonly exporter: RestRequests;
    /** The controller's reconciles in the window (its periodic ones: the sync period and the Madison key check). */
    readonly reconciles: number;
  };
  /** Cores used at rest by each process (seconds of CPU per second). */
  readonly cpuAtRest: Record<string, number>;
  /** What the API server served at rest, from everyone (kwok's node Leases included): the six largest, per second. */
  readonly servedAtRest: Record<string, number>;
  readonly labelToMetricMs: Latency;
  readonly specToReadyMs: Latency;
  /** The controller's requests per spec change, by verb, and its CPU time per change. */
  readonly perSpecChange: { readonly requests: number; readonly byVerb: Record<string, number>; readonly controllerCpuMs: number };
}

interface MemoryFigures {
  readonly rssMiB: number;
  readonly anonMiB: number;
  readonly peakRssMiB: number;
  readonly peakAnonMiB: number;
}

/** A user's requests in a window at rest, as the targets count them. */
type RestRequests = Omit<AuditCounts, 'counted'> & {
  /** Requests other than watches and the Lease, per minute. */
  readonly perMinute: number;
};

interface Latency {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function latency(values: readonly number[]): Latency {
  return { p50: percentile(values, 0.5), p95: percentile(values, 0.95), p99: percentile(values, 0.99), max: Math.max(...values), n: values.length };
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`scale bench: timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs `make(i)` for i in [from, to) with `concurrency` requests in flight. */
async function inParallel(from: number, to: number, concurrency: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) await make(next++);
    }),
  );
}

function create(client: KubeClient, path: string, body: Record<string, unknown>): Promise<unknown> {
  return client.request('POST', path, { body }).catch((err: unknown) => {
    if ((err as { code?: number }).code === 409) return undefined;
    throw err;
  });
}

const nodeName = (i: number) => `scale-node-${i}`;

function node(i: number): Record<string, unknown> {
  const name = nodeName(i);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [kwokNodeAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        [nodeGroupLabel]: i % 2 === 0 ? 'ephemeral' : 'permanent',
      },
    },
    status: { allocatable: { cpu: '32', memory: '256Gi', pods: '110' }, capacity: { cpu: '32', memory: '256Gi', pods: '110' } },
  };
}

function pod(nodeIndex: number, k: number): [string, Record<string, unknown>] {
  const namespace = `scale-pods-${nodeIndex % podNamespaces}`;
  return [
    `/api/v1/namespaces/${namespace}/pods`,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `app-${nodeIndex}-${k}`, namespace, labels: { app: `app-${k}` } },
      spec: { nodeName: nodeName(nodeIndex), containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
    },
  ];
}

/** The audit log from `offset` on: requests of `user`, split as the targets count them. */
async function auditSince(path: string, offset: number): Promise<{ text: string; end: number }> {
  const end = (await stat(path)).size;
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - offset);
    await file.read(buffer, 0, buffer.length, offset);
    return { text: buffer.toString('utf8'), end };
  } finally {
    await file.close();
  }
}

/** What a user asked in an audit log excerpt: watches and the Lease apart, the rest by verb. */
interface AuditCounts {
  /** Requests other than watches and the Lease. */
  readonly counted: number;
  /** Requests that change what is stored (an access review's create does not). */
  readonly writes: number;
  readonly byVerb: Record<string, number>;
  /** The same requests by verb, resource and object (`get services d8-system/deckhouse`). */
  readonly byObject: Record<string, number>;
  /** Lease requests (leader election). */
  readonly lease: number;
  /** Watches that ended (and were re-opened). */
  readonly watches: number;
}

/** What `user` asked in an audit log excerpt: watches and the Lease apart, the rest by verb. */
function auditCounts(text: string, user: string): AuditCounts {
  const byVerb: Record<string, number> = {};
  const byObject: Record<string, number> = {};
  let lease = 0;
  let watches = 0;
  let writes = 0;
  let counted = 0;
  for (const line of text.split('\n')) {
    if (!line.includes(`"username":"${user}"`)) continue;
    const e = JSON.parse(line) as { verb: string; stage?: string; objectRef?: { resource?: string; namespace?: string; name?: string } };
    if (e.stage === 'RequestReceived') continue;
    if (e.verb === 'watch') {
      watches++;
      continue;
    }
    if (e.objectRef?.resource === 'leases') {
      lease++;
      continue;
    }
    counted++;
    byVerb[e.verb] = (byVerb[e.verb] ?? 0) + 1;
    const ref = e.objectRef;
    const object = `${e.verb} ${ref?.resource ?? '(no resource)'} ${[ref?.namespace, ref?.name].filter(Boolean).join('/')}`.trim();
    byObject[object] = (byObject[object] ?? 0) + 1;
    // An access review is a create that stores nothing: asked, not written.
    if (['create', 'update', 'patch', 'delete', 'deletecollection'].includes(e.verb) && !e.objectRef?.resource?.endsWith('reviews')) writes++;
  }
  return { counted, writes, byVerb, byObject, lease, watches };
}

/** `user`'s requests in a window of `seconds` at rest, as the targets count them. */
function restRequests(text: string, user: string, seconds: number): RestRequests {
  const { counted, writes, byVerb, byObject, lease, watches } = auditCounts(text, user);
  return { perMinute: (counted * 60) / seconds, writes, byVerb, byObject, lease, watches };
}

/** Resolves when a new `.heapsnapshot` in `dir` has stopped growing (Node writes it in pieces). */
async function newHeapSnapshot(dir: string, known: ReadonlySet<string>, what: string): Promise<string> {
  let file: string | undefined;
  await until(what, async () => (file = (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !known.has(f))) !== undefined, 120_000, 500);
  const path = join(dir, file!);
  let size = -1;
  await until(
    `${what} is complete`,
    async () => {
      const now = (await stat(path)).size;
      const stable = now > 0 && now === size;
      size = now;
      return stable;
    },
    120_000,
    1000,
  );
  return path;
}

/** A process of ours: the runtime we ship, stderr and stdout kept for the ports it logs. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; lines: string[] } {
  const lines: string[] = [];
  const child = spawn(process.execPath, ['bin/flant-integration.js', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const collect = (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return { child, lines };
}

export async function scaleBench(options: {
  steps: number[];
  samples: number;
  restSeconds: number;
  heapDir?: string;
  /** Keep the control plane's data folder (its logs and audit log) after the run. */
  keepData?: boolean;
}): Promise<Record<string, unknown>> {
  const kubectl = await ensureKubectl();
  process.env.E2E_KUBECTL = kubectl;
  if (options.heapDir) await mkdir(options.heapDir, { recursive: true });
  // A heap snapshot on SIGUSR2, into heapDir, when asked for; nothing else differs from production.
  // What the Deployments set (nodeRuntimeEnv), and the heap snapshot signal when asked.
  const runtime = Object.fromEntries(nodeRuntimeEnv.map((e) => [e.name, e.value]));
  const heapEnv: NodeJS.ProcessEnv = {
    ...runtime,
    NODE_OPTIONS: [runtime.NODE_OPTIONS, ...(options.heapDir ? [`--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${options.heapDir}`] : [])].join(' '),
  };
  const connect = new FakeConnect(licence);
  const dns = new FakeDNS();
  dns.setA('madison-direct.local', ['192.0.2.10', '192.0.2.11']);
  const [connectURL, dnsServer] = await Promise.all([connect.start(), dns.start()]);
  // Two kwok nodes of the control plane's own (no NodeGroup) for the workloads to start on; the steps add the rest.
  const plane = await ControlPlane.start({
    nodes: builtinNodes,
    kwokParallelism: 32,
    nodeLeaseSeconds,
    nodeStatusSeconds,
    keepData: options.keepData,
  });
  if (options.keepData) process.stderr.write(`scale bench: the control plane's data stays in ${plane.dir}\n`);
  const children: ChildProcess[] = [];
  const watching = new AbortController();
  try {
    const kc = plane.kubeconfigPath;
    const admin = await kubeClient(loadKubeConfig({ kubeconfig: kc, inCluster: false }));
    await installSamples(admin, {
      connect: { url: connectURL },
      madison: { backendsHost: 'madison-direct.local' },
      metrics: { scrapeInterval: '30s' },
    });
    await admin.request('PUT', `/api/v1/namespaces/${workloads}/secrets/flant-license`, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'flant-license', namespace: workloads }, stringData: { 'license-key': licence } },
    });
    for (const [name, nodeType] of Object.entries(groups)) {
      await create(admin, '/apis/deckhouse.io/v1/nodegroups', {
        apiVersion: 'deckhouse.io/v1',
        kind: 'NodeGroup',
        metadata: { name },
        spec: { nodeType },
      });
    }
    for (let i = 0; i < Math.max(podNamespaces, unrelatedNamespaces); i++) {
      for (const name of [...(i < podNamespaces ? [`scale-pods-${i}`] : []), ...(i < unrelatedNamespaces ? [`scale-other-${i}`] : [])]) {
        await create(admin, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      }
    }
    // Unrelated objects, in namespaces of nobody's: neither program may cache them.
    await inParallel(0, unrelatedObjects, 32, async (i) => {
      const namespace = `scale-other-${i % unrelatedNamespaces}`;
      const metadata = { name: `other-${i}`, namespace, labels: { app: 'unrelated' } };
      await create(admin, `/api/v1/namespaces/${namespace}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata,
        data: { token: Buffer.from(`value-${i}`).toString('base64') },
      });
      await create(admin, `/api/v1/namespaces/${namespace}/configmaps`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata,
        data: { config: `value ${i}\n`.repeat(8) },
      });
    });

    const auditPath = join(plane.dir, 'logs', 'audit.log');
    const ckc = await controllerKubeconfig(kc, join(plane.dir, 'controller.kubeconfig'));
    const controllerMetrics = await freePort();
    /** How many reconciles the controller has run, from its /metrics. */
    const reconciles = async () =>
      (await (await fetch(`http://127.0.0.1:${controllerMetrics}/metrics`)).text())
        .split('\n')
        .filter((line) => line.startsWith('controller_runtime_reconcile_total{'))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    const controller = start(
      [
        'run',
        '--leader-elect',
        `--kubeconfig=${ckc}`,
        `--dns-server=${dnsServer}`,
        `--metrics-bind-address=127.0.0.1:${controllerMetrics}`,
        '--health-probe-bind-address=127.0.0.1:0',
        // Each window at rest holds periodic reconciles of both kinds (production: 10 min and 5 min),
        // so what they cost is counted, not missed; the figure is a bound for the longer periods.
        `--sync-period=${periodicSeconds}s`,
        `--madison-status-check-interval=${periodicSeconds}s`,
        '--image=flant-integration-controller:bench',
        '--log-level=warn',
      ],
      { ...heapEnv, POD_NAMESPACE: 'flant-integration-system', POD_NAME: 'flant-integration-controller-bench' },
    );
    children.push(controller.child);

    // The FlantIntegration as one watch sees it: stamped on arrival.
    let fiState = { generation: 0, observed: 0, ready: false, at: 0 };
    const seen: Array<typeof fiState> = [];
    void (async () => {
      while (!watching.signal.aborted) {
        await admin
          .watch(
            fiPath,
            { allowWatchBookmarks: true },
            (e) => {
              if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
              const o = e.object as {
                metadata?: { generation?: number };
                status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> };
              };
              fiState = {
                generation: o.metadata?.generation ?? 0,
                observed: o.status?.observedGeneration ?? 0,
                ready: o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
                at: performance.now(),
              };
              seen.push(fiState);
            },
            watching.signal,
          )
          .catch(() => sleep(200));
      }
    })();
    await until('the sample FlantIntegration is Ready', () => fiState.ready && fiState.observed === fiState.generation, 180_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}; last seen: ${JSON.stringify(fiState)}; controller: ${controller.lines.slice(-5).join(' | ')}`);
      },
    );

    // The exporter: the ServiceAccount and ClusterRole binding the controller made.
    await until(
      'the controller made the exporter ServiceAccount',
      async () =>
        await admin.request('GET', `/api/v1/namespaces/${workloads}/serviceaccounts/pricing`).then(
          () => true,
          () => false,
        ),
      60_000,
    );
    const ekc = await serviceAccountKubeconfig(kc, workloads, 'pricing', join(plane.dir, 'pricing.kubeconfig'));
    await untilAllowed(kc, exporterUser, ['list', 'nodes']);
    const exporter = start(
      ['pricing', `--kubeconfig=${ekc}`, '--listen=127.0.0.1:0', '--probe-listen=0', `--token-file=${join(plane.dir, 'no-prometheus-token')}`],
      heapEnv,
    );
    children.push(exporter.child);
    let metricsURL = '';
    await until(
      'the exporter serves /metrics',
      () => {
        const line = exporter.lines.find((l) => l.includes('"msg":"serving the pricing metrics"'));
        if (line) metricsURL = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/metrics`;
        return metricsURL !== '';
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; the exporter said: ${exporter.lines.slice(-5).join(' | ')}`);
    });
    // The metrics agent: the generated config and arguments, on local addresses and paths.
    const alloy = await ensureAlloy();
    const agentSecret = await admin.request<{ data: Record<string, string> }>('GET', `/api/v1/namespaces/${workloads}/secrets/pricing-agent-config`);
    await writeFile(join(plane.dir, 'license'), licence);
    const agentConfig = join(plane.dir, 'config.alloy');
    await writeFile(
      agentConfig,
      Buffer.from(agentSecret.data['config.alloy'] ?? '', 'base64')
        .toString()
        .replace('"127.0.0.1:9115"', `"${new URL(metricsURL).host}"`)
        .replace('"/etc/pricing-agent/license/license"', `"${join(plane.dir, 'license')}"`),
    );
    const deployment = await admin.request<{ spec: { template: { spec: { containers: Array<{ name: string; args?: string[] }> } } } }>(
      'GET',
      `/apis/apps/v1/namespaces/${workloads}/deployments/pricing`,
    );
    const agentArgs = deployment.spec.template.spec.containers.find((c) => c.name === 'agent')?.args ?? [];
    const agentPort = await freePort();
    const agent = spawn(
      alloy,
      [
        ...agentArgs
          .slice(0, -1)
          .map((a) => a.replace('0.0.0.0:12345', `127.0.0.1:${agentPort}`).replace('=/data/agent', `=${join(plane.dir, 'alloy-data')}`)),
        agentConfig,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, POD_NAME: 'pricing-bench-0' } },
    );
    let agentLog = '';
    agent.stderr.on('data', (c: Buffer) => (agentLog = (agentLog + c.toString()).slice(-4000)));
    children.push(agent);
    await until(
      'the agent shipped the pricing series to Connect',
      () => connect.latest('flant_pricing_nodes', `Bearer ${licence}`).size > 0,
      120_000,
      500,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; the agent said: ${agentLog}`);
    });
    const pricingNodes = async () => {
      const text = await fetch(metricsURL).then((r) => r.text());
      return text
        .split('\n')
        .filter((l) => l.startsWith('flant_pricing_nodes{'))
        .sort()
        .join('\n');
    };
    const totalNodes = (text: string) => text.split('\n').reduce((sum, l) => sum + Number(l.split(' ').at(-1) ?? 0), 0);

    const processes = () => ({ controller: controller.child.pid ?? 0, exporter: exporter.child.pid ?? 0 });
    const steps: StepResult[] = [];
    let nodes = builtinNodes;
    let firstNodeGroup = 'ephemeral';
    let contacts = 2;
    for (const target of options.steps) {
      const controllerPeak = sampleAnonPeak(controller.child.pid ?? 0);
      const exporterPeak = sampleAnonPeak(exporter.child.pid ?? 0);
      const agentPeak = sampleAnonPeak(agent.pid ?? 0);
      process.stderr.write(`scale bench: growing to ${target} nodes and ${target * podsPerNode} pods...\n`);
      const createStarted = performance.now();
      await inParallel(nodes, target, 32, (i) => create(admin, '/api/v1/nodes', node(i)));
      await inParallel(nodes * podsPerNode, target * podsPerNode, 48, (j) => {
        if (j < builtinNodes * podsPerNode) return Promise.resolve();
        const [path, body] = pod(Math.floor(j / podsPerNode), j % podsPerNode);
        return create(admin, path, body);
      });
      const createSeconds = (performance.now() - createStarted) / 1000;
      nodes = target;
      const settleStarted = performance.now();
      // The control plane's own two nodes are in no NodeGroup: pricing does not count them.
      await until(
        `the exporter counts ${target - builtinNodes} nodes`,
        async () => totalNodes(await pricingNodes()) === target - builtinNodes,
        300_000,
        500,
      );
      await until(
        'kwok made every pod Running',
        async () =>
          (await admin.request<{ items: unknown[] }>('GET', '/api/v1/pods', { query: { fieldSelector: 'status.phase=Pending', limit: 1 } })).items
            .length === 0,
        600_000,
        2000,
      );
      // Node Ready conditions, pod statuses and the controller's own resync settle.
      await sleep(15_000);
      const settleSeconds = (performance.now() - settleStarted) / 1000;

      process.stderr.write(`scale bench: ${target} nodes: ${options.restSeconds} s at rest...\n`);
      const restStart = (await stat(auditPath)).size;
      const cpuBefore = await cpuSeconds(processes());
      const servedBefore = servedRequests(await plane.apiGet('/metrics'));
      const reconcilesBefore = await reconciles();
      const restStarted = performance.now();
      await sleep(options.restSeconds * 1000);
      const { text } = await auditSince(auditPath, restStart);
      const restSeconds = (performance.now() - restStarted) / 1000;
      const cpuAfter = await cpuSeconds(processes());
      const servedAfter = servedRequests(await plane.apiGet('/metrics'));
      const servedAtRest = Object.fromEntries(
        [...servedAfter]
          .map(([k, v]) => [k, (v - (servedBefore.get(k) ?? 0)) / restSeconds] as const)
          .filter(([, perSecond]) => perSecond > 0)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6),
      );
      const cpuAtRest = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, (v - (cpuBefore[k] ?? 0)) / restSeconds]));
      const cm = procMemory(controller.child.pid ?? 0);
      const em = procMemory(exporter.child.pid ?? 0);
      const am = procMemory(agent.pid ?? 0);
      const rest = {
        seconds: restSeconds,
        controller: restRequests(text, controllerUser, restSeconds),
        exporter: restRequests(text, exporterUser, restSeconds),
        reconciles: (await reconciles()) - reconcilesBefore,
      };

      process.stderr.write(`scale bench: ${target} nodes: label -> metric and spec -> Ready, ${options.samples} times each...\n`);
      const labelTimes: number[] = [];
      for (let s = 0; s < options.samples; s++) {
        const before = await pricingNodes();
        // The first scale node moves to the other NodeGroup each time.
        firstNodeGroup = firstNodeGroup === 'ephemeral' ? 'permanent' : 'ephemeral';
        const started = performance.now();
        await admin.request('PATCH', `/api/v1/nodes/${nodeName(builtinNodes)}`, {
          body: { metadata: { labels: { [nodeGroupLabel]: firstNodeGroup } } },
          contentType: 'application/merge-patch+json',
        });
        await until('the label change is on /metrics', async () => (await pricingNodes()) !== before, 30_000, 10);
        labelTimes.push(performance.now() - started);
      }
      const specTimes: number[] = [];
      const specAudit = (await stat(auditPath)).size;
      const specCpu = (await cpuSeconds(processes())).controller ?? 0;
      for (let s = 0; s < options.samples; s++) {
        const patched = await admin.request<{ metadata: { generation: number } }>('PATCH', `${fiPath}/default`, {
          body: { spec: { billing: { contacts: ++contacts } } },
          contentType: 'application/merge-patch+json',
        });
        const started = performance.now();
        const generation = patched.metadata.generation;
        await until(`Ready=True at generation ${generation}`, () => fiState.observed >= generation && fiState.ready, 60_000, 5);
        const ready = seen.find((x) => x.observed >= generation && x.ready);
        specTimes.push((ready?.at ?? performance.now()) - started);
      }
      const specUses = auditCounts((await auditSince(auditPath, specAudit)).text, controllerUser);
      const specCpuMs = (((await cpuSeconds(processes())).controller ?? 0) - specCpu) * 1000;
      const perVerb = Object.fromEntries(Object.entries(specUses.byVerb).map(([verb, n]) => [verb, n / options.samples]));
      const step: StepResult = {
        nodes: target,
        pods: (target - builtinNodes) * podsPerNode,
        createSeconds,
        settleSeconds,
        controller: {
          rssMiB: cm.rssMiB,
          anonMiB: cm.anonMiB,
          peakRssMiB: procMemory(controller.child.pid ?? 0).peakMiB,
          peakAnonMiB: controllerPeak(),
        },
        exporter: { rssMiB: em.rssMiB, anonMiB: em.anonMiB, peakRssMiB: procMemory(exporter.child.pid ?? 0).peakMiB, peakAnonMiB: exporterPeak() },
        agent: { rssMiB: am.rssMiB, anonMiB: am.anonMiB, peakRssMiB: procMemory(agent.pid ?? 0).peakMiB, peakAnonMiB: agentPeak() },
        perSpecChange: {
          requests: Object.values(specUses.byVerb).reduce((a, b) => a + b, 0) / options.samples,
          byVerb: perVerb,
          controllerCpuMs: specCpuMs / options.samples,
        },
        rest,
        cpuAtRest,
        servedAtRest,
        labelToMetricMs: latency(labelTimes),
        specToReadyMs: latency(specTimes),
      };
      steps.push(step);
      process.stderr.write(`scale bench: ${JSON.stringify(step)}\n`);
    }
    if (options.heapDir) {
      const dir = options.heapDir;
      for (const [name, child] of [
        ['controller', controller.child],
        ['exporter', exporter.child],
      ] as const) {
        const known = new Set(await readdir(dir));
        child.kill('SIGUSR2');
        const path = await newHeapSnapshot(dir, known, `the ${name}'s heap snapshot`);
        process.stderr.write(`scale bench: the ${name}'s heap snapshot is ${path}\n`);
      }
    }
    return { steps, podsPerNode, unrelatedSecrets: unrelatedObjects, unrelatedConfigMaps: unrelatedObjects, samples: options.samples };
  } finally {
    watching.abort();
    for (const c of children) c.kill('SIGKILL');
    await plane.stop();
    await Promise.all([connect.stop(), dns.stop()]);
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const steps = (process.env.BENCH_SCALE_STEPS ?? '100,1000,5000').split(',').map(Number);
  const result = await scaleBench({
    steps,
    samples: Number(process.env.BENCH_SCALE_SAMPLES ?? 30),
    restSeconds: Number(process.env.BENCH_SCALE_REST_SECONDS ?? 60),
    heapDir: process.env.BENCH_SCALE_HEAP_DIR,
    keepData: process.env.BENCH_SCALE_KEEP_DATA === '1',
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** CPU seconds (user + system) of `pids` and of the control plane's processes (found by name in /proc). */
async function cpuSeconds(pids: Record<string, number>): Promise<Record<string, number>> {
  const { readFile, readdir } = await import('node:fs/promises');
  const names = ['etcd', 'kube-apiserver', 'kube-controller', 'kube-scheduler', 'kwok'];
  const all: Record<string, number> = {};
  const ticks = async (pid: string) => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), seconds: (Number(rest[11] ?? 0) + Number(rest[12] ?? 0)) / 100 };
  };
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const { comm, seconds } = await ticks(pid);
    const name = names.find((n) => comm.startsWith(n));
    if (name) all[name] = (all[name] ?? 0) + seconds;
  }
  for (const [name, pid] of Object.entries(pids)) all[name] = (await ticks(String(pid))).seconds;
  return all;
}

/** kube-apiserver's apiserver_request_total by verb and resource (summed over the other labels). */
function servedRequests(metrics: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string) => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
    totals.set(key, (totals.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return totals;
}
