/**
 * The madison-proxy program (`flant-integration proxy`), the process inside each
 * madison-proxy pod: Alertmanager posts alerts here, and they go on to one Madison backend,
 * dialled by IP, with TLS verified against the Madison host name. The key is put in the
 * upstream path and never logged.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ProxyLog as Logger } from './log.js';
// Light modules only: the proxy's memory is paid once per pod (no prom-client, no schema, no informers).
import type { ProxySettings } from '../connect/http.js';
import { anyHost, listen, type Listener } from '../reconciler/server.js';

/** Settings of the proxy, read from its environment by the CLI. */
export interface ProxyConfig {
  /** @default "::", every IPv6 and IPv4 address (LISTEN_HOST) */
  readonly listenHost: string;
  /** @default 8080 (LISTEN_PORT) */
  readonly listenPort: number;
  /** `ip:port` of the Madison backend (MADISON_BACKEND). */
  readonly backend: string;
  /** @default "https" (MADISON_SCHEME) */
  readonly scheme: 'http' | 'https';
  /** Host header and TLS server name. @default "madison.flant.com" (MADISON_HOST) */
  readonly madisonHost: string;
  /** The Madison key (MADISON_AUTH_KEY). */
  readonly authKey: string;
  /** Extra trusted CAs, PEM (MADISON_CA_FILE). @default none: the system's CAs */
  readonly caFile?: string;
  /** Skip TLS verification, as the Deckhouse proxy did (MADISON_INSECURE_SKIP_VERIFY=true). @default false */
  readonly insecureSkipVerify: boolean;
  /** Largest alert batch accepted. @default 10 MiB */
  readonly bodyLimitBytes: number;
  /** Upstream timeout. @default 30000 */
  readonly upstreamTimeoutMs: number;
  /** Batches forwarded at once; more get 503 with Retry-After, so body buffers stay bounded. @default {@link defaultMaxConcurrent} (PROXY_MAX_CONCURRENT) */
  readonly maxConcurrent: number;
  /** Keep-alive connections to the backend; more batches in flight wait for one. @default {@link defaultUpstreamConnections} (PROXY_UPSTREAM_CONNECTIONS) */
  readonly upstreamConnections: number;
  /** Egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, either case). @default none */
  readonly egressProxy?: ProxySettings;
}

/** Default of {@link ProxyConfig.maxConcurrent}: with the 10 MiB body limit, at most 640 MiB could be buffered, and in practice batches are a few kB. */
export const defaultMaxConcurrent = 64;

/**
 * Default of {@link ProxyConfig.upstreamConnections}. Prometheus posts to each Alertmanager one
 * batch at a time, so a proxy rarely holds more than two; each TLS connection costs ~100 kB,
 * and 8 keep the proxy's peak RSS ~3 MiB lower than one per batch in flight under the bench's
 * 32 concurrent posts, at the same throughput (`npm run bench`).
 */
export const defaultUpstreamConnections = 8;

/** A whole number from `env[name]` within `min`..`max`, else `fallback` when unset; anything else fails naming it. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^[0-9]+$/.test(text.trim()) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  return value;
}

/** Reads the proxy's settings from environment variables; fails naming a missing or malformed one. */
export function proxyConfigFromEnv(env: NodeJS.ProcessEnv): ProxyConfig {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const scheme = env.MADISON_SCHEME ?? 'https';
  if (scheme !== 'http' && scheme !== 'https') throw new Error(`MADISON_SCHEME must be http or https, not "${scheme}"`);
  return {
    listenHost: env.LISTEN_HOST ?? anyHost,
    listenPort: wholeNumber(env, 'LISTEN_PORT', 8080, 0, 65535),
    backend: required('MADISON_BACKEND'),
    scheme,
    madisonHost: env.MADISON_HOST ?? 'madison.flant.com',
    authKey: required('MADISON_AUTH_KEY'),
    caFile: env.MADISON_CA_FILE || undefined,
    insecureSkipVerify: env.MADISON_INSECURE_SKIP_VERIFY === 'true',
    bodyLimitBytes: wholeNumber(env, 'PROXY_BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    upstreamTimeoutMs: wholeNumber(env, 'PROXY_UPSTREAM_TIMEOUT_MS', 30_000, 1, 3_600_000),
    maxConcurrent: wholeNumber(env, 'PROXY_MAX_CONCURRENT', defaultMaxConcurrent, 1, 100_000),
    upstreamConnections: wholeNumber(env, 'PROXY_UPSTREAM_CONNECTIONS', defaultUpstreamConnections, 1, 10_000),
    egressProxy: egressProxyFromEnv(env),
  };
}

function egressProxyFromEnv(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const pick = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
  const [httpProxy, httpsProxy, noProxy] = [pick('HTTP_PROXY'), pick('HTTPS_PROXY'), pick('NO_PROXY')];
  if (!httpProxy && !httpsProxy) return undefined;
  return { httpProxy, httpsProxy, noProxy: noProxy?.split(',').map((s) => s.trim()).filter(Boolean) };
}

/** A running proxy. */
export type RunningProxy = Listener;

const alertPaths = new Set(['/api/v1/alerts', '/api/v2/alerts']);

/** Why a batch was not delivered: the `reason` label of `madison_proxy_forward_errors_total`. */
type ForwardError = 'unreachable' | 'timeout' | 'rejected' | 'aborted';

/**
 * The proxy's own counters, served on `/metrics` in the Prometheus text format (written by
 * hand: the proxy loads no metrics library). The alert `FlantIntegrationMadisonForwardingErrors`
 * reads `madison_proxy_forward_errors_total`.
 */
export class ProxyCounters {
  forwarded = 0;
  readonly errors: Record<ForwardError, number> = { unreachable: 0, timeout: 0, rejected: 0, aborted: 0 };

  constructor(private readonly backend: string) {}

  exposition(): string {
    const backend = this.backend.replace(/["\\\n]/g, '');
    const lines = [
      '# HELP madison_proxy_forwarded_total Alert batches Madison accepted (2xx).',
      '# TYPE madison_proxy_forwarded_total counter',
      `madison_proxy_forwarded_total{backend="${backend}"} ${this.forwarded}`,
      '# HELP madison_proxy_forward_errors_total Alert batches not delivered, by reason: unreachable, timeout, rejected (non-2xx answer), aborted.',
      '# TYPE madison_proxy_forward_errors_total counter',
      ...Object.entries(this.errors).map(([reason, n]) => `madison_proxy_forward_errors_total{backend="${backend}",reason="${reason}"} ${n}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}

/** Starts the proxy. */
export async function startProxy(config: ProxyConfig, log: Logger): Promise<RunningProxy> {
  const upstream = await upstreamRequester(config);
  const counters = new ProxyCounters(config.backend);
  const eventsPath = `/api/events/prometheus/${encodeURIComponent(config.authKey)}`;
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') return void res.writeHead(200).end('ok\n');
    if (path === '/metrics' && req.method === 'GET') return void res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(counters.exposition());
    if (path === '/readyz') return void readiness(upstream, res, log);
    if (!alertPaths.has(path)) return void res.writeHead(404).end('not found\n');
    if (req.method !== 'POST') return void res.writeHead(405, { Allow: 'POST' }).end('method not allowed\n');
    if (inFlight >= config.maxConcurrent) {
      req.resume();
      return void res.writeHead(503, { 'Retry-After': '1', Connection: 'close' }).end('too many alert batches in flight\n');
    }
    inFlight++;
    res.once('close', () => inFlight--);
    forwardAlerts(config, upstream, req, res, log, counters, eventsPath);
  });
  server.requestTimeout = config.upstreamTimeoutMs + 5000;
  const listener = await listen(server, config.listenHost, config.listenPort);
  log.info({ listen: `${config.listenHost}:${listener.port}`, backend: config.backend }, 'madison-proxy listening');
  return listener;
}

type Upstream = (method: string, path: string, headers: Record<string, string>) => http.ClientRequest;

async function upstreamRequester(config: ProxyConfig): Promise<Upstream> {
  const [host, port] = splitHostPort(config.backend, config.scheme === 'https' ? 443 : 80);
  const ca = config.caFile ? [...tls.rootCertificates, readFileSync(config.caFile, 'utf8')] : undefined;
  // One secure context, made once: passing `ca` itself would have the agent build a pool key
  // from ~140 PEM strings and a new context for each connection.
  const secureContext = ca ? tls.createSecureContext({ ca }) : undefined;
  const tlsOptions = { servername: config.madisonHost, rejectUnauthorized: !config.insecureSkipVerify, ...(secureContext ? { secureContext } : {}) };
  const lib = config.scheme === 'https' ? https : http;
  const common = { host, port, timeout: config.upstreamTimeoutMs };
  // The egress proxy code is loaded only when one is configured: its memory is paid by those who use it.
  const egress = config.egressProxy ? await import('../connect/http.js') : undefined;
  const via = egress?.proxyFor(new URL(`${config.scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`), config.egressProxy);
  if (via && config.scheme === 'https') {
    const createConnection = (_options: unknown, done: (err: Error | null, socket?: Duplex) => void) => {
      egress?.tunnel(via, host, port, config.upstreamTimeoutMs).then((socket) => done(null, tls.connect({ socket, ...tlsOptions })), (err: Error) => done(err));
      return undefined;
    };
    return (method, path, headers) => https.request({ ...common, method, path, headers: { ...headers, Host: config.madisonHost }, createConnection } as https.RequestOptions);
  }
  // Keep-alive to the backend, TLS sessions resumed, Nagle off: one batch is one round trip.
  const pool = { keepAlive: true, maxSockets: config.upstreamConnections, maxFreeSockets: config.upstreamConnections };
  const agent = config.scheme === 'https' ? new https.Agent({ ...pool, ...tlsOptions }) : new http.Agent(pool);
  agent.on('free', (socket) => socket.setNoDelay(true));
  const target = via ? { host: via.hostname, port: Number(via.port || 80) } : {};
  return (method, path, headers) =>
    lib.request({ ...common, ...target, method, path: via ? `http://${config.backend}${path}` : path, agent, headers: { ...headers, Host: config.madisonHost }, servername: config.madisonHost });
}

function splitHostPort(address: string, defaultPort: number): [string, number] {
  const i = address.lastIndexOf(':');
  if (i <= 0 || address.endsWith(']')) return [address.replace(/^\[|\]$/g, ''), defaultPort];
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

function forwardAlerts(config: ProxyConfig, upstream: Upstream, req: http.IncomingMessage, res: http.ServerResponse, log: Logger, counters: ProxyCounters, eventsPath: string): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > config.bodyLimitBytes) return void res.writeHead(413).end('alert batch too large\n');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > config.bodyLimitBytes) {
      res.writeHead(413).end('alert batch too large\n');
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const out = upstream('POST', eventsPath, {
      'Content-Type': req.headers['content-type'] ?? 'application/json',
      'Content-Length': String(body.length),
    });
    out.on('response', (answer) => {
      // Madison's length passes through: one write, no chunked encoding.
      const length = answer.headers['content-length'];
      res.writeHead(answer.statusCode ?? 502, { 'Content-Type': answer.headers['content-type'] ?? 'text/plain', ...(length ? { 'Content-Length': length } : {}) });
      const ok = (answer.statusCode ?? 0) >= 200 && (answer.statusCode ?? 0) < 300;
      answer.pipe(res);
      answer.on('end', () => {
        if (ok) counters.forwarded++;
        else counters.errors.rejected++;
        log.info({ path: req.url, status: answer.statusCode, bytes: body.length }, 'alerts forwarded');
      });
      // Madison failed after its headers: the client must not hang on a half answer.
      answer.on('aborted', () => {
        counters.errors.aborted++;
        log.warn({ path: req.url, status: answer.statusCode }, 'Madison broke off its answer; the client connection is closed');
        res.destroy();
      });
    });
    out.on('timeout', () => out.destroy(new Error(`Madison did not answer within ${config.upstreamTimeoutMs} ms`)));
    out.on('error', (err) => {
      log.warn({ err: err.message }, 'cannot forward alerts to Madison');
      const timedOut = err.message.includes('did not answer');
      if (!res.headersSent) counters.errors[timedOut ? 'timeout' : 'unreachable']++;
      if (res.headersSent) res.destroy();
      else res.writeHead(timedOut ? 504 : 502).end('Madison is unreachable\n');
    });
    out.end(body);
  });
}

function readiness(upstream: Upstream, res: http.ServerResponse, log: Logger): void {
  const check = upstream('GET', '/healthz', {});
  check.on('response', (answer) => {
    answer.resume();
    const ok = (answer.statusCode ?? 0) >= 200 && (answer.statusCode ?? 0) < 300;
    res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : `Madison backend answers ${answer.statusCode}\n`);
  });
  check.on('timeout', () => check.destroy(new Error('timeout')));
  check.on('error', (err) => {
    log.debug({ err: err.message }, 'Madison backend health check failed');
    if (!res.headersSent) res.writeHead(503).end('Madison backend unreachable\n');
  });
  check.end();
}
