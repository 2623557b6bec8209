/**
 * A small JSON client of the Kubernetes API. Authentication and TLS come from a loaded
 * kubeconfig (./kubeconfig.ts); requests are plain HTTPS with JSON bodies, so what we send is
 * exactly what we built (client-node 1.4's typed serialisers drop fields such as
 * `x-kubernetes-*` and `default`), and every content type is explicit.
 */
import http from 'node:http';
import https from 'node:https';
import type { ClusterConfig } from './kubeconfig.js';

/** A Kubernetes object as JSON: enough structure to address it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    ownerReferences?: OwnerReference[];
    creationTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** metav1.OwnerReference. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A list answer. */
export interface KubeList<T extends KubeObject = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** An error answer of the API server, with its HTTP code and Status reason. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** True for a 404 answer. */
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}

/**
 * True for a 404 without a Status body: the path itself is not served, as for a kind whose CRD
 * was established a moment ago, before the API server's handler for it is up.
 */
export function isNotServed(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404 && err.reason === '';
}

/** True for a 403 answer (RBAC does not allow it). */
export function isForbidden(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 403;
}

/** True for a 409 answer (conflict or already exists). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}

/** Options of one request. */
export interface RequestOptions {
  /** Query parameters; undefined values are left out. */
  readonly query?: Record<string, string | number | boolean | undefined>;
  /** JSON body. */
  readonly body?: unknown;
  /** Content-Type of the body. @default "application/json" */
  readonly contentType?: string;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
  /** Milliseconds before the request is abandoned. @default 30000 */
  readonly timeoutMs?: number;
}

/** One event of a watch stream. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** What the controller needs from the Kubernetes API. */
export interface KubeClient {
  /** Sends one request and returns the decoded JSON answer. */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /**
   * Opens a watch and calls `onEvent` for each event until the server closes the stream
   * (resolves) or the connection fails (rejects). Aborting `signal` resolves it.
   */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Base URL of the API server, for messages. */
  readonly server: string;
}

/** Creates a {@link KubeClient} from a loaded kubeconfig. */
export async function kubeClient(config: ClusterConfig): Promise<KubeClient> {
  const base = new URL(config.server);
  const { ca, cert, key, rejectUnauthorized, servername } = await config.tls();
  const agent =
    base.protocol === 'https:'
      ? new https.Agent({ ca, cert, key, rejectUnauthorized, servername, keepAlive: true })
      : new http.Agent({ keepAlive: true });
  // Credentials are taken for every request: a projected ServiceAccount token rotated by the
  // kubelet, or an exec/OIDC kubeconfig, is re-read (a token file at most a minute late, like
  // client-go). TLS material stays on the agent.
  return new JSONClient(base, agent, () => config.credentials());
}

class JSONClient implements KubeClient {
  readonly server: string;

  constructor(
    private readonly base: URL,
    private readonly agent: http.Agent,
    private readonly credentials: () => Promise<Record<string, string>>,
  ) {
    this.server = base.origin;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const res = await this.send(method, path, options, body);
    const text = await readBody(res);
    if ((res.statusCode ?? 0) >= 400) throw apiError(res.statusCode ?? 0, text, method, path);
    return (text.length > 0 ? JSON.parse(text) : undefined) as T;
  }

  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await this.send('GET', path, { query: { ...query, watch: true }, signal, timeoutMs: 0 });
    if ((res.statusCode ?? 0) >= 400) throw apiError(res.statusCode ?? 0, await readBody(res), 'WATCH', path);
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (err === undefined || signal.aborted) resolve();
        else reject(err instanceof Error ? err : new Error('the request failed', { cause: err }));
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        try {
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent);
          }
        } catch (err) {
          finish(err);
          res.destroy();
        }
      });
      res.on('end', () => finish());
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(res.complete ? undefined : new Error(`watch ${path}: connection closed`)));
    });
  }

  private async send(method: string, path: string, options: RequestOptions, body?: string): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...(await this.credentials()), Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: this.agent, signal: options.signal }, resolve);
      const timeout = options.timeoutMs ?? 30_000;
      if (timeout > 0) req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${url.pathname} timed out after ${timeout} ms`)));
      req.on('error', (err) => reject(new Error(`${method} ${url.pathname}: ${describeNetworkError(err)}`, { cause: err })));
      req.end(body);
    });
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function apiError(code: number, text: string, method: string, path: string): KubeApiError {
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new KubeApiError(code, status.reason ?? '', status.message ?? `${method} ${path}: HTTP ${code}`, status.details);
  } catch {
    return new KubeApiError(code, '', `${method} ${path}: HTTP ${code}: ${text.slice(0, 200)}`);
  }
}

/** A short, human description of a connection failure. */
export function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
