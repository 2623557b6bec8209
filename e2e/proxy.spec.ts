/**
 * The madison-proxy program as a real process in front of an HTTPS Madison stand-in: an
 * Alertmanager v2 alert batch reaches /api/events/prometheus/<key> with Host
 * madison.flant.com over verified TLS; /readyz follows the backend's health; other paths
 * are refused; the key never reaches a log line.
 */
import { spawn } from 'node:child_process';
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
    env: { ...process.env, LISTEN_HOST: '127.0.0.1', LISTEN_PORT: String(port), MADISON_BACKEND: backend, MADISON_AUTH_KEY: key, MADISON_CA_FILE: madison.caFile },
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

describe('flant-integration proxy', () => {
  it('forwards an Alertmanager v2 batch to Madison with the key in the path and Host madison.flant.com', async () => {
    const res = await fetch(`${base}/api/v2/alerts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(alertBatch) });
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
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    madison.healthStatus = 200;
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
      env: { ...process.env, LISTEN_HOST: '127.0.0.1', LISTEN_PORT: String(port), MADISON_BACKEND: backend, MADISON_AUTH_KEY: key, MADISON_CA_FILE: madison.caFile, HTTPS_PROXY: egressURL },
      stdio: 'ignore',
    });
    try {
      await eventually('the second proxy listens', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 20_000);
      const res = await fetch(`http://127.0.0.1:${port}/api/v2/alerts`, { method: 'POST', body: JSON.stringify(alertBatch) });
      expect(res.status).toBe(200);
      expect(egress.tunnels).toContain(backend);
    } finally {
      viaProxy.kill('SIGTERM');
      await egress.stop();
    }
  });

  it('never logs the key', () => {
    expect(logs.join('')).toContain('alerts forwarded');
    expect(logs.join('')).not.toContain(key);
  });
});
