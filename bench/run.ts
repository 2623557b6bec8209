/**
 * `npm run bench`: the project's performance record, printed as a table against the targets
 * and written to bench/results/<date>.json with the machine it ran on. Never asserted.
 * - work queue, status computation, informer cache memory (in this process);
 * - the pricing exporter at 10,000 nodes in 200 NodeGroups (bench/pricing.ts, own process);
 * - cold start of `crd` and `render` against a bare `node -e 0`, taking turns, median of 12, peak RSS;
 * - madison-proxy under load (bench/proxy.ts): proxy pinned to core 0, hey and the stand-in on core 1;
 * - convergence on the local control plane, 20 runs, and idle writes (bench/convergence.ts).
 * `-- --all` makes the idle window 10 minutes (default 20 s) and the load phases 30 s (default 10 s).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildStatus, canonical, licenceCondition } from '../src/flantintegration/status.js';
import { defaultControllerRateLimiter, } from '../src/reconciler/ratelimiter.js';
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
  return `work queue: 100000 adds, ${processed} keys processed (dedup) in ${(seconds * 1000).toFixed(1)} ms = ${Math.round(100_000 / seconds)} adds/s`;
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
    store.set(`ns-${i % 100}/secret-${i}`, { metadata: { name: `secret-${i}`, namespace: `ns-${i % 100}`, resourceVersion: String(i), labels: { app: 'x' } }, data: { key: 'c2VjcmV0LXZhbHVlLTEyMzQ1Njc4OTA=' } });
  }
  const after = process.memoryUsage().heapUsed;
  return `cache: 20000 small Secrets take ~${((after - before) / 1024 / 1024).toFixed(1)} MiB of heap (${store.size} cached)`;
}

/** Runs a bench module's main in a process of its own and returns its JSON. */
function child(script: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Record<string, unknown> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return JSON.parse(execFileSync(process.execPath, [...nodeArgs, path], { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 })) as Record<string, unknown>;
}

/**
 * Median wall time and peak RSS of each command line run with node, over `n` rounds; the
 * commands take turns in every round, so a noisy moment of the machine falls on all of them.
 */
function coldStarts<K extends string>(commands: Record<K, string[]>, n = 12): Record<K, { medianMs: number; peakRssMiB: number }> {
  const hook = join(tmpdir(), 'flant-bench-maxrss.cjs');
  writeFileSync(hook, "process.on('exit', () => require('fs').writeSync(2, '\\nMAXRSS ' + process.resourceUsage().maxRSS + '\\n'));\n");
  const names = Object.keys(commands) as K[];
  const times = new Map<K, number[]>(names.map((k) => [k, []]));
  const peaks = new Map<K, number>(names.map((k) => [k, 0]));
  for (let i = 0; i < n; i++) {
    for (const name of names) {
      const args = commands[name];
      const started = performance.now();
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require=${hook}` } });
      times.get(name)?.push(performance.now() - started);
      if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
      peaks.set(name, Math.max(peaks.get(name) ?? 0, Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024));
    }
  }
  return Object.fromEntries(names.map((k) => [k, { medianMs: median(times.get(k) ?? []), peakRssMiB: peaks.get(k) ?? 0 }])) as Record<K, { medianMs: number; peakRssMiB: number }>;
}

const all = process.argv.includes('--all');
const rows: Array<[string, string, string]> = [];
const row = (what: string, figure: string, target = '') => rows.push([what, figure, target]);
const f = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : String(v));
const results: Record<string, unknown> = {};

process.stderr.write('bench: in-process figures...\n');
results.inProcess = { queue: await queueThroughput(), status: statusThroughput(), cache: cacheMemory() };
row('work queue', String((results.inProcess as Record<string, string>).queue));
row('status', String((results.inProcess as Record<string, string>).status));
row('informer cache', String((results.inProcess as Record<string, string>).cache));

process.stderr.write('bench: pricing exporter...\n');
const p = child('./pricing.js', {}, ['--expose-gc']) as Record<string, number>;
results.pricing = p;
row('pricing: per node event p50 / p99', `${f(p.eventP50Ms, 3)} / ${f(p.eventP99Ms, 3)} ms; recount baseline ${f(p.baselineEventP50Ms, 1)} / ${f(p.baselineEventP99Ms, 1)} ms (${Math.round((p.baselineEventP50Ms ?? 0) / (p.eventP50Ms || 1))}x at p50)`, 'p99 <= 1 ms');
row('pricing: /metrics exposition median', `${f(p.expositionMedianMs)} ms, ${p.expositionBytes} bytes`, '<= 50 ms');
row('pricing: RSS at 10,000 nodes', `${f(p.rssMiB, 0)} MiB (heap ${f(p.heapMiB, 0)} MiB)`, '<= 150 MB');

process.stderr.write('bench: cold starts...\n');
const { bare, crd, render } = coldStarts({
  bare: ['-e', '0'],
  crd: ['bin/flant-integration.js', 'crd'],
  render: ['bin/flant-integration.js', 'render', '-f', 'config/samples/flantintegration.yaml'],
});
results.coldStart = { bare, crd, render };
row('cold start: node -e 0', `${f(bare.medianMs, 0)} ms, ${f(bare.peakRssMiB, 0)} MiB`);
row('cold start: crd', `${f(crd.medianMs, 0)} ms (${f(crd.medianMs / bare.medianMs)}x), peak ${f(crd.peakRssMiB, 0)} MiB`, '<= 4x node -e 0');
row('cold start: render', `${f(render.medianMs, 0)} ms (${f(render.medianMs / bare.medianMs)}x), peak ${f(render.peakRssMiB, 0)} MiB`, '<= 4x node -e 0');

process.stderr.write('bench: madison-proxy under load...\n');
const x = child('./proxy.js', { BENCH_SECONDS: all ? '30' : '10' }) as Record<string, number>;
results.proxy = x;
row('proxy: RSS idle / peak under load', `${f(x.idleRssMiB)} / ${f(x.peakRssMiB)} MiB (2 s after start ${f(x.startRssMiB)}); the least Node program for the job (bench/floor-proxy.ts): ${f(x.floorIdleRssMiB)} / ${f(x.floorPeakRssMiB)} MiB at ${f(x.floorPostsPerSecond, 0)} posts/s`, '<= 45 / <= 60 MB');
row('proxy: posts/s on one core (batches of 10 alerts)', `${f(x.postsPerSecond, 0)} (direct to the stand-in: ${f(x.directPostsPerSecond, 0)}); ${x.loadOk} of ${x.loadResponses} answered 200`, '>= 2000');
row('proxy: added latency, idle p50', `${f(x.addedIdleP50Ms, 2)} ms (${f(x.idleP50Ms, 2)} vs direct ${f(x.idleDirectP50Ms, 2)})`, '<= 0.5 ms');
row('proxy: added latency at 200 posts/s, p99', `${f(x.addedRated200P99Ms, 2)} ms (${f(x.rated200P99Ms, 2)} vs direct ${f(x.rated200DirectP99Ms, 2)})`, '<= 5 ms');

process.stderr.write('bench: convergence on the local control plane...\n');
const c = child('./convergence.js', { BENCH_RUNS: '20', BENCH_IDLE_SECONDS: all ? '600' : '20' });
results.convergence = c;
for (const [type, t] of Object.entries(c.convergenceMs as Record<string, { p50: number; p95: number; n: number }>)) {
  row(`convergence: apply -> ${type}=True`, `p50 ${f(t.p50, 0)} ms, p95 ${f(t.p95, 0)} ms (${t.n} runs)`);
}
row(`idle: the controller's requests in ${c.idleSeconds} s at rest`, `${JSON.stringify(c.idleRequestsByVerb)}; ${c.idleWrites} writes`, '0 writes');
row('controller: RSS after the runs / peak', `${f(c.controllerRssMiB, 0)} / ${f(c.controllerPeakRssMiB, 0)} MiB`);

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` };
const date = new Date().toISOString();
const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`\nnpm run bench${all ? ' -- --all' : ''}, ${date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}\n\n`);
for (const [what, figure, target] of rows) process.stdout.write(`${what.padEnd(width)}  ${figure}${target ? `   [target ${target}]` : ''}\n`);
mkdirSync('bench/results', { recursive: true });
const file = join('bench/results', `${date.slice(0, 10)}${all ? '-all' : ''}.json`);
writeFileSync(file, `${JSON.stringify({ date, all, machine, results }, null, 2)}\n`);
process.stdout.write(`\nwritten to ${file}\n`);
