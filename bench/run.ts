/**
 * `npm run bench`: figures for the hot paths, printed, never asserted.
 * - work queue: keys added, taken and done per second (1 worker, 10k distinct keys, 10 adds each);
 * - status: buildStatus + canonical compare per second (the no-write path of every resync);
 * - heap used after caching 20k Secrets in an informer-shaped Map;
 * - the pricing exporter at 10,000 nodes in 200 NodeGroups (bench/pricing.ts, in a process of its own).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildStatus, canonical, licenceCondition } from '../src/flantintegration/status.js';
import { defaultControllerRateLimiter, } from '../src/reconciler/ratelimiter.js';
import { WorkQueue } from '../src/reconciler/queue.js';
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

/** Runs bench/pricing.ts in its own process (its RSS is the exporter's) and formats its figures against the targets. */
function pricing(): string {
  const script = fileURLToPath(new URL('./pricing.js', import.meta.url));
  const r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8' })) as Record<string, number>;
  const ms = (v: number | undefined) => `${(v ?? 0).toFixed(3)} ms`;
  return [
    `pricing: ${r.nodes} nodes in ${r.nodeGroups} NodeGroups built in ${ms(r.buildMs)}`,
    `pricing: per event p50 ${ms(r.eventP50Ms)}, p99 ${ms(r.eventP99Ms)} (target p99 <= 1 ms); recounting every node per event (baseline, ${r.baselineEvents} events): p50 ${ms(r.baselineEventP50Ms)}, p99 ${ms(r.baselineEventP99Ms)}; p50 ratio ${Math.round((r.baselineEventP50Ms ?? 0) / (r.eventP50Ms || 1))}x`,
    `pricing: /metrics exposition median ${ms(r.expositionMedianMs)} (target <= 50 ms), ${r.expositionBytes} bytes; RSS ${(r.rssMiB ?? 0).toFixed(0)} MiB (target <= 150 MB), heap ${(r.heapMiB ?? 0).toFixed(0)} MiB`,
  ].join('\n');
}

process.stdout.write(`${await queueThroughput()}\n${statusThroughput()}\n${cacheMemory()}\n${pricing()}\n`);
