/**
 * Convergence and idle writes on the local control plane (the embedded cluster of `npm
 * start`: Connect and DNS stand-ins, kwok nodes, the Deckhouse and Prometheus Operator CRD
 * fixtures). The controller runs as its ServiceAccount under the install's RBAC. Times come
 * from one long-running watch on the FlantIntegration: from the event that shows a new
 * resource (its uid) to the first event with each condition True. Idle writes are counted
 * from kube-apiserver's audit log (apiserver_request_total has no user label): every
 * request of the controller's ServiceAccount while everything is Ready and nothing changes.
 * Prints one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedCluster } from '../e2e/embedded.js';
import { ensureKubectl } from '../e2e/controlplane/binaries.js';
import { controllerKubeconfig } from '../e2e/support/credentials.js';
import { parseAudit, usesOf } from '../e2e/support/audit.js';
import { loadKubeConfig } from '../src/cmd/cluster.js';
import { procMemory } from './proc.js';
import { percentile } from './stats.js';
import { kubeClient } from '../src/reconciler/index.js';

const conditionTypes = [
  'Ready',
  'LicenseValid',
  'MadisonRegistered',
  'MadisonProxyReady',
  'MetricsShippingReady',
  'LogShippingReady',
  'UpmeterReady',
];
const controllerUser = 'system:serviceaccount:flant-integration-system:flant-integration-controller';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')}: ${err}`))));
  });
}

export async function convergenceBench(options: { runs?: number; idleSeconds?: number } = {}): Promise<Record<string, unknown>> {
  const runs = options.runs ?? 20;
  const idleSeconds = options.idleSeconds ?? 60;
  const kubectl = await ensureKubectl();
  process.env.E2E_KUBECTL = kubectl;
  const embedded = await startEmbeddedCluster();
  const children: ChildProcess[] = [];
  let watchStop: AbortController | undefined;
  try {
    const kc = embedded.kubeconfigPath;
    await embedded.prepare(await kubeClient(loadKubeConfig({ kubeconfig: kc, inCluster: false })));
    const fiJSON = await run(kubectl, [`--kubeconfig=${kc}`, 'get', 'fi', 'default', '-o', 'json']);
    const fi = JSON.parse(fiJSON) as { apiVersion: string; kind: string; metadata: { name: string }; spec: unknown };
    const manifest = JSON.stringify({ apiVersion: fi.apiVersion, kind: fi.kind, metadata: { name: fi.metadata.name }, spec: fi.spec });
    const ckc = await controllerKubeconfig(kc, join(kc, '..', 'controller.kubeconfig'));
    const ctl = spawn(
      process.execPath,
      [
        'bin/flant-integration.js',
        'run',
        `--kubeconfig=${ckc}`,
        `--dns-server=${embedded.dnsServer}`,
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        '--image=flant-integration-controller:bench',
        '--log-level=warn',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, POD_NAMESPACE: 'flant-integration-system' },
      },
    );
    children.push(ctl);

    // One watch for the whole bench (this repository's client, from the API server directly):
    // each event stamped on arrival with its type, the resource's uid and its conditions.
    const events: Array<{ at: number; type: string; uid: string; conditions: Map<string, string> }> = [];
    const admin = await kubeClient(loadKubeConfig({ kubeconfig: kc, inCluster: false }));
    const watching = new AbortController();
    watchStop = watching;
    const path = '/apis/integration.flant.com/v1alpha1/flantintegrations';
    void (async () => {
      let rv = (await admin.request<{ metadata: { resourceVersion: string } }>('GET', path)).metadata.resourceVersion;
      while (!watching.signal.aborted) {
        await admin
          .watch(
            path,
            { resourceVersion: rv, allowWatchBookmarks: true },
            (e) => {
              rv = e.object.metadata?.resourceVersion ?? rv;
              if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
              const conditions = ((e.object as { status?: { conditions?: Array<{ type: string; status: string }> } }).status?.conditions ?? []).map(
                (c) => [c.type, c.status] as [string, string],
              );
              events.push({ at: performance.now(), type: e.type, uid: e.object.metadata?.uid ?? '', conditions: new Map(conditions) });
            },
            watching.signal,
          )
          .catch(() => new Promise((r) => setTimeout(r, 200)));
      }
    })();
    // The sample the embedded cluster applied before the watch began.
    const sample = await admin.request<{ metadata: { uid: string }; status?: { conditions?: Array<{ type: string; status: string }> } }>(
      'GET',
      `${path}/default`,
    );
    events.push({
      at: performance.now(),
      type: 'ADDED',
      uid: sample.metadata.uid,
      conditions: new Map((sample.status?.conditions ?? []).map((c) => [c.type, c.status] as [string, string])),
    });
    const until = async (what: string, check: () => boolean, timeoutMs = 120_000) => {
      const started = performance.now();
      while (!check()) {
        if (performance.now() - started > timeoutMs) {
          const last = events.at(-1);
          throw new Error(
            `timed out waiting until ${what}; last event: ` +
              `${last ? `${last.type} ${[...last.conditions].map(([t, v]) => `${t}=${v}`).join(',')}` : 'none'}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const allTrue = (uid: string) =>
      events.some((e) => e.uid === uid && e.type !== 'DELETED' && conditionTypes.every((t) => e.conditions.get(t) === 'True'));

    // Warm-up: the sample the embedded cluster applied converges (the one Madison registration happens here), then goes.
    await until('the sample FlantIntegration is seen', () => events.length > 0);
    const sampleUID = events[0]?.uid ?? '';
    await until('the sample converges', () => allTrue(sampleUID));
    await run(kubectl, [`--kubeconfig=${kc}`, 'delete', 'fi', 'default', '--wait=true', '--timeout=60s']);
    await until('the sample deletion is seen', () => events.some((e) => e.uid === sampleUID && e.type === 'DELETED'));

    const times: Record<string, number[]> = Object.fromEntries(conditionTypes.map((t) => [t, []]));
    for (let i = 0; i < runs; i++) {
      const seen = new Set(events.map((e) => e.uid));
      const apply = spawn(kubectl, [`--kubeconfig=${kc}`, 'apply', '-f', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
      apply.stdin?.end(manifest);
      await until(`run ${i + 1}: the new FlantIntegration is seen`, () => events.some((e) => !seen.has(e.uid)));
      const first = events.find((e) => !seen.has(e.uid));
      const uid = first?.uid ?? '';
      await until(`run ${i + 1}: every condition True`, () => allTrue(uid));
      for (const t of conditionTypes) {
        const ready = events.find((e) => e.uid === uid && e.conditions.get(t) === 'True');
        if (ready && first) times[t]?.push(ready.at - first.at);
      }
      if (apply.exitCode === null) await new Promise((r) => apply.once('exit', r));
      if (i === runs - 1) break;
      await run(kubectl, [`--kubeconfig=${kc}`, 'delete', 'fi', 'default', '--wait=true', '--timeout=60s']);
      await until('the deletion is seen', () => events.some((e) => e.uid === uid && e.type === 'DELETED'));
    }

    // Idle: everything Ready, nothing changes (after 15 s for the last Deployment and pod status
    // events to settle); count the controller's requests in the audit log.
    await new Promise((r) => setTimeout(r, 15_000));
    const auditPath = join(kc, '..', 'logs', 'audit.log');
    const before = parseAudit(readFileSync(auditPath, 'utf8')).length;
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleUses = usesOf(parseAudit(readFileSync(auditPath, 'utf8')).slice(before), controllerUser);
    const byVerb: Record<string, number> = {};
    for (const u of idleUses) byVerb[u.verb] = (byVerb[u.verb] ?? 0) + 1;
    const writes = idleUses.filter((u) => ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(u.verb)).length;
    const memory = procMemory(ctl.pid ?? 0);
    return {
      runs,
      convergenceMs: Object.fromEntries(
        conditionTypes.map((t) => [t, { p50: percentile(times[t] ?? [], 0.5), p95: percentile(times[t] ?? [], 0.95), n: times[t]?.length ?? 0 }]),
      ),
      idleSeconds,
      idleRequestsByVerb: byVerb,
      idleWrites: writes,
      controllerRssMiB: memory.rssMiB,
      controllerPeakRssMiB: memory.peakMiB,
    };
  } finally {
    watchStop?.abort();
    for (const c of children) c.kill('SIGKILL');
    await embedded.stop();
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  process.stdout.write(
    `${JSON.stringify(
      await convergenceBench({ runs: Number(process.env.BENCH_RUNS ?? 20), idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? 60) }),
    )}\n`,
  );
}
