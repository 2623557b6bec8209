/**
 * The madison-proxy program as a real process in front of an HTTPS Madison stand-in: an
 * Alertmanager v2 alert batch reaches /api/events/prometheus/<key> with Host
 * madison.flant.com over verified TLS; /readyz follows the backend's health; other paths
 * are refused; the key never reaches a log line.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { proxyRuntimeEnv } from '../src/components/madison/render.js';
import { readinessCacheMs } from '../src/proxy/proxy.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './controlplane/process.js';
import { FakeEgressProxy } from './fakes/egress.js';
import { FakeMadison } from './fakes/madison.js';
import { eventually } from './support/controller.js';

const key = 'madison-key-e2e-5b1c';
const madison = new FakeMadison();
let base = '';
let backend = '';
const logs: string[] = [];
let proxy: ReturnType<typeof spawn>;

const alertBatch = [
  {
    labels: { alertname: 'KubePodCrashLooping', namespace: 'd8-system', severity_level: '4' },
    annotations: { summary: 'Pod is crash looping' },
    startsAt: '2026-11-22T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus/graph',
  },
];

beforeAll(async () => {
  backend = await madison.start();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proxy = spawn(process.execPath, ['bin/flant-integration.js', 'proxy'], {
    env: {
      ...process.env,
      LISTEN_HOST: '127.0.0.1',
      LISTEN_PORT: String(port),
      MADISON_BACKEND: backend,
      MADISON_AUTH_KEY: key,
      MADISON_CA_FILE: madison.caFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proxy.stdout?.on('data', (c: Buffer) => logs.push(c.toString()));
  proxy.stderr?.on('data', (c: Buffer) => logs.push(c.toString()));
  await eventually('the proxy listens', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, 20_000);
});

afterAll(async () => {
  proxy?.kill('SIGTERM');
  await madison.stop();
});

/** Another proxy process with `env` added, listening on a free port; stopped by the caller. */
async function extraProxy(env: Record<string, string>): Promise<{ base: string; child: ReturnType<typeof spawn> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/flant-integration.js', 'proxy'], {
    env: {
      ...process.env,
      LISTEN_HOST: '127.0.0.1',
      LISTEN_PORT: String(port),
      MADISON_BACKEND: backend,
      MADISON_AUTH_KEY: key,
      MADISON_CA_FILE: madison.caFile,
      ...env,
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually('the extra proxy listens', async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 20_000);
  return { base: url, child };
}

/** `name{...}` value from a /metrics text. */
function counter(text: string, name: string, reason: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`reason="${reason}"`));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

/** Peak resident memory of process `pid` so far (VmHWM), in MiB. */
function peakRSSMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/([0-9]+) kB/.exec(line ?? '')?.[1] ?? NaN) / 1024;
}

describe('flant-integration proxy', () => {
  it('forwards an Alertmanager v2 batch to Madison with the key in the path and Host madison.flant.com', async () => {
    const res = await fetch(`${base}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(alertBatch),
    });
    expect(res.status).toBe(200);
    const got = madison.requests.filter((r) => r.method === 'POST');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ path: `/api/events/prometheus/${key}`, host: 'madison.flant.com' });
    expect(JSON.parse(got[0]?.body ?? '[]')).toEqual(alertBatch);
  });

  it('takes v1 alerts too', async () => {
    const res = await fetch(`${base}/api/v1/alerts`, { method: 'POST', body: '[]' });
    expect(res.status).toBe(200);
  });

  it('is ready only while the backend is healthy', async () => {
    madison.healthStatus = 200;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    madison.healthStatus = 503;
    // One answer serves /readyz for 5 s: the change shows within that.
    await eventually('/readyz says 503', async () => (await fetch(`${base}/readyz`)).status === 503, 10_000, 200);
    madison.healthStatus = 200;
    await eventually('/readyz says 200 again', async () => (await fetch(`${base}/readyz`)).status === 200, 10_000, 200);
  });

  it.each([
    ['GET', '/anything-else', 404],
    ['GET', `/api/events/prometheus/${key}`, 404],
    ['GET', '/api/v2/alerts', 405],
  ])('refuses %s %s with %d', async (method, path, status) => {
    expect((await fetch(`${base}${path}`, { method })).status).toBe(status);
  });

  it('refuses a batch over the body limit', async () => {
    const res = await fetch(`${base}/api/v2/alerts`, { method: 'POST', body: 'x'.repeat(11 * 1024 * 1024) });
    expect(res.status).toBe(413);
  });

  it('tunnels to the backend through HTTPS_PROXY when one is set', async () => {
    const egress = new FakeEgressProxy();
    const egressURL = await egress.start();
    const port = await freePort();
    const viaProxy = spawn(process.execPath, ['bin/flant-integration.js', 'proxy'], {
      env: {
        ...process.env,
        LISTEN_HOST: '127.0.0.1',
        LISTEN_PORT: String(port),
        MADISON_BACKEND: backend,
        MADISON_AUTH_KEY: key,
        MADISON_CA_FILE: madison.caFile,
        HTTPS_PROXY: egressURL,
      },
      stdio: 'ignore',
    });
    try {
      await eventually(
        'the second proxy listens',
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200,
        20_000,
      );
      const res = await fetch(`http://127.0.0.1:${port}/api/v2/alerts`, { method: 'POST', body: JSON.stringify(alertBatch) });
      expect(res.status).toBe(200);
      expect(egress.tunnels).toContain(backend);
    } finally {
      viaProxy.kill('SIGTERM');
      await egress.stop();
    }
  });

  it('answers 80 parallel /readyz with one health check of the backend, on its own connection', async () => {
    await new Promise((r) => setTimeout(r, readinessCacheMs + 100));
    const before = madison.requests.filter((r) => r.path === '/healthz').length;
    const answers = await Promise.all(Array.from({ length: 80 }, () => fetch(`${base}/readyz`).then((r) => r.status)));
    expect(new Set(answers)).toEqual(new Set([200]));
    expect(madison.requests.filter((r) => r.path === '/healthz').length - before).toBe(1);
  });

  it('never logs the key', () => {
    expect(logs.join('')).toContain('alerts forwarded');
    expect(logs.join('')).not.toContain(key);
  });
});

describe('flant-integration proxy under a hostile or slow backend, and under load', () => {
  it('gives up an exchange whose answer trickles past the whole-exchange deadline, and counts it as a timeout', async () => {
    const p = await extraProxy({ PROXY_UPSTREAM_TIMEOUT_MS: '1000' });
    madison.trickleMs = 300;
    try {
      const started = performance.now();
      const outcome = await fetch(`${p.base}/api/v2/alerts`, { method: 'POST', body: JSON.stringify(alertBatch) }).then(
        (r) =>
          r.text().then(
            () => 'whole answer',
            () => 'cut',
          ),
        () => 'cut',
      );
      const heldMs = performance.now() - started;
      expect(outcome, 'the 6 s trickle is cut').toBe('cut');
      process.stderr.write(`e2e: a trickling answer held the slot ${heldMs.toFixed(0)} ms with a 1000 ms deadline (the trickle lasts 6000 ms)\n`);
      const metrics = await (await fetch(`${p.base}/metrics`)).text();
      expect(counter(metrics, 'madison_proxy_forward_errors_total', 'timeout')).toBe(1);
      expect(counter(metrics, 'madison_proxy_forward_errors_total', 'aborted')).toBe(0);
    } finally {
      madison.trickleMs = 0;
      p.child.kill('SIGTERM');
    }
  });

  it(
    'stays under its 128 MiB limit with 64 batches of 5 MiB posted at once, answers the rest 503 with Retry-After, and delivers every ' +
      'batch it accepted',
    async () => {
      const runtime = Object.fromEntries(proxyRuntimeEnv.map((e) => [e.name, e.value]));
      const p = await extraProxy(runtime);
      try {
        const before = madison.requests.filter((r) => r.method === 'POST').length;
        const size = 5 * 1024 * 1024;
        const answers = await Promise.all(
          Array.from({ length: 64 }, (_, i) =>
            fetch(`${p.base}/api/v2/alerts`, { method: 'POST', body: Buffer.alloc(size, 48 + (i % 10)) }).then(async (r) => ({
              status: r.status,
              retryAfter: r.headers.get('retry-after'),
              body: await r.text(),
            })),
          ),
        );
        const peak = peakRSSMiB(p.child.pid ?? -1);
        const accepted = answers.filter((a) => a.status === 200);
        const refused = answers.filter((a) => a.status !== 200);
        process.stderr.write(
          `e2e: 64 x 5 MiB at once: ${accepted.length} accepted and delivered, ${refused.length} answered 503; the proxy's peak RSS ` +
            `${peak.toFixed(1)} MiB (limit 128)\n`,
        );
        expect(peak).toBeLessThan(128);
        expect(accepted.length).toBeGreaterThan(0);
        expect(refused.every((a) => a.status === 503 && a.retryAfter === '1')).toBe(true);
        const delivered = madison.requests.filter((r) => r.method === 'POST').slice(before);
        expect(delivered.length).toBe(accepted.length);
        expect(delivered.every((r) => r.bytes === size)).toBe(true);
      } finally {
        p.child.kill('SIGTERM');
      }
    },
  );
});
