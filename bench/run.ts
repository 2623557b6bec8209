/**
 * `npm run bench`: the project's performance record, printed as a table against the targets
 * and written to bench/results/<date>.json with the machine it ran on. Never asserted.
 * - work queue, status computation, informer cache memory (in this process);
 * - the pricing exporter at 10,000 nodes in 200 NodeGroups (bench/pricing.ts, own process);
 * - cold start of `crd` and `render` against a bare `node -e 0`, taking turns, median of 12, peak RSS;
 * - madison-proxy under load (bench/proxy.ts): proxy pinned to core 0, hey and the stand-in on core 1;
 * - convergence on the local control plane, 20 runs, and idle writes (bench/convergence.ts);
 * - the image (bench/image.ts): its size, and container start to /readyz beside a plain process.
 * The pricing, cold-start and proxy figures are measured on Node 24 (the runtime we ship) and,
 * in the same run, on the machine's Node 20 (`BENCH_BASELINE_NODE`, else the first Node 20 on
 * PATH outside node_modules) for comparison; the controller needs Node 22+ (client-node 2.x),
 * so convergence is Node 24 only.
 * `-- scale` runs the scale bench instead (bench/scale-report.ts): thousands of kwok nodes on the local control plane.
 * `-- --all` makes the idle window 10 minutes (default 20 s) and the load phases 30 s (default 10 s).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildStatus, canonical, licenceCondition } from '../src/flantintegration/status.js';
import { defaultControllerRateLimiter } from '../src/reconciler/ratelimiter.js';
import { WorkQueue } from '../src/reconciler/queue.js';
import { median } from './stats.js';
import { realClock } from '../src/reconciler/clock.js';

async function queueThroughput(): Promise<string> {
  const q = new WorkQueue(realClock, defaultControllerRateLimiter(realClock));
  const keys = Array.from({ length: 10_000 }, (_, i) => `ns/key-${i}`);
  const started = performance.now();
  for (let round = 0; round < 10; round++) for (const k of keys) q.add(k);
  let processed = 0;
  while (q.len() > 0) {
    const key = await q.get();
    if (key === undefined) break;
    q.done(key);
    processed++;
  }
  const seconds = (performance.now() - started) / 1000;
  return (
    `work queue: 100000 adds, ${processed} keys processed (dedup) in ${(seconds * 1000).toFixed(1)} ms = ` + `${Math.round(100_000 / seconds)} adds/s`
  );
}

function statusThroughput(): string {
  const licence = licenceCondition({ found: true, key: 'k', source: 'Secret a/b, key "c"' });
  let current = buildStatus({ current: undefined, generation: 1, clusterUUID: 'u', conditions: [licence], parts: [], now: '2026-01-01T00:00:00Z' });
  const n = 50_000;
  const started = performance.now();
  let writes = 0;
  for (let i = 0; i < n; i++) {
    const next = buildStatus({ current, generation: 1, clusterUUID: 'u', conditions: [licence], parts: [], now: '2026-01-01T00:00:01Z' });
    if (canonical(next) !== canonical(current)) writes++;
    current = next;
  }
  const seconds = (performance.now() - started) / 1000;
  return `status: ${n} resync status computations in ${(seconds * 1000).toFixed(1)} ms = ${Math.round(n / seconds)}/s, ${writes} would write`;
}

function cacheMemory(): string {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const store = new Map<string, unknown>();
  for (let i = 0; i < 20_000; i++) {
    store.set(`ns-${i % 100}/secret-${i}`, {
      metadata: { name: `secret-${i}`, namespace: `ns-${i % 100}`, resourceVersion: String(i), labels: { app: 'x' } },
      data: { key: 'c2VjcmV0LXZhbHVlLTEyMzQ1Njc4OTA=' },
    });
  }
  const after = process.memoryUsage().heapUsed;
  return `cache: 20000 small Secrets take ~${((after - before) / 1024 / 1024).toFixed(1)} MiB of heap (${store.size} cached)`;
}

/** Runs a bench module's main in a process of its own and returns its JSON. */
function child(script: string, env: Record<string, string> = {}, nodeArgs: string[] = [], node = process.execPath): Record<string, unknown> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return JSON.parse(
    execFileSync(node, [...nodeArgs, path], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    }),
  ) as Record<string, unknown>;
}

/**
 * Median wall time and peak RSS of each command line run with node, over `n` rounds; the
 * commands take turns in every round, so a noisy moment of the machine falls on all of them.
 */
function coldStarts<K extends string>(
  commands: Record<K, { node: string; args: string[] }>,
  n = 12,
): Record<K, { medianMs: number; peakRssMiB: number }> {
  const hook = join(tmpdir(), 'flant-bench-maxrss.cjs');
  writeFileSync(hook, "process.on('exit', () => require('fs').writeSync(2, '\\nMAXRSS ' + process.resourceUsage().maxRSS + '\\n'));\n");
  const names = Object.keys(commands) as K[];
  const times = new Map<K, number[]>(names.map((k) => [k, []]));
  const peaks = new Map<K, number>(names.map((k) => [k, 0]));
  for (let i = 0; i < n; i++) {
    for (const name of names) {
      const { node, args } = commands[name];
      const started = performance.now();
      const r = spawnSync(node, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require=${hook}` } });
      times.get(name)?.push(performance.now() - started);
      if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
      peaks.set(name, Math.max(peaks.get(name) ?? 0, Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024));
    }
  }
  return Object.fromEntries(names.map((k) => [k, { medianMs: median(times.get(k) ?? []), peakRssMiB: peaks.get(k) ?? 0 }])) as Record<
    K,
    { medianMs: number; peakRssMiB: number }
  >;
}

/** The Node 20 to compare with: BENCH_BASELINE_NODE, else the first Node 20 on PATH outside node_modules. */
function baselineNode(): { node?: string; why: string } {
  const candidates = process.env.BENCH_BASELINE_NODE
    ? [process.env.BENCH_BASELINE_NODE]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter((d) => d && !d.includes('node_modules'))
        .map((d) => join(d, 'node'));
  for (const node of candidates.filter((c) => existsSync(c))) {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (version.startsWith('v20.')) return { node, why: `${version} at ${node}` };
  }
  return { why: 'no Node 20 found (set BENCH_BASELINE_NODE)' };
}

if (process.argv.includes('scale')) {
  const { scaleMain } = await import('./scale-report.js');
  await scaleMain();
  process.exit(0);
}

const all = process.argv.includes('--all');
const baseline = baselineNode();
const runtimes: Array<[string, string]> = [['node24', process.execPath], ...(baseline.node ? [['node20', baseline.node] as [string, string]] : [])];
const rows: Array<[string, string, string, string]> = [];
const row = (what: string, figure: string, target = '', node20 = '') => rows.push([what, figure, node20, target]);
/** `a` minus `b`, signed, where either may be missing (NaN then). */
const over = (a?: number, b?: number) => (a ?? NaN) - (b ?? NaN);
const f = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : String(v));
const results: Record<string, unknown> = { baseline: baseline.why };
/** One figure per runtime: Node 24's, then Node 20's (empty when there is no baseline). */
const both = <T>(of: Record<string, T>, show: (v: T) => string): [string, string] => [
  show(of.node24 as T),
  of.node20 === undefined ? '' : show(of.node20),
];

process.stderr.write(`bench: Node 24 is ${process.version}; Node 20: ${baseline.why}\n`);
process.stderr.write('bench: in-process figures...\n');
results.inProcess = { queue: await queueThroughput(), status: statusThroughput(), cache: cacheMemory() };
row('work queue', String((results.inProcess as Record<string, string>).queue));
row('status', String((results.inProcess as Record<string, string>).status));
row('informer cache', String((results.inProcess as Record<string, string>).cache));

process.stderr.write('bench: pricing exporter...\n');
const pricing = Object.fromEntries(runtimes.map(([k, node]) => [k, child('./pricing.js', {}, ['--expose-gc'], node) as Record<string, number>]));
results.pricing = pricing;
const pe = both(
  pricing,
  (p) => `${f(p.eventP50Ms, 3)} / ${f(p.eventP99Ms, 3)} ms; recount baseline ${f(p.baselineEventP50Ms, 1)} / ${f(p.baselineEventP99Ms, 1)} ms`,
);
row('pricing: per node event p50 / p99', pe[0], 'p99 <= 1 ms', pe[1]);
const px = both(pricing, (p) => `${f(p.expositionMedianMs)} ms, ${p.expositionBytes} bytes`);
row('pricing: /metrics exposition median', px[0], '<= 50 ms', px[1]);
const pr = both(pricing, (p) => `${f(p.rssMiB, 0)} MiB (heap ${f(p.heapMiB, 0)} MiB)`);
row('pricing: RSS at 10,000 nodes', pr[0], '<= 150 MB', pr[1]);

process.stderr.write('bench: cold starts...\n');
const commands = Object.fromEntries(
  runtimes.flatMap(([k, node]) => [
    [`${k}:bare`, { node, args: ['-e', '0'] }],
    [`${k}:crd`, { node, args: ['bin/flant-integration.js', 'crd'] }],
    [`${k}:render`, { node, args: ['bin/flant-integration.js', 'render', '-f', 'config/samples/flantintegration.yaml'] }],
  ]),
) as Record<string, { node: string; args: string[] }>;
const cold = coldStarts(commands);
results.coldStart = cold;
const startsOf = (what: string) => Object.fromEntries(runtimes.map(([k]) => [k, { t: cold[`${k}:${what}`], bare: cold[`${k}:bare`] }]));
const cb = both(startsOf('bare'), (c) => `${f(c.t?.medianMs, 0)} ms, ${f(c.t?.peakRssMiB, 0)} MiB`);
row('cold start: node -e 0', cb[0], '', cb[1]);
for (const what of ['crd', 'render']) {
  const cs = both(
    startsOf(what),
    (c) => `${f(c.t?.medianMs, 0)} ms (${f((c.t?.medianMs ?? 0) / (c.bare?.medianMs ?? 1))}x), peak ${f(c.t?.peakRssMiB, 0)} MiB`,
  );
  row(`cold start: ${what}`, cs[0], '<= 4x node -e 0', cs[1]);
}

process.stderr.write('bench: madison-proxy under load...\n');
const proxy = Object.fromEntries(
  runtimes.map(([k, node]) => [
    k,
    child('./proxy.js', { BENCH_SECONDS: all ? '30' : '10', BENCH_STANDIN_NODE: process.execPath }, [], node) as Record<string, number>,
  ]),
);
results.proxy = proxy;
const pa = both(
  proxy,
  (x) => `${f(x.idleAnonMiB)} / ${f(x.peakAnonMiB)} MiB; the floor (bench/floor-proxy.ts): ${f(x.floorIdleAnonMiB)} / ${f(x.floorPeakAnonMiB)} MiB`,
);
row('proxy: process-owned memory (RssAnon) idle / peak under load', pa[0], '<= 12 / <= 25 MiB', pa[1]);
const prss = both(
  proxy,
  (x) =>
    `${f(x.idleRssMiB)} / ${f(x.peakRssMiB)} MiB (${f(over(x.idleRssMiB, x.floorIdleRssMiB))} / ` +
    `${f(over(x.peakRssMiB, x.floorPeakRssMiB))} MiB over the floor's ${f(x.floorIdleRssMiB)} / ${f(x.floorPeakRssMiB)}; file-backed ` +
    `${f(x.idleFileMiB)} MiB idle)`,
);
row('proxy: RSS idle / peak, beside the floor', prss[0], 'within 3 MiB of the floor', prss[1]);
const pt = both(
  proxy,
  (x) =>
    `${f(x.postsPerSecond, 0)} (direct: ${f(x.directPostsPerSecond, 0)}; floor: ${f(x.floorPostsPerSecond, 0)}); ${x.loadOk} of ` +
    `${x.loadResponses} answered 200`,
);
row('proxy: posts/s on one core (batches of 10 alerts)', pt[0], '>= 2000', pt[1]);
const pl = both(proxy, (x) => `${f(x.addedIdleP50Ms, 2)} ms (${f(x.idleP50Ms, 2)} vs direct ${f(x.idleDirectP50Ms, 2)})`);
row('proxy: added latency, idle p50', pl[0], '<= 0.5 ms', pl[1]);
const pq = both(proxy, (x) => `${f(x.addedRated200P99Ms, 2)} ms (${f(x.rated200P99Ms, 2)} vs direct ${f(x.rated200DirectP99Ms, 2)})`);
row('proxy: added latency at 200 posts/s, p99', pq[0], '<= 5 ms', pq[1]);

process.stderr.write('bench: the image...\n');
const img = child('./image.js') as Record<string, number | string>;
results.image = img;
row(
  'image: size, uncompressed',
  `${f(img.totalMiB)} MiB in all; the program ${f(img.appMiB)} MiB, its dependencies ${f(img.dependenciesMiB)} MiB (Node ${img.nodeVersion})`,
);
row(
  'image: docker run -> proxy /readyz 200, median',
  `${f(img.containerToReadyMs, 0)} ms; the same program as a plain process: ${f(img.processToReadyMs, 0)} ms (${img.rounds} rounds each)`,
);

process.stderr.write('bench: convergence on the local control plane...\n');
const c = child('./convergence.js', { BENCH_RUNS: '20', BENCH_IDLE_SECONDS: all ? '600' : '20' });
results.convergence = c;
const node20Controller = baseline.node ? 'cannot run: client-node 2.x needs Node 22+' : '';
for (const [type, t] of Object.entries(c.convergenceMs as Record<string, { p50: number; p95: number; n: number }>)) {
  row(`convergence: apply -> ${type}=True`, `p50 ${f(t.p50, 0)} ms, p95 ${f(t.p95, 0)} ms (${t.n} runs)`, '', node20Controller);
}
row(
  `idle: the controller's requests in ${String(c.idleSeconds)} s at rest`,
  `${JSON.stringify(c.idleRequestsByVerb)}; ${String(c.idleWrites)} writes`,
  '0 writes',
  node20Controller,
);
row('controller: RSS after the runs / peak', `${f(c.controllerRssMiB, 0)} / ${f(c.controllerPeakRssMiB, 0)} MiB`, '', node20Controller);

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` };
const date = new Date().toISOString();
const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(
  `\nnpm run bench${all ? ' -- --all' : ''}, ${date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}; beside it Node 20: ` +
    `${baseline.why}\n\n`,
);
for (const [what, figure, node20, target] of rows) {
  process.stdout.write(`${what.padEnd(width)}  ${figure}${target ? `   [target ${target}]` : ''}\n`);
  if (node20) process.stdout.write(`${''.padEnd(width)}  Node 20: ${node20}\n`);
}
mkdirSync('bench/results', { recursive: true });
const file = join('bench/results', `${date.slice(0, 10)}${all ? '-all' : ''}.json`);
writeFileSync(file, `${JSON.stringify({ date, all, machine, results }, null, 2)}\n`);
process.stdout.write(`\nwritten to ${file}\n`);
