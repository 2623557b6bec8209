/**
 * A supervised informer: list, then watch from the list's resourceVersion, keeping a cache.
 * A 410 Gone relists at once; any other error, a closed connection or a silent stall
 * relists after an exponential backoff. It never dies while it runs, and `hasSynced()`
 * is true only once a list has landed in the cache.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { KubeApiError, type KubeClient, type KubeList, type KubeObject, type WatchEvent } from './kube.js';

/** What changed in the cache. */
export type InformerEvent<T extends KubeObject> = { type: 'add'; object: T } | { type: 'update'; object: T; old: T } | { type: 'delete'; object: T };

/** Options of an informer. */
export interface InformerOptions {
  /** List path, e.g. `/api/v1/secrets` or `/apis/apps/v1/namespaces/x/deployments`. */
  readonly path: string;
  /** Label selector. @default none */
  readonly labelSelector?: string;
  /** Field selector. @default none */
  readonly fieldSelector?: string;
  /** Seconds the server keeps one watch open. @default 300 */
  readonly watchTimeoutSeconds?: number;
  /** A watch silent this long (no event, no bookmark) counts as stalled. @default watchTimeoutSeconds + 30 s */
  readonly stallTimeoutMs?: number;
  /** First backoff after an error. @default 500 */
  readonly initialBackoffMs?: number;
  /** Longest backoff. @default 30000 */
  readonly maxBackoffMs?: number;
  /**
   * What the cache keeps of each listed or watched object, when not all of it (client-go's
   * SetTransform): the result must keep `metadata.name`, `namespace` and `resourceVersion`.
   * @default the whole object
   */
  readonly transform?: (object: KubeObject) => KubeObject;
  /** Called instead of retrying when the list or the watch is answered 403 Forbidden; the caller stops the informer. @default retry like any error */
  readonly onForbidden?: () => void;
}

/** Key of an object in the cache: `namespace/name`, or `name` when cluster-scoped. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : (obj.metadata?.name ?? '');
}

class GoneError extends Error {}
class StalledError extends Error {}

/** A list-watch cache of one resource. */
export class Informer<T extends KubeObject = KubeObject> {
  private store = new Map<string, T>();
  private handlers: Array<(event: InformerEvent<T>) => void> = [];
  private synced = false;
  private resourceVersion = '';
  private failures = 0;
  /** How many times the informer relisted; for tests and logs. */
  relists = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly options: InformerOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Path and selectors, for logs. */
  describe(): string {
    const selectors = [this.options.labelSelector, this.options.fieldSelector].filter(Boolean).join(' ');
    return selectors ? `${this.options.path} (${selectors})` : this.options.path;
  }

  /** Registers a handler for cache changes. */
  on(handler: (event: InformerEvent<T>) => void): void {
    this.handlers.push(handler);
  }

  /** True once the first list is in the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** The cached object with `key` (`namespace/name` or `name`). */
  get(key: string): T | undefined {
    return this.store.get(key);
  }

  /** Every cached object. */
  list(): T[] {
    return [...this.store.values()];
  }

  /** Runs until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.listAndWatch(signal);
      } catch (err) {
        if (signal.aborted) break;
        if (this.options.onForbidden && err instanceof KubeApiError && err.code === 403) {
          this.options.onForbidden();
          await this.clock.sleep(this.options.maxBackoffMs ?? 30_000, signal);
          continue;
        }
        if (err instanceof GoneError) {
          this.log.info({ informer: this.describe() }, 'watch expired (410 Gone), relisting');
          this.resourceVersion = '';
          continue;
        }
        this.failures++;
        const delay = this.backoff();
        this.log.warn({ informer: this.describe(), err: errorText(err), retryInMs: delay }, 'list/watch failed, retrying');
        await this.clock.sleep(delay, signal);
      }
    }
  }

  private backoff(): number {
    const initial = this.options.initialBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private query(): Record<string, string | undefined> {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async listAndWatch(signal: AbortSignal): Promise<void> {
    await this.relist(signal);
    for (;;) {
      await this.watchOnce(signal);
      if (signal.aborted) return;
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.client.request<KubeList<T>>('GET', this.options.path, {
        query: { ...this.query(), limit: 500, continue: cont },
        signal,
      });
      const transform = this.options.transform;
      items.push(...(transform ? page.items.map((item) => transform(item) as T) : page.items));
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? '';
    } while (cont);
    this.replace(items);
    this.resourceVersion = resourceVersion;
    this.relists++;
    this.failures = 0;
    this.synced = true;
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300;
    const stallMs = this.options.stallTimeoutMs ?? (timeoutSeconds + 30) * 1000;
    const watchAbort = new AbortController();
    const onAbort = () => watchAbort.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let stalled = false;
    let watchdog = this.clock.after(stallMs, stall);
    function stall() {
      stalled = true;
      watchAbort.abort();
    }
    try {
      await this.client.watch(
        this.options.path,
        { ...this.query(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        (event) => {
          watchdog.cancel();
          watchdog = this.clock.after(stallMs, stall);
          this.apply(event as WatchEvent<T>);
        },
        watchAbort.signal,
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 410) throw new GoneError(err.message);
      throw err;
    } finally {
      watchdog.cancel();
      signal.removeEventListener('abort', onAbort);
    }
    if (stalled) throw new StalledError(`watch of ${this.describe()} was silent for ${stallMs} ms`);
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      const status = event.object as unknown as { code?: number; message?: string };
      if (status.code === 410) throw new GoneError(status.message ?? 'Gone');
      throw new Error(`watch error ${status.code ?? ''}: ${status.message ?? 'unknown'}`);
    }
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const object = this.options.transform ? (this.options.transform(event.object) as T) : event.object;
    const key = objectKey(object);
    const old = this.store.get(key);
    if (event.type === 'DELETED') {
      this.store.delete(key);
      this.emit({ type: 'delete', object: old ?? object });
    } else {
      this.store.set(key, object);
      this.emit(old ? { type: 'update', object, old } : { type: 'add', object });
    }
  }

  private replace(items: T[]): void {
    const fresh = new Map(items.map((item) => [objectKey(item), item]));
    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.emit({ type: 'delete', object: old });
      }
    }
    for (const [key, object] of fresh) {
      const old = this.store.get(key);
      this.store.set(key, object);
      if (!old) this.emit({ type: 'add', object });
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.emit({ type: 'update', object, old });
    }
  }

  private emit(event: InformerEvent<T>): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (err) {
        this.log.error({ informer: this.describe(), err: errorText(err) }, 'event handler failed');
      }
    }
  }
}

/** The message of an error, for a log field. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
