/**
 * The madison-proxy program (`flant-integration proxy`), the process inside each
 * madison-proxy pod: Alertmanager posts alerts here, and they go on to one Madison backend,
 * dialled by IP, with TLS verified against the Madison host name. The key is put in the
 * upstream path and never logged.
 */
import type { Socket } from 'node:net';
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
  /** Deadline of one whole exchange with Madison (connect, send, the whole answer), and of a health check. @default 30000 */
  readonly upstreamTimeoutMs: number;
  /**
   * Bytes of alert batches held at once; a batch beyond gets 503 with Retry-After. @default {@link defaultMaxBufferedBytes}
   * (PROXY_MAX_BUFFERED_BYTES)
   */
  readonly maxBufferedBytes: number;
  /**
   * Batches forwarded at once; more get 503 with Retry-After, so body buffers stay bounded. @default {@link defaultMaxConcurrent}
   * (PROXY_MAX_CONCURRENT)
   */
  readonly maxConcurrent: number;
  /**
   * Keep-alive connections to the backend; more batches in flight wait for one. @default {@link defaultUpstreamConnections}
   * (PROXY_UPSTREAM_CONNECTIONS)
   */
  readonly upstreamConnections: number;
  /** Egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, either case). @default none */
  readonly egressProxy?: ProxySettings;
}

/**
 * Default of {@link ProxyConfig.maxConcurrent}: with the 10 MiB body limit, at most 640 MiB could be buffered, and in practice batches are a few kB.
 */
export const defaultMaxConcurrent = 64;

/**
 * Default of {@link ProxyConfig.maxBufferedBytes}. The pod's memory limit is 128 MiB and the
 * proxy idles at ~50 MiB RSS: 32 MiB of batches held (each once: chunks go upstream as they
 * came, never joined into a copy) keeps the worst case under the limit (e2e/proxy.spec.ts
 * posts 64 batches of 5 MiB at once and reads the peak).
 */
export const defaultMaxBufferedBytes = 32 * 1024 * 1024;

/** How long one health answer of the backend serves `/readyz`: probes of every kubelet and person cost one check. */
export const readinessCacheMs = 5000;

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
  if (!/^[0-9]+$/.test(text.trim()) || value < min || value > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
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
    maxBufferedBytes: wholeNumber(env, 'PROXY_MAX_BUFFERED_BYTES', defaultMaxBufferedBytes, 1024, 16 * 1024 * 1024 * 1024),
    maxConcurrent: wholeNumber(env, 'PROXY_MAX_CONCURRENT', defaultMaxConcurrent, 1, 100_000),
    upstreamConnections: wholeNumber(env, 'PROXY_UPSTREAM_CONNECTIONS', defaultUpstreamConnections, 1, 10_000),
    egressProxy: egressProxyFromEnv(env),
  };
}

function egressProxyFromEnv(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const pick = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
  const [httpProxy, httpsProxy, noProxy] = [pick('HTTP_PROXY'), pick('HTTPS_PROXY'), pick('NO_PROXY')];
  if (!httpProxy && !httpsProxy) return undefined;
  return {
    httpProxy,
    httpsProxy,
    noProxy: noProxy
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
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

/** Bytes of batches held now, against {@link ProxyConfig.maxBufferedBytes}. */
class ByteBudget {
  held = 0;
  constructor(private readonly max: number) {}
  /** Takes `n` more bytes, or says no when that would pass the budget. */
  take(n: number): boolean {
    if (this.held + n > this.max) return false;
    this.held += n;
    return true;
  }
  give(n: number): void {
    this.held -= n;
  }
}

/** Starts the proxy. */
export async function startProxy(config: ProxyConfig, log: Logger): Promise<RunningProxy> {
  const upstream = await upstreamRequester(config, config.upstreamConnections);
  // Its own connection: health checks never wait behind alert batches, nor take their sockets.
  const ready = readinessChecker(await upstreamRequester(config, 1), config.upstreamTimeoutMs, log);
  const counters = new ProxyCounters(config.backend);
  const eventsPath = `/api/events/prometheus/${encodeURIComponent(config.authKey)}`;
  const budget = new ByteBudget(config.maxBufferedBytes);
  let inFlight = 0;
  // The body is read and dropped (never held), so the client reads the 503 instead of a broken pipe.
  const busy = (res: http.ServerResponse, req: http.IncomingMessage, why: string) => {
    req.resume();
    res.writeHead(503, { 'Retry-After': '1' }).end(`${why}\n`);
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz') return void res.writeHead(200).end('ok\n');
    if (path === '/metrics' && req.method === 'GET')
      return void res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(counters.exposition());
    if (path === '/readyz') return void ready().then((r) => res.writeHead(r.ok ? 200 : 503).end(r.text));
    if (!alertPaths.has(path)) return void res.writeHead(404).end('not found\n');
    if (req.method !== 'POST') return void res.writeHead(405, { Allow: 'POST' }).end('method not allowed\n');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > config.bodyLimitBytes) return void res.writeHead(413).end('alert batch too large\n');
    if (inFlight >= config.maxConcurrent) return busy(res, req, 'too many alert batches in flight');
    // A declared length is reserved at once; a chunked body takes its bytes as they come.
    const reserved = Number.isFinite(declared) && declared > 0 ? declared : 0;
    if (!budget.take(reserved)) return busy(res, req, 'too many alert bytes in flight');
    inFlight++;
    const held = { bytes: reserved };
    res.once('close', () => {
      inFlight--;
      budget.give(held.bytes);
    });
    forwardAlerts(config, upstream, req, res, log, counters, eventsPath, (size) => {
      if (size <= held.bytes) return true;
      if (!budget.take(size - held.bytes)) return false;
      held.bytes = size;
      return true;
    });
  });
  server.requestTimeout = config.upstreamTimeoutMs + 5000;
  const listener = await listen(server, config.listenHost, config.listenPort);
  log.info({ listen: `${config.listenHost}:${listener.port}`, backend: config.backend }, 'madison-proxy listening');
  return listener;
}

type Upstream = (method: string, path: string, headers: Record<string, string>) => http.ClientRequest;

async function upstreamRequester(config: ProxyConfig, connections: number): Promise<Upstream> {
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
      egress?.tunnel(via, host, port, config.upstreamTimeoutMs).then(
        (socket) => done(null, tls.connect({ socket, ...tlsOptions })),
        (err: Error) => done(err),
      );
      return undefined;
    };
    return (method, path, headers) =>
      https.request({ ...common, method, path, headers: { ...headers, Host: config.madisonHost }, createConnection } as https.RequestOptions);
  }
  // Keep-alive to the backend, TLS sessions resumed, Nagle off: one batch is one round trip.
  const pool = { keepAlive: true, maxSockets: connections, maxFreeSockets: connections };
  const agent = config.scheme === 'https' ? new https.Agent({ ...pool, ...tlsOptions }) : new http.Agent(pool);
  agent.on('free', (socket: Socket) => {
    socket.setNoDelay(true);
  });
  const target = via && egress ? { host: egress.socketHost(via), port: Number(via.port || 80) } : {};
  return (method, path, headers) =>
    lib.request({
      ...common,
      ...target,
      method,
      path: via ? `http://${config.backend}${path}` : path,
      agent,
      headers: { ...headers, Host: config.madisonHost },
      servername: config.madisonHost,
    });
}

function splitHostPort(address: string, defaultPort: number): [string, number] {
  const i = address.lastIndexOf(':');
  if (i <= 0 || address.endsWith(']')) return [address.replace(/^\[|\]$/g, ''), defaultPort];
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

/**
 * Reads one batch (within the body limit and, through `grow`, the byte budget) and sends it to
 * Madison, chunks as they came. The whole exchange has one deadline: a backend that trickles
 * its answer does not hold a slot past it. Each batch is counted once: forwarded, or one reason.
 */
function forwardAlerts(
  config: ProxyConfig,
  upstream: Upstream,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: Logger,
  counters: ProxyCounters,
  eventsPath: string,
  grow: (size: number) => boolean,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (c: Buffer) => {
    if (refused) return;
    size += c.length;
    if (size > config.bodyLimitBytes) {
      refused = true;
      res.writeHead(413, { Connection: 'close' }).end('alert batch too large\n');
      req.destroy();
      return;
    }
    if (!grow(size)) {
      // What was read is let go; the rest is read and dropped.
      refused = true;
      chunks.length = 0;
      res.writeHead(503, { 'Retry-After': '1' }).end('too many alert bytes in flight\n');
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (refused) return;
    const out = upstream('POST', eventsPath, {
      'Content-Type': req.headers['content-type'] ?? 'application/json',
      'Content-Length': String(size),
    });
    let settled = false;
    const settle = (outcome: 'forwarded' | ForwardError) => {
      if (settled) return false;
      settled = true;
      clearTimeout(deadline);
      if (outcome === 'forwarded') counters.forwarded++;
      else counters.errors[outcome]++;
      return true;
    };
    const deadline = setTimeout(() => {
      if (!settle('timeout')) return;
      log.warn({ path: req.url, timeoutMs: config.upstreamTimeoutMs }, 'Madison did not finish its answer in time; the exchange is given up');
      if (res.headersSent) res.destroy();
      else res.writeHead(504).end('Madison did not answer in time\n');
      out.destroy();
    }, config.upstreamTimeoutMs);
    res.once('close', () => {
      // The client went away (or we are done): nothing more to wait for upstream.
      if (!settled) {
        settle('aborted');
        out.destroy();
      }
    });
    out.on('response', (answer) => {
      // Madison's length passes through: one write, no chunked encoding.
      const length = answer.headers['content-length'];
      res.writeHead(answer.statusCode ?? 502, {
        'Content-Type': answer.headers['content-type'] ?? 'text/plain',
        ...(length ? { 'Content-Length': length } : {}),
      });
      const ok = (answer.statusCode ?? 0) >= 200 && (answer.statusCode ?? 0) < 300;
      answer.pipe(res);
      answer.on('end', () => {
        if (settle(ok ? 'forwarded' : 'rejected')) log.info({ path: req.url, status: answer.statusCode, bytes: size }, 'alerts forwarded');
      });
      // Madison failed after its headers: the client must not hang on a half answer.
      answer.on('aborted', () => {
        if (!settle('aborted')) return;
        log.warn({ path: req.url, status: answer.statusCode }, 'Madison broke off its answer; the client connection is closed');
        res.destroy();
      });
    });
    out.on('timeout', () => out.destroy(new Error(`Madison was silent for ${config.upstreamTimeoutMs} ms`)));
    out.on('error', (err) => {
      const timedOut = err.message.includes('was silent');
      if (!settle(timedOut ? 'timeout' : res.headersSent ? 'aborted' : 'unreachable')) return;
      log.warn({ err: err.message }, 'cannot forward alerts to Madison');
      if (res.headersSent) res.destroy();
      else res.writeHead(timedOut ? 504 : 502).end('Madison is unreachable\n');
    });
    void sendChunks(out, chunks);
  });
}

/**
 * Writes the batch's chunks upstream one at a time, each after the last one drained, letting
 * go of each as it is written: TLS never holds a second, encrypted copy of a whole batch.
 */
async function sendChunks(out: http.ClientRequest, chunks: Buffer[]): Promise<void> {
  while (chunks.length > 0) {
    if (out.destroyed) return;
    const chunk = chunks.shift() as Buffer;
    if (!out.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          out.off('drain', done);
          out.off('close', done);
          resolve();
        };
        out.on('drain', done);
        out.on('close', done);
      });
    }
  }
  if (!out.destroyed) out.end();
}

/** `/readyz`: the backend's health, checked at most once per {@link readinessCacheMs} (one check at a time), within `timeoutMs`. */
function readinessChecker(health: Upstream, timeoutMs: number, log: Logger): () => Promise<{ ok: boolean; text: string }> {
  let last: { at: number; ok: boolean; text: string } | undefined;
  let pending: Promise<{ ok: boolean; text: string }> | undefined;
  const check = () =>
    new Promise<{ ok: boolean; text: string }>((resolve) => {
      const req = health('GET', '/healthz', {});
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const done = (ok: boolean, text: string) => {
        clearTimeout(timer);
        resolve({ ok, text });
      };
      req.on('response', (answer) => {
        answer.resume();
        const ok = (answer.statusCode ?? 0) >= 200 && (answer.statusCode ?? 0) < 300;
        done(ok, ok ? 'ok\n' : `Madison backend answers ${answer.statusCode}\n`);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        log.debug({ err: err.message }, 'Madison backend health check failed');
        done(false, 'Madison backend unreachable\n');
      });
      req.end();
    });
  return () => {
    if (last && performance.now() - last.at < readinessCacheMs) return Promise.resolve(last);
    pending ??= check().then((r) => {
      last = { at: performance.now(), ...r };
      pending = undefined;
      return r;
    });
    return pending;
  };
}
