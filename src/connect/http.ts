/**
 * JSON over HTTP(S) for the Connect client, through the egress proxy when one is set:
 * plain HTTP goes to the proxy with an absolute URL, HTTPS is tunnelled with CONNECT.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

/** Egress proxy settings, as in `spec.proxy`. */
export interface ProxySettings {
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly noProxy?: readonly string[];
}

/** An HTTP answer: status line and body text. */
export interface HTTPAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
}

/** True when a NO_PROXY entry covers `target`: `*`, a host or domain suffix (`.example.com`, `example.com`), `host:port`, or a CIDR. */
function bypasses(entry: string, target: URL): boolean {
  const e = entry.trim().toLowerCase();
  if (e === '') return false;
  if (e === '*') return true;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  const cidr = /^([0-9a-f.:]+)\/([0-9]{1,3})$/.exec(e);
  if (cidr) {
    const family = net.isIP(cidr[1] ?? '');
    if (family === 0 || net.isIP(host) !== family) return false;
    const list = new net.BlockList();
    list.addSubnet(cidr[1] ?? '', Number(cidr[2]), family === 4 ? 'ipv4' : 'ipv6');
    return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
  }
  const withPort = /^(.*):([0-9]+)$/.exec(e);
  if (withPort && !e.includes('::')) return withPort[2] === port && bypasses(withPort[1] ?? '', target);
  const domain = e.replace(/^\*?\./, '');
  return host === domain || host.endsWith(`.${domain}`);
}

/** True when a NO_PROXY list (hosts, domain suffixes, `host:port`, CIDRs, `*`) sends `target` direct. */
export function noProxyCovers(noProxy: readonly string[] | undefined, target: URL): boolean {
  return (noProxy ?? []).some((entry) => bypasses(entry, target));
}

/** The proxy to use for `target`, honouring NO_PROXY (hosts, domain suffixes, `host:port`, CIDRs, `*`). */
export function proxyFor(target: URL, proxy: ProxySettings | undefined): URL | undefined {
  if (!proxy) return undefined;
  if (noProxyCovers(proxy.noProxy, target)) return undefined;
  const chosen = target.protocol === 'https:' ? (proxy.httpsProxy ?? proxy.httpProxy) : (proxy.httpProxy ?? proxy.httpsProxy);
  return chosen ? new URL(chosen) : undefined;
}

/** `Proxy-Authorization` for the credentials in a proxy URL (`http://user:pass@proxy:3128`), if any. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** A URL as it may be logged: without the credentials it may carry. */
export function displayURL(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return '<unparsable URL>';
  }
}

/** The host of a URL as a socket wants it: an IPv6 literal without its brackets (`[::1]` -> `::1`). */
export function socketHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Opens a CONNECT tunnel to `host:port` through `proxy`. When `signal` aborts first (the
 * caller's deadline) the attempt is destroyed, and a tunnel that opens after all is closed at
 * once: no socket outlives the caller that gave up on it.
 */
export function tunnel(proxy: URL, host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const lib = proxy.protocol === 'https:' ? https : http;
    const req = lib.request({
      host: socketHost(proxy),
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: `${host}:${port}`,
      headers: proxyAuthorization(proxy),
      timeout: timeoutMs,
    });
    const onAbort = () => req.destroy(new Error(`gave up on the tunnel through proxy ${proxy.host}`));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200 && !signal?.aborted) resolve(socket);
      else {
        socket.destroy();
        reject(
          new Error(
            signal?.aborted
              ? `gave up on the tunnel through proxy ${proxy.host}`
              : `proxy ${proxy.host} refused CONNECT: ${res.statusCode} ${res.statusMessage ?? ''}`,
          ),
        );
      }
    });
    req.on('timeout', () => req.destroy(new Error(`proxy ${proxy.host} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The largest answer read from Connect; its answers are a few hundred bytes. */
export const maxAnswerBytes = 1024 * 1024;

/**
 * POSTs JSON and returns the answer, whatever its status. One deadline covers the whole
 * exchange (tunnel, request, every byte of the answer): a server that trickles its answer
 * is cut off at `timeoutMs`. An answer over {@link maxAnswerBytes} is refused unread.
 */
export async function postJSON(
  url: URL,
  body: unknown,
  headers: Record<string, string>,
  proxy: ProxySettings | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<HTTPAnswer> {
  // Node 20 could garbage-collect the timeout signal inside AbortSignal.any before it fired
  // (nodejs/node#57736), leaving the exchange with no deadline; Node 24 keeps it (the unit test
  // forcing collections shows both), so the plain form is safe on the runtime we ship.
  const timeout = AbortSignal.timeout(timeoutMs);
  const deadline = signal ? AbortSignal.any([timeout, signal]) : timeout;
  return exchange(url, body, headers, proxy, timeoutMs, deadline, signal);
}

async function exchange(
  url: URL,
  body: unknown,
  headers: Record<string, string>,
  proxy: ProxySettings | undefined,
  timeoutMs: number,
  deadline: AbortSignal,
  signal?: AbortSignal,
): Promise<HTTPAnswer> {
  const expired = () => new Error(signal?.aborted ? 'aborted: this process stopped leading' : `no answer within ${timeoutMs / 1000} s`);
  const payload = JSON.stringify(body);
  const via = proxyFor(url, proxy);
  const allHeaders: Record<string, string> = {
    ...headers,
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'Content-Length': String(Buffer.byteLength(payload)),
  };
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  let options: https.RequestOptions = { method: 'POST', headers: allHeaders };
  if (via && url.protocol === 'https:') {
    const socket = await tunnel(via, socketHost(url), port, timeoutMs, deadline).catch((err: unknown) => {
      throw deadline.aborted ? expired() : err;
    });
    options = { ...options, createConnection: () => tls.connect({ socket, servername: url.hostname }) };
  } else if (via) {
    options = { ...options, host: socketHost(via), port: via.port || 80, path: url.href, headers: { ...allHeaders, ...proxyAuthorization(via) } };
  }
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = via && url.protocol !== 'https:' ? lib.request(options) : lib.request(url, options);
    const onDeadline = () => req.destroy(expired());
    if (deadline.aborted) onDeadline();
    deadline.addEventListener('abort', onDeadline, { once: true });
    req.on('close', () => deadline.removeEventListener('abort', onDeadline));
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > maxAnswerBytes) {
        req.destroy(new Error(`answer of ${declared} bytes is over the ${maxAnswerBytes}-byte limit`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxAnswerBytes) req.destroy(new Error(`answer is over the ${maxAnswerBytes}-byte limit`));
        else chunks.push(c);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
