/**
 * The madison-proxy under load, in the setup of issue 11: the proxy pinned to core 0
 * (`taskset -c 0`), the load generator (Debian's `hey`, installed by `ensureHey`) and an
 * HTTPS Madison stand-in (bench/standin.ts) on core 1; Alertmanager v2 batches of 10 alerts.
 * Added latency is the proxy's percentile minus the same percentile of direct posts to the
 * same stand-in, in the same run. Memory is measured side by side with bench/floor-proxy.ts,
 * the least Node program doing the same job, run with the same settings: idle is after one
 * readiness check (the TLS connection a kubelet's probe opens) and 15 s at rest (V8's memory
 * reducer runs after 8 s), peak is the highest RSS through the load phases. Prints one JSON object.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCertificates } from '../e2e/fakes/madison.js';
import { freePort } from '../e2e/controlplane/process.js';
import { procMemory, sampleAnonPeak } from './proc.js';
import { proxyRuntimeEnv } from '../src/components/madison/render.js';

const key = 'bench-madison-key';

/** An Alertmanager v2 batch of `n` alerts, as Prometheus posts it. */
export function alertBatch(n = 10): string {
  const alerts = Array.from({ length: n }, (_, i) => ({
    labels: {
      alertname: `BenchAlert${i}`,
      severity_level: '4',
      tier: 'cluster',
      namespace: 'd8-monitoring',
      pod: `prometheus-main-${i}`,
      instance: `10.0.0.${i}:9090`,
      job: 'prometheus',
    },
    annotations: {
      summary: `Bench alert ${i} is firing`,
      description:
        `This is bench alert number ${i}, with a description about as long as a real one: the target has been down for more ` +
        `than five minutes, check its pods and the network between them.`,
    },
    startsAt: '2026-12-01T00:00:00Z',
    endsAt: '2026-12-01T01:00:00Z',
    generatorURL: `http://prometheus.d8-monitoring:9090/graph?g0.expr=up%7Bjob%3D%22bench-${i}%22%7D+%3D%3D+0&g0.tab=1`,
  }));
  return JSON.stringify(alerts);
}

/** `hey` from PATH, else Debian's package (root only). */
export function ensureHey(): string {
  const found = spawnSync('sh', ['-c', 'command -v hey'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  const apt = spawnSync('apt-get', ['install', '-y', '-qq', 'hey'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (apt.status !== 0) throw new Error(`cannot install Debian's hey (run apt-get update first, as root): ${apt.stderr.slice(-300)}`);
  return 'hey';
}

interface HeyResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok: number;
  readonly total: number;
}

/** Runs hey on core 1 without blocking this process, so memory can be sampled meanwhile. */
async function hey(bin: string, url: string, body: string, args: string[]): Promise<HeyResult> {
  const child = spawn('taskset', ['-c', '1', bin, ...args, '-m', 'POST', '-T', 'application/json', '-D', body, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`hey failed: ${err || out}`);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const ok = num(/\[200\]\s+(\d+) responses/);
  const errors = [...out.matchAll(/\[(\d+)\]\s+(\d+) responses/g)].reduce((n, m) => n + Number(m[2]), 0);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: num(/50% in ([\d.]+) secs/) * 1000,
    p99Ms: num(/99% in ([\d.]+) secs/) * 1000,
    ok,
    total: errors,
  };
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

export async function proxyBench(options: { seconds?: number } = {}): Promise<Record<string, number | string>> {
  const seconds = options.seconds ?? 10;
  const heyBin = ensureHey();
  const certs = makeCertificates('madison.flant.com');
  const bodyFile = join(certs.dir, 'batch.json');
  const body = alertBatch();
  writeFileSync(bodyFile, body);
  const children: ChildProcess[] = [];
  try {
    const standin = spawn(
      'taskset',
      ['-c', '1', process.env.BENCH_STANDIN_NODE ?? process.execPath, new URL('./standin.js', import.meta.url).pathname, certs.dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(standin);
    const standinPort = await new Promise<number>((resolve) => standin.stdout?.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
    const runtimeEnv = Object.fromEntries(proxyRuntimeEnv.map((e) => [e.name, e.value]));
    if (process.env.PROXY_NODE_OPTIONS !== undefined) runtimeEnv.NODE_OPTIONS = process.env.PROXY_NODE_OPTIONS;
    const start = async (program: string[]) => {
      const port = await freePort();
      const child = spawn('taskset', ['-c', '0', process.execPath, ...program], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          ...runtimeEnv,
          MADISON_BACKEND: `127.0.0.1:${standinPort}`,
          MADISON_AUTH_KEY: key,
          MADISON_CA_FILE: certs.caFile,
          LISTEN_HOST: '127.0.0.1',
          LISTEN_PORT: String(port),
        },
      });
      children.push(child);
      await waitFor(`http://127.0.0.1:${port}/readyz`);
      // taskset execs node in place: the pid is the program's.
      return { pid: child.pid ?? 0, port, child };
    };
    const proxy = await start(['bin/flant-integration.js', 'proxy']);
    const floor = await start([new URL('./floor-proxy.js', import.meta.url).pathname]);
    await new Promise((r) => setTimeout(r, 2000));
    const started = procMemory(proxy.pid);
    await new Promise((r) => setTimeout(r, 13_000));
    const [idle, floorIdle] = [procMemory(proxy.pid), procMemory(floor.pid)];
    const anonPeak = sampleAnonPeak(proxy.pid);
    const direct = `https://127.0.0.1:${standinPort}/api/events/prometheus/${key}`;
    const alerts = (port: number) => `http://127.0.0.1:${port}/api/v2/alerts`;
    const viaProxy = alerts(proxy.port);
    // Warm both paths with as many connections as the load uses (TLS handshakes, JIT): steady state is measured.
    const warm = (url: string) => hey(heyBin, url, bodyFile, ['-n', '4000', '-c', '32']);
    await warm(viaProxy);
    await warm(direct);
    const idleProxy = await hey(heyBin, viaProxy, bodyFile, ['-n', '2000', '-c', '1']);
    const idleDirect = await hey(heyBin, direct, bodyFile, ['-n', '2000', '-c', '1']);
    await warm(viaProxy);
    await warm(direct);
    const ratedProxy = await hey(heyBin, viaProxy, bodyFile, ['-z', `${seconds}s`, '-c', '20', '-q', '10']);
    const ratedDirect = await hey(heyBin, direct, bodyFile, ['-z', `${seconds}s`, '-c', '20', '-q', '10']);
    const loadProxy = await hey(heyBin, viaProxy, bodyFile, ['-z', `${seconds}s`, '-c', '32']);
    const loadDirect = await hey(heyBin, direct, bodyFile, ['-z', `${seconds}s`, '-c', '32']);
    const after = procMemory(proxy.pid);
    const peakAnonMiB = anonPeak();
    proxy.child.kill('SIGKILL');
    // The floor under the same load, alone on core 0 now; its RSS peaks within a few seconds.
    await warm(alerts(floor.port));
    const floorAnonPeak = sampleAnonPeak(floor.pid);
    const loadFloor = await hey(heyBin, alerts(floor.port), bodyFile, ['-z', `${Math.ceil(seconds / 2)}s`, '-c', '32']);
    const floorPeakAnonMiB = floorAnonPeak();
    const floorAfter = procMemory(floor.pid);
    return {
      batchBytes: Buffer.byteLength(body),
      startRssMiB: started.rssMiB,
      idleRssMiB: idle.rssMiB,
      peakRssMiB: after.peakMiB,
      idleAnonMiB: idle.anonMiB,
      idleFileMiB: idle.fileMiB,
      peakAnonMiB,
      floorIdleRssMiB: floorIdle.rssMiB,
      floorPeakRssMiB: floorAfter.peakMiB,
      floorIdleAnonMiB: floorIdle.anonMiB,
      floorPeakAnonMiB,
      floorPostsPerSecond: loadFloor.rps,
      idleP50Ms: idleProxy.p50Ms,
      idleDirectP50Ms: idleDirect.p50Ms,
      addedIdleP50Ms: idleProxy.p50Ms - idleDirect.p50Ms,
      rated200P99Ms: ratedProxy.p99Ms,
      rated200DirectP99Ms: ratedDirect.p99Ms,
      addedRated200P99Ms: ratedProxy.p99Ms - ratedDirect.p99Ms,
      rated200Rps: ratedProxy.rps,
      postsPerSecond: loadProxy.rps,
      directPostsPerSecond: loadDirect.rps,
      loadOk: loadProxy.ok,
      loadResponses: loadProxy.total,
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(certs.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  process.stdout.write(`${JSON.stringify(await proxyBench({ seconds: Number(process.env.BENCH_SECONDS ?? 10) }))}\n`);
}
