/**
 * A local stand-in for the Connect service on 127.0.0.1: Madison registration and status,
 * and receivers for remote_write and Loki push that record what they get. Tests steer it
 * through its methods.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { decodeSnappy, decodeWriteRequest, type TimeSeries } from './remotewrite.js';

/** One request the fake received. */
export interface Received {
  readonly path: string;
  readonly authorization: string;
  readonly body: string;
}

/** One remote_write push, decoded (snappy, then protobuf). */
export interface RemoteWrite {
  readonly authorization: string;
  readonly series: readonly TimeSeries[];
}

/** The fake Connect server. */
export class FakeConnect {
  readonly received: Received[] = [];
  /** Every remote_write push that decoded. */
  readonly remoteWrites: RemoteWrite[] = [];
  /** remote_write pushes that did not decode, with why. */
  readonly badRemoteWrites: string[] = [];
  /** Keys issued so far. */
  readonly issued: string[] = [];
  private revoked = new Set<string>();
  private failure?: { status: number; error: string };
  private misbehaviour?: { mode: 'slow' | 'garbage' | 'huge'; slowMs: number };
  private server?: http.Server;

  /**
   * @param licence the bearer token it accepts
   * @param options where to listen (127.0.0.1, any port, plain HTTP unless told otherwise)
   *   and a hook called with each request as it arrives
   */
  constructor(
    private readonly licence: string,
    private readonly options: { host?: string; port?: number; tls?: { cert: Buffer; key: Buffer }; onRequest?: (request: Received) => void } = {},
  ) {}

  /** Starts listening and returns the base URL. */
  async start(): Promise<string> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = this.options.tls ? https.createServer(this.options.tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.server?.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve));
    return this.url;
  }

  /** Base URL, e.g. `http://127.0.0.1:34567`. */
  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://${this.options.host ?? '127.0.0.1'}:${(this.server?.address() as AddressInfo).port}`;
  }

  /** Makes registration answer `status` with `{"error": error}` until {@link FakeConnect.recover}. */
  failRegistration(status: number, error: string): void {
    this.failure = { status, error };
  }

  /** Registration works again (and so does every misbehaviour below). */
  recover(): void {
    this.failure = undefined;
    this.misbehaviour = undefined;
  }

  /**
   * Makes Madison registration misbehave until {@link FakeConnect.recover}: answer after
   * `slowMs` (`slow`), answer 200 with a body that is not JSON (`garbage`), or a 2 MiB body (`huge`).
   */
  misbehave(mode: 'slow' | 'garbage' | 'huge', slowMs = 12_000): void {
    this.misbehaviour = { mode, slowMs };
  }

  /** Connect now says this key's setup is archived. */
  revoke(key: string): void {
    this.revoked.add(key);
  }

  /** Requests to `path`. */
  requests(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      const path = (req.url ?? '').split('?')[0] ?? '';
      const received = { path, authorization: req.headers.authorization ?? '', body };
      this.received.push(received);
      this.options.onRequest?.(received);
      if (path === '/v1/remote_write') this.decodeRemoteWrite(req, raw);
      const odd = path === '/v1/madison_register' ? this.misbehaviour : undefined;
      if (odd?.mode === 'garbage') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('<html>surprise</html>');
      if (odd?.mode === 'huge')
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(`{"error":"${'x'.repeat(2 * 1024 * 1024)}"}`);
      const [status, answer] = this.answer(path, req.headers.authorization ?? '', body);
      if (odd?.mode === 'slow') {
        const timer = setTimeout(() => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer)), odd.slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(answer === undefined ? '' : JSON.stringify(answer));
    });
  }

  private decodeRemoteWrite(req: http.IncomingMessage, raw: Buffer): void {
    try {
      if (req.headers['content-encoding'] !== 'snappy') throw new Error(`Content-Encoding ${req.headers['content-encoding'] ?? 'none'}, not snappy`);
      this.remoteWrites.push({ authorization: req.headers.authorization ?? '', series: decodeWriteRequest(decodeSnappy(raw)) });
    } catch (err) {
      this.badRemoteWrites.push(err instanceof Error ? err.message : String(err));
    }
  }

  /** The latest value pushed of each series of `metric`, keyed by its labels other than `__name__` (as `k=v,...`, sorted). */
  latest(metric: string, authorization?: string): Map<string, { labels: Record<string, string>; value: number }> {
    const found = new Map<string, { labels: Record<string, string>; value: number; timestamp: number }>();
    for (const push of this.remoteWrites) {
      if (authorization !== undefined && push.authorization !== authorization) continue;
      for (const s of push.series) {
        if (s.labels.__name__ !== metric) continue;
        const key = Object.entries(s.labels)
          .filter(([k]) => k !== '__name__')
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        for (const sample of s.samples) {
          const prior = found.get(key);
          if (!prior || sample.timestamp >= prior.timestamp) found.set(key, { labels: s.labels, value: sample.value, timestamp: sample.timestamp });
        }
      }
    }
    return new Map([...found].map(([k, v]) => [k, { labels: v.labels, value: v.value }]));
  }

  private answer(path: string, authorization: string, body: string): [number, unknown] {
    if (authorization !== `Bearer ${this.licence}`) return [401, { error: 'Invalid license' }];
    switch (path) {
      case '/v1/madison_register':
        return this.register();
      case '/v1/madison_status': {
        const key = (JSON.parse(body) as { auth_key?: string }).auth_key ?? '';
        return this.revoked.has(key) ? [401, { error: 'Archived setup' }] : [200, {}];
      }
      case '/v1/remote_write':
      case '/v1/loki_push':
        return [204, undefined];
      default:
        return [404, { error: 'not found' }];
    }
  }

  private register(): [number, unknown] {
    if (this.failure) return [this.failure.status, { error: this.failure.error }];
    const key = `madison-${randomBytes(12).toString('hex')}`;
    this.issued.push(key);
    return [200, { auth_key: key }];
  }
}
