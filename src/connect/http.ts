/**
 * JSON over HTTP(S) for the Connect client, through the egress proxy when one is set:
 * plain HTTP goes to the proxy with an absolute URL, HTTPS is tunnelled with CONNECT.
 */
import http from 'node:http';
import https from 'node:https';
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

/** The proxy to use for `target`, honouring NO_PROXY (exact hosts, domain suffixes, `*`). */
export function proxyFor(target: URL, proxy: ProxySettings | undefined): URL | undefined {
  if (!proxy) return undefined;
  const host = target.hostname;
  const bypass = (proxy.noProxy ?? []).some((entry) => {
    const e = entry.trim().replace(/^\*?\./, '');
    return entry === '*' || host === e || host.endsWith(`.${e}`);
  });
  if (bypass) return undefined;
  const chosen = target.protocol === 'https:' ? (proxy.httpsProxy ?? proxy.httpProxy) : (proxy.httpProxy ?? proxy.httpsProxy);
  return chosen ? new URL(chosen) : undefined;
}

/** Opens a CONNECT tunnel to `host:port` through `proxy`. */
export function tunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const lib = proxy.protocol === 'https:' ? https : http;
    const req = lib.request({ host: proxy.hostname, port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80), method: 'CONNECT', path: `${host}:${port}`, timeout: timeoutMs });
    req.on('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`proxy ${proxy.host} refused CONNECT: ${res.statusCode} ${res.statusMessage ?? ''}`));
      }
    });
    req.on('timeout', () => req.destroy(new Error(`proxy ${proxy.host} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** POSTs JSON and returns the answer, whatever its status; rejects on network errors and timeouts. */
export async function postJSON(url: URL, body: unknown, headers: Record<string, string>, proxy: ProxySettings | undefined, timeoutMs: number): Promise<HTTPAnswer> {
  const payload = JSON.stringify(body);
  const via = proxyFor(url, proxy);
  const allHeaders = { ...headers, 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) };
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  let options: https.RequestOptions = { method: 'POST', headers: allHeaders, timeout: timeoutMs };
  if (via && url.protocol === 'https:') {
    const socket = await tunnel(via, url.hostname, port, timeoutMs);
    options = { ...options, createConnection: () => tls.connect({ socket, servername: url.hostname }) };
  } else if (via) {
    options = { ...options, host: via.hostname, port: via.port || 80, path: url.href };
  }
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = via && url.protocol !== 'https:' ? lib.request(options) : lib.request(url, options);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
