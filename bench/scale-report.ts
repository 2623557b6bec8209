/**
 * `npm run bench -- scale`: runs the scale bench (bench/scale.ts) in a process of its own,
 * prints its figures for every step against the targets, as a table and as Markdown (the
 * README's), summarises the heap snapshots both programs wrote at the last step, and writes
 * bench/results/<date>-scale.json and the plot bench/results/<date>-scale.svg.
 * BENCH_SCALE_STEPS, BENCH_SCALE_SAMPLES and BENCH_SCALE_REST_SECONDS change the steps
 * (default 100,1000,5000), the samples per latency (30) and the window at rest (60 s).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heapSummary } from './heap.js';
import { plot } from './plot.js';
import type { StepResult } from './scale.js';

/** The issue's targets, as numbers the table compares with. */
const targets = {
  controllerRssMiB: 100,
  controllerFlat: 0.1,
  exporterRssMiB: 150,
  labelP99Ms: 1000,
  readyP50Ms: 300,
  readyP95Ms: 600,
  restPerMinute: 1,
};

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

export async function scaleMain(): Promise<void> {
  const heapDir = mkdtempSync(join(tmpdir(), 'flant-scale-heap-'));
  const started = Date.now();
  let result: { steps: StepResult[] } & Record<string, unknown>;
  try {
    result = JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(new URL('./scale.js', import.meta.url))], {
        encoding: 'utf8',
        env: { ...process.env, BENCH_SCALE_HEAP_DIR: heapDir },
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 * 1024 * 1024,
      }),
    ) as typeof result;
    const snapshots = readdirSync(heapDir)
      .filter((n) => n.endsWith('.heapsnapshot'))
      .sort();
    // Written in the order they were asked for: the controller's, then the exporter's.
    result.heap = Object.fromEntries(snapshots.map((n, i) => [i === 0 ? 'controller' : 'exporter', heapSummary(join(heapDir, n), 15)]));
  } finally {
    rmSync(heapDir, { recursive: true, force: true });
  }
  const minutes = (Date.now() - started) / 60_000;
  const steps = result.steps;
  const rest = steps.map((s) => s.controller.rssMiB);
  const flat = (Math.max(...rest) - Math.min(...rest)) / Math.min(...rest);

  const header = [
    'nodes',
    'pods',
    'controller RSS / RssAnon at rest',
    'controller high-water RSS / RssAnon',
    'exporter RSS at rest / high-water',
    'agent RSS at rest / high-water',
  ];
  const rows = steps.map((s) => [
    String(s.nodes),
    String(s.pods),
    `${f(s.controller.rssMiB)} / ${f(s.controller.anonMiB)} MiB`,
    `${f(s.controller.peakRssMiB)} / ${f(s.controller.peakAnonMiB)} MiB`,
    `${f(s.exporter.rssMiB)} / ${f(s.exporter.peakRssMiB)} MiB`,
    `${f(s.agent.rssMiB)} / ${f(s.agent.peakRssMiB)} MiB`,
  ]);
  const header2 = [
    'nodes',
    'requests/min at rest: controller (writes; periodic reconciles in the window), exporter (writes)',
    'label -> metric p50 / p99',
    'spec -> Ready p50 / p95',
    'controller requests per spec change',
    'API server CPU at rest',
  ];
  const rows2 = steps.map((s) => [
    String(s.nodes),
    `${f(s.rest.controller.perMinute, 1)} (${s.rest.controller.writes}; ${s.rest.reconciles}), ` +
      `${f(s.rest.exporter.perMinute, 1)} (${s.rest.exporter.writes})`,
    `${f(s.labelToMetricMs.p50)} / ${f(s.labelToMetricMs.p99)} ms`,
    `${f(s.specToReadyMs.p50)} / ${f(s.specToReadyMs.p95)} ms`,
    `${f(s.perSpecChange.requests, 1)} (${Object.entries(s.perSpecChange.byVerb)
      .map(([verb, n]) => `${verb} ${f(n, 1)}`)
      .join(', ')})`,
    `${f(s.cpuAtRest['kube-apiserver'] ?? NaN, 2)} cores (${Object.entries(s.servedAtRest)
      .slice(0, 3)
      .map(([what, n]) => `${what} ${f(n, 1)}/s`)
      .join(', ')})`,
  ]);
  const markdown = (h: string[], r: string[][]) => [
    `| ${h.join(' | ')} |`,
    `|${h.map(() => ' --- ').join('|')}|`,
    ...r.map((x) => `| ${x.join(' | ')} |`),
  ];
  const last = steps.at(-1);
  const verdicts = [
    `controller RSS at rest <= ${targets.controllerRssMiB} MiB at every step: ` +
      `${mark(rest.every((v) => v <= targets.controllerRssMiB))} (${rest.map((v) => f(v)).join(', ')} MiB)`,
    `controller RSS flat within 10%: ${mark(flat <= targets.controllerFlat)} (spread ${f(flat * 100)}%)`,
    `exporter RSS <= ${targets.exporterRssMiB} MiB at ${last?.nodes} nodes: ` +
      `${mark((last?.exporter.rssMiB ?? Infinity) <= targets.exporterRssMiB)} (${f(last?.exporter.rssMiB ?? NaN)} MiB)`,
    `label -> metric p99 <= 1 s: ${mark(steps.every((s) => s.labelToMetricMs.p99 <= targets.labelP99Ms))}`,
    `spec -> Ready p50 <= 300 ms, p95 <= 600 ms: ` +
      `${mark(steps.every((s) => s.specToReadyMs.p50 <= targets.readyP50Ms && s.specToReadyMs.p95 <= targets.readyP95Ms))}`,
    `0 writes and <= 1 request/min at rest (watches, Lease apart): ${mark(
      steps.every((s) => [s.rest.controller, s.rest.exporter].every((r) => r.writes === 0 && r.perMinute <= targets.restPerMinute)),
    )}`,
  ];
  const date = new Date().toISOString();
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
  const out = [
    '',
    `npm run bench -- scale, ${date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${f(minutes, 1)} minutes`,
    '',
    ...markdown(header, rows),
    '',
    ...markdown(header2, rows2),
    '',
    ...verdicts,
    '',
    ...steps.map(
      (s) =>
        `controller at rest, ${s.nodes} nodes, ${f(s.rest.seconds)} s, ${s.rest.reconciles} periodic reconciles: ` +
        (Object.entries(s.rest.controller.byObject ?? {})
          .sort((a, b) => b[1] - a[1])
          .map(([what, n]) => `${what} x${n}`)
          .join(', ') || 'no request'),
    ),
    '',
    ...Object.entries((result.heap ?? {}) as Record<string, string[]>).flatMap(([who, lines]) => [
      `heap snapshot of the ${who} at ${last?.nodes} nodes:`,
      ...lines,
      '',
    ]),
  ];
  process.stdout.write(`${out.join('\n')}\n`);

  mkdirSync('bench/results', { recursive: true });
  const base = join('bench/results', `${date.slice(0, 10)}-scale`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ date, machine, minutes, verdicts, ...result }, null, 2)}\n`);
  const xs = steps.map((s) => s.nodes);
  writeFileSync(
    `${base}.svg`,
    plot(`npm run bench -- scale, ${date.slice(0, 10)}, ${machine.cores} cores, Node ${machine.node}`, xs, [
      {
        title: 'Memory',
        unit: 'MiB',
        series: [
          { label: 'controller RSS at rest', color: '#1f77b4', values: steps.map((s) => s.controller.rssMiB) },
          { label: 'controller high-water RSS', color: '#9ecae1', values: steps.map((s) => s.controller.peakRssMiB) },
          { label: 'exporter RSS at rest', color: '#d62728', values: steps.map((s) => s.exporter.rssMiB) },
          { label: 'exporter high-water RSS', color: '#ff9896', values: steps.map((s) => s.exporter.peakRssMiB) },
          { label: 'agent (Alloy) RSS at rest', color: '#8c564b', values: steps.map((s) => s.agent.rssMiB) },
        ],
        targets: [
          { label: 'target: controller 100 MiB', value: targets.controllerRssMiB, color: '#1f77b4' },
          { label: 'target: exporter 150 MiB', value: targets.exporterRssMiB, color: '#d62728' },
        ],
      },
      {
        title: 'Latency',
        unit: 'ms',
        series: [
          { label: 'label -> metric p99', color: '#2ca02c', values: steps.map((s) => s.labelToMetricMs.p99) },
          { label: 'spec -> Ready p50', color: '#9467bd', values: steps.map((s) => s.specToReadyMs.p50) },
          { label: 'spec -> Ready p95', color: '#c5b0d5', values: steps.map((s) => s.specToReadyMs.p95) },
        ],
        targets: [
          { label: 'target: label -> metric p99 1 s', value: targets.labelP99Ms, color: '#2ca02c' },
          { label: 'target: spec -> Ready p50 300 ms', value: targets.readyP50Ms, color: '#9467bd' },
          { label: 'target: spec -> Ready p95 600 ms', value: targets.readyP95Ms, color: '#c5b0d5' },
        ],
      },
    ]),
  );
  process.stdout.write(`written to ${base}.json and ${base}.svg\n`);
}
