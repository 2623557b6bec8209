/**
 * A local HTTPS stand-in for a Madison backend on 127.0.0.1, with a certificate for
 * madison.flant.com signed by a CA made for the test (openssl). It records what it gets;
 * its /healthz answers as the test says.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A request the stand-in received. */
export interface MadisonRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  /** The body as text; empty for one over {@link keptBodyBytes} (see `bytes`). */
  readonly body: string;
  readonly bytes: number;
}

/** Bodies up to this size are kept as text; larger ones (load tests) only counted. */
const keptBodyBytes = 1024 * 1024;

/** Makes a CA and a server certificate for `name` in a temporary folder. */
export function makeCertificates(name: string): { dir: string; caFile: string; cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'madison-tls-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=DNS:${name}\n`);
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  ]);
  return { dir, caFile: join(dir, 'ca.pem'), cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server.key')) };
}

/** Where the stand-in listens and with which certificate (the kind suite runs it in a pod). */
export interface ListenOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0: any free port */
  readonly port?: number;
  /** A certificate and key (PEM) to serve. @default one made here for madison.flant.com */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Called with each request as it arrives. */
  readonly onRequest?: (request: MadisonRequest) => void;
}

/** The Madison stand-in. */
export class FakeMadison {
  readonly requests: MadisonRequest[] = [];
  /** What /healthz answers. */
  healthStatus = 200;
  /** When above 0, alert answers trickle: headers at once, then one byte every this many ms, 20 times. */
  trickleMs = 0;
  private server?: https.Server;
  private readonly certs: { dir?: string; caFile: string; cert: Buffer; key: Buffer };

  constructor(private readonly options: ListenOptions = {}) {
    this.certs = options.tls ? { caFile: '', ...options.tls } : makeCertificates('madison.flant.com');
  }

  /** CA that signed the server certificate (for MADISON_CA_FILE). */
  get caFile(): string {
    return this.certs.caFile;
  }

  /** Starts listening (on 127.0.0.1 unless told otherwise) and returns `host:port`. */
  async start(): Promise<string> {
    this.server = https.createServer({ cert: this.certs.cert, key: this.certs.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const bytes = chunks.reduce((n, c) => n + c.length, 0);
        const request = {
          method: req.method ?? '',
          path: req.url ?? '',
          host: req.headers.host ?? '',
          body: bytes <= keptBodyBytes ? Buffer.concat(chunks).toString('utf8') : '',
          bytes,
        };
        chunks.length = 0;
        this.requests.push(request);
        this.options.onRequest?.(request);
        if (req.url === '/healthz') return void res.writeHead(this.healthStatus).end();
        if (this.trickleMs > 0 && req.url?.startsWith('/api/events/prometheus/')) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          let sent = 0;
          const timer = setInterval(() => {
            if (++sent > 20 || res.destroyed) {
              clearInterval(timer);
              return void res.end();
            }
            res.write(' ');
          }, this.trickleMs);
          res.on('close', () => clearInterval(timer));
          return;
        }
        res.writeHead(req.url?.startsWith('/api/events/prometheus/') ? 200 : 404, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => this.server?.listen(this.options.port ?? 0, host, resolve));
    return `${host}:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
    if (this.certs.dir) rmSync(this.certs.dir, { recursive: true, force: true });
  }
}
