/**
 * A local egress proxy on 127.0.0.1 (or ::1): CONNECT tunnels, and plain-HTTP requests in
 * absolute form forwarded as they are; it records what it was asked and with which
 * Proxy-Authorization. The egress proxy of `spec.proxy` in tests.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

/** The CONNECT proxy. */
export class FakeEgressProxy {
  /** The Proxy-Authorization header of every CONNECT, '' when absent. */
  readonly authorizations: string[] = [];
  /** `host:port` of every tunnel asked for. */
  readonly tunnels: string[] = [];
  /** The absolute URL of every plain-HTTP request forwarded. */
  readonly forwarded: string[] = [];
  private server = http.createServer((req, res) => {
    if (!req.url?.startsWith('http://')) return void res.writeHead(405).end();
    this.authorizations.push(req.headers['proxy-authorization'] ?? '');
    this.forwarded.push(req.url);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const out = http.request(req.url, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  private sockets = new Set<net.Socket>();

  /** Listens on `host` (127.0.0.1, or `::1` for an IPv6-literal proxy URL) and returns the proxy's URL. */
  async start(host = '127.0.0.1'): Promise<string> {
    this.server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      this.authorizations.push(req.headers['proxy-authorization'] ?? '');
      const target = req.url ?? '';
      this.tunnels.push(target);
      this.sockets.add(client);
      const i = target.lastIndexOf(':');
      const upstream = net.connect(Number(target.slice(i + 1)), target.slice(0, i), () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    return `http://${host.includes(':') ? `[${host}]` : host}:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
