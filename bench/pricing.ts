/**
 * The pricing exporter at scale: a synthetic cluster of 10,000 Nodes in 200 NodeGroups,
 * fed to the handlers the exporter's informers call (PricingState) and scraped through its
 * registry, with no API server. Printed, never asserted. Run in a process of its own so its
 * RSS is the exporter's: `node --expose-gc dist/bench/pricing.js`.
 *
 * Baseline, measured the same way in the same run: recounting every node on each event (what
 * Deckhouse's hook did), over the first 200 of the same events. RSS is read after the exporter's
 * part and before the baseline's.
 */
import { performance } from 'node:perf_hooks';
import { flantIntegrationSpecSchema } from '../src/api/index.js';
import { pricingRegistry, type ExporterView } from '../src/pricing/metrics.js';
import { QueryResults } from '../src/pricing/prometheus.js';
import { PricingState, type NodeGroupObject, type NodeObject } from '../src/pricing/state.js';
import { median, percentile } from './stats.js';

const groupCount = 200;
const nodeCount = 10_000;
const eventCount = 10_000;
const groupTypes = ['CloudEphemeral', 'CloudPermanent', 'CloudStatic', 'Static'];
const annotations = [undefined, undefined, undefined, 'VM', 'hard', 'Special', 'bogus'];

function group(i: number, typeShift = 0): NodeGroupObject {
  return {
    metadata: { name: i === 0 ? 'master' : `ng-${i}` },
    spec: { nodeType: groupTypes[(i + typeShift) % groupTypes.length] },
    status: { nodes: 50, upToDate: 50 },
  };
}

function node(i: number, variant = 0): NodeObject {
  const g = (i + variant) % groupCount;
  const annotation = annotations[(i + variant) % annotations.length];
  return {
    metadata: {
      name: `node-${i}`,
      labels: { 'node.deckhouse.io/group': g === 0 ? 'master' : `ng-${g}` },
      annotations: {
        ...(annotation ? { 'pricing.flant.com/nodeType': annotation } : {}),
        ...(i % 3 === 0 ? { 'node.deckhouse.io/virtualization': 'kvm' } : {}),
      },
    },
    spec: { taints: g === 0 ? [{ key: 'node-role.kubernetes.io/control-plane' }] : [] },
    status: {
      capacity: { cpu: '8', memory: '32Gi' },
      allocatable: { cpu: '7800m', memory: '31Gi' },
      nodeInfo: { kubeletVersion: `v1.30.${i % 15}` },
    },
  };
}

/** One event of the stream: mostly node updates (annotation or group moves), one in 50 a NodeGroup update. */
function event(k: number): { kind: 'node'; obj: NodeObject } | { kind: 'group'; obj: NodeGroupObject } {
  return k % 50 === 0 ? { kind: 'group', obj: group(k % groupCount, k) } : { kind: 'node', obj: node((k * 7919) % nodeCount, k) };
}

function timeEvents(apply: (e: ReturnType<typeof event>) => void, count: number): { p50: number; p99: number } {
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    const e = event(k);
    const t = performance.now();
    apply(e);
    times.push(performance.now() - t);
  }
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

function build(): PricingState {
  const state = new PricingState();
  for (let i = 0; i < groupCount; i++) state.upsertGroup(group(i));
  for (let i = 0; i < nodeCount; i++) state.upsertNode(node(i));
  return state;
}

async function main(): Promise<void> {
  const started = performance.now();
  const state = build();
  const buildMs = performance.now() - started;

  const incremental = timeEvents((e) => (e.kind === 'node' ? state.upsertNode(e.obj) : state.upsertGroup(e.obj)), eventCount);

  const view: ExporterView = {
    state,
    spec: () => flantIntegrationSpecSchema.parse({ kubeall: { host: 'm0' } }),
    cluster: {
      releaseChannel: 'Stable',
      bundle: 'Default',
      cloudProvider: 'openstack',
      cloudLayout: 'Standard',
      controlPlaneVersion: '1.30',
      deckhouseVersion: 'v1.68',
      terraformInUse: true,
    },
    queries: new QueryResults(),
    ingressControllers: () => [],
    deckhouseControllers: () => [],
    ingressPods: () => [],
  };
  const registry = pricingRegistry(view);
  const expositions: number[] = [];
  let size = 0;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    size = (await registry.metrics()).length;
    expositions.push(performance.now() - t);
  }
  globalThis.gc?.();
  const memory = process.memoryUsage();

  // Baseline: every event recounts the whole cluster from the cached objects.
  const nodes = new Map<string, NodeObject>(Array.from({ length: nodeCount }, (_, i) => [`node-${i}`, node(i)]));
  const groups = new Map<string, NodeGroupObject>(Array.from({ length: groupCount }, (_, i) => [group(i).metadata?.name ?? '', group(i)]));
  const recount = () => {
    const s = new PricingState();
    for (const g of groups.values()) s.upsertGroup(g);
    for (const n of nodes.values()) s.upsertNode(n);
  };
  const baselineEvents = 200;
  const baseline = timeEvents((e) => {
    if (e.kind === 'node') nodes.set(e.obj.metadata?.name ?? '', e.obj);
    else groups.set(e.obj.metadata?.name ?? '', e.obj);
    recount();
  }, baselineEvents);

  const result = {
    nodes: nodeCount,
    nodeGroups: groupCount,
    buildMs,
    eventP50Ms: incremental.p50,
    eventP99Ms: incremental.p99,
    baselineEventP50Ms: baseline.p50,
    baselineEventP99Ms: baseline.p99,
    baselineEvents,
    expositionMedianMs: median(expositions),
    expositionBytes: size,
    rssMiB: memory.rss / 2 ** 20,
    heapMiB: memory.heapUsed / 2 ** 20,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
