/**
 * The manager's HTTP listeners: `/healthz` and `/readyz` for probes, `/metrics` for Prometheus.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** The host a listener binds when none is given: every address, IPv6 and IPv4 (dual-stack). */
export const anyHost = '::';

/** A bind address as kubebuilder writes it: `:8080`, `127.0.0.1:0`, `[::1]:8080`; `0` or empty turns it off. No host: {@link anyHost}. */
export function parseBindAddress(address: string): { host: string; port: number } | undefined {
  if (address === '' || address === '0') return undefined;
  const i = address.lastIndexOf(':');
  const host = i > 0 ? address.slice(0, i) : anyHost;
  const port = Number(i >= 0 ? address.slice(i + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad bind address "${address}": want host:port or :port`);
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

/** A listening server and the port it got. */
export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `routes` (path -> handler giving status and body) on `address`; undefined when turned off. */
export async function serve(
  address: string,
  routes: Record<string, () => Promise<{ status: number; body: string; type?: string }>>,
): Promise<Listener | undefined> {
  const bind = parseBindAddress(address);
  if (!bind) return undefined;
  const server = http.createServer((req, res) => {
    const route = routes[(req.url ?? '/').split('?')[0] ?? '/'];
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end('not found\n');
      return;
    }
    route().then(
      ({ status, body, type }) => res.writeHead(status, { 'Content-Type': type ?? 'text/plain; charset=utf-8' }).end(body),
      (err: unknown) => res.writeHead(500).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  server.keepAliveTimeout = 5000;
  return listen(server, bind.host, bind.port);
}

/**
 * Starts `server` on `host:port` and returns the port it got and a close that drops open
 * connections. On a machine without IPv6, {@link anyHost} falls back to every IPv4 address.
 */
export async function listen(server: http.Server, host: string, port: number): Promise<Listener> {
  try {
    await bind(server, host, port);
  } catch (err) {
    const code = (err as { cause?: NodeJS.ErrnoException }).cause?.code;
    if (host !== anyHost || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
    await bind(server, '0.0.0.0', port);
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function bind(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Routes of the metrics listener. */
export function metricsRoutes(registry: Registry) {
  return { '/metrics': async () => ({ status: 200, body: await registry.metrics(), type: registry.contentType }) };
}

/** Routes of the probe listener. */
export function probeRoutes(ready: () => string | undefined) {
  return {
    '/healthz': async () => ({ status: 200, body: 'ok\n' }),
    '/readyz': async () => {
      const why = ready();
      return why === undefined ? { status: 200, body: 'ok\n' } : { status: 503, body: `not ready: ${why}\n` };
    },
  };
}
