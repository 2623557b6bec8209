import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyConfigFromEnv, startProxy, type RunningProxy } from './proxy.js';

const base = { MADISON_BACKEND: '127.0.0.1:1', MADISON_AUTH_KEY: 'KEY-unit' };

describe('proxyConfigFromEnv', () => {
  it.each([
    ['PROXY_BODY_LIMIT_BYTES', 'abc'],
    ['PROXY_BODY_LIMIT_BYTES', '-5'],
    ['PROXY_UPSTREAM_TIMEOUT_MS', '1.5'],
    ['LISTEN_PORT', '70000'],
    ['PROXY_MAX_CONCURRENT', '0'],
    ['PROXY_MAX_BUFFERED_BYTES', '10'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => proxyConfigFromEnv({ ...base, [name]: value })).toThrow(`${name} must be a whole number`);
  });

  it('keeps the defaults when unset', () => {
    expect(proxyConfigFromEnv(base)).toMatchObject({
      listenHost: '::',
      listenPort: 8080,
      bodyLimitBytes: 10 * 1024 * 1024,
      upstreamTimeoutMs: 30_000,
      maxConcurrent: 64,
      upstreamConnections: 8,
      maxBufferedBytes: 32 * 1024 * 1024,
    });
  });
});

describe('forwarding edges', () => {
  const closers: Array<() => void> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
  });

  /** A Madison stand-in over plain HTTP, and the proxy in front of it; returns the proxy's port and its log. */
  async function setup(madison: http.RequestListener, env: Record<string, string> = {}): Promise<{ port: number; lines: string[] }> {
    const upstream = http.createServer(madison);
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    closers.push(() => {
      upstream.closeAllConnections();
      upstream.close();
    });
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }));
    const config = proxyConfigFromEnv({
      ...base,
      ...env,
      MADISON_SCHEME: 'http',
      MADISON_BACKEND: `127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      LISTEN_HOST: '127.0.0.1',
      LISTEN_PORT: '0',
    });
    const proxy: RunningProxy = await startProxy(config, log);
    closers.push(() => void proxy.close());
    return { port: proxy.port, lines };
  }

  function post(port: number): Promise<{ status: number; body: string } | { error: string }> {
    return new Promise((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/api/v2/alerts', headers: { 'Content-Type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', (err) => resolve({ error: err.message }));
          res.on('aborted', () => resolve({ error: 'aborted' }));
        },
      );
      req.on('error', (err) => resolve({ error: err.message }));
      req.end('[]');
    });
  }

  it('closes the client connection when Madison breaks off after its headers, and does not log it as forwarded', async () => {
    const { port, lines } = await setup((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('{"par');
      setImmediate(() => res.socket?.destroy());
    });
    const result = await post(port);
    expect('error' in result).toBe(true);
    expect(lines.join('')).toContain('Madison broke off its answer');
    expect(lines.join('')).not.toContain('alerts forwarded');
  });

  it('answers 503 with Retry-After beyond the concurrency bound', async () => {
    const held: http.ServerResponse[] = [];
    const { port } = await setup((_req, res) => void held.push(res), { PROXY_MAX_CONCURRENT: '2' });
    const first = [post(port), post(port)];
    while (held.length < 2) await new Promise((r) => setImmediate(r));
    expect(await post(port)).toMatchObject({ status: 503, body: 'too many alert batches in flight\n' });
    for (const res of held) res.writeHead(200).end('{}');
    expect(await Promise.all(first)).toEqual([
      { status: 200, body: '{}' },
      { status: 200, body: '{}' },
    ]);
  });

  it('keeps at most PROXY_UPSTREAM_CONNECTIONS connections to Madison; the other batches wait and are delivered', async () => {
    const held: http.ServerResponse[] = [];
    const sockets = new Set<unknown>();
    const { port } = await setup(
      (req, res) => {
        sockets.add(req.socket);
        held.push(res);
      },
      { PROXY_UPSTREAM_CONNECTIONS: '2' },
    );
    const posts = [post(port), post(port), post(port), post(port)];
    while (held.length < 2) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    expect(held.length).toBe(2);
    while (held.length > 0) {
      for (const res of held.splice(0)) res.writeHead(200, { 'Content-Length': '2' }).end('{}');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await Promise.all(posts)).toEqual(Array.from({ length: 4 }, () => ({ status: 200, body: '{}' })));
    expect(sockets.size).toBe(2);
  });

  it('counts on /metrics what Madison accepted and why the rest was not delivered, by backend', async () => {
    const answers = [200, 500, 200];
    const { port } = await setup((_req, res) => void res.writeHead(answers.shift() ?? 200).end('{}'));
    for (let i = 0; i < 3; i++) await post(port);
    const metrics = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    expect(metrics).toMatch(/^madison_proxy_forwarded_total\{backend="127\.0\.0\.1:\d+"\} 2$/m);
    expect(metrics).toMatch(/^madison_proxy_forward_errors_total\{backend="127\.0\.0\.1:\d+",reason="rejected"\} 1$/m);
    expect(metrics).toMatch(/^madison_proxy_forward_errors_total\{backend="127\.0\.0\.1:\d+",reason="unreachable"\} 0$/m);
    expect(metrics).not.toContain('KEY-unit');
  });

  it('counts an unreachable backend', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }));
    const proxy = await startProxy(proxyConfigFromEnv({ ...base, MADISON_SCHEME: 'http', LISTEN_HOST: '127.0.0.1', LISTEN_PORT: '0' }), log);
    closers.push(() => void proxy.close());
    expect(await post(proxy.port)).toMatchObject({ status: 502 });
    const metrics = await (await fetch(`http://127.0.0.1:${proxy.port}/metrics`)).text();
    expect(metrics).toContain('madison_proxy_forward_errors_total{backend="127.0.0.1:1",reason="unreachable"} 1');
  });
});
