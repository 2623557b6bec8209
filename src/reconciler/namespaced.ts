/**
 * Informers of one resource, one per namespace, over a set of namespaces that may change
 * while they run: a namespace added starts its informer, one removed stops it and forgets
 * its objects. The cache never holds a namespace outside the set.
 *
 * The key is a namespace as a rule; any partition of a resource works the same way (the
 * owned-objects watch keys a CRD kind's informer by the version it watches: none, or one).
 *
 * A namespace this process may not list in (asked first with `canList`, or answered 403 by
 * the API server later) is not listed: it is reported by `denied()`, does not hold back
 * `hasSynced()`, and is asked again every `recheckMs`, so a Role granted later is picked up.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { Informer, type InformerEvent } from './informer.js';
import type { KubeClient, KubeObject } from './kube.js';

/** Options of the per-namespace informers. */
export interface NamespacedInformerOptions {
  /** List path of the resource in one namespace, e.g. `(ns) => \`/api/v1/namespaces/${ns}/secrets\``. */
  readonly path: (namespace: string) => string;
  /** @default none */
  readonly fieldSelector?: string;
  /** @default none */
  readonly labelSelector?: string;
  /**
   * Whether this process may list in `namespace` (a SelfSubjectAccessReview); a watch refused later counts as denied too. @default every namespace is
   * allowed
   */
  readonly canList?: (namespace: string, signal: AbortSignal) => Promise<boolean>;
  /** How often a denied namespace is asked again. @default 120000 */
  readonly recheckMs?: number;
  /** Wait after `canList` failed (the API server unreachable) before asking again. @default 5000 */
  readonly retryMs?: number;
}

/** A namespace's access changed: `allowed` false when it was found denied, true when it no longer is. */
export interface AccessChange {
  readonly namespace: string;
  readonly allowed: boolean;
}

/** A set of namespaced informers of one resource. */
export class NamespacedInformers<T extends KubeObject = KubeObject> {
  private running = new Map<string, { informer: Informer<T>; stop: AbortController }>();
  /** Namespaces whose access is being asked (`checking`) or was refused (`denied`, asked again later). */
  private pending = new Map<string, { state: 'checking' | 'denied'; stop: AbortController }>();
  private wanted = new Set<string>();
  private handlers: Array<(event: InformerEvent<T>) => void> = [];
  private accessHandlers: Array<(change: AccessChange) => void> = [];
  private signal?: AbortSignal;

  constructor(
    private readonly client: KubeClient,
    private readonly options: NamespacedInformerOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Registers a handler for changes in any namespace. */
  on(handler: (event: InformerEvent<T>) => void): void {
    this.handlers.push(handler);
  }

  /** Registers a handler for a namespace found denied, or allowed again. */
  onAccess(handler: (change: AccessChange) => void): void {
    this.accessHandlers.push(handler);
  }

  /** The wanted namespaces not known yet: their access is being asked, or their first list has not landed. */
  unsettled(): string[] {
    const checking = [...this.pending].filter(([, p]) => p.state === 'checking').map(([ns]) => ns);
    const listing = [...this.running].filter(([, r]) => !r.informer.hasSynced()).map(([ns]) => ns);
    return [...checking, ...listing].sort();
  }

  /** The wanted namespaces this process may not list in. */
  denied(): string[] {
    return [...this.pending]
      .filter(([, p]) => p.state === 'denied')
      .map(([ns]) => ns)
      .sort();
  }

  /** The namespaces to cache from now on; those denied are asked again at once (a Role may have been granted). */
  setNamespaces(namespaces: Iterable<string>): void {
    this.wanted = new Set(namespaces);
    if (!this.signal) return;
    for (const ns of this.denied()) {
      if (!this.wanted.has(ns)) continue;
      this.forget(ns);
      this.admit(ns, 'denied', true);
    }
    this.follow();
  }

  /** The namespaces cached now. */
  namespaces(): string[] {
    return [...this.running.keys()].sort();
  }

  /** The cached object with key `namespace/name`. */
  get(key: string): T | undefined {
    return this.running.get(key.split('/')[0] ?? '')?.informer.get(key);
  }

  /** The informer of `namespace` once its first list is in, else undefined. */
  synced(namespace: string): Informer<T> | undefined {
    const informer = this.running.get(namespace)?.informer;
    return informer?.hasSynced() ? informer : undefined;
  }

  /** True once every running informer has listed and every wanted namespace's access is known. */
  hasSynced(): boolean {
    return [...this.pending.values()].every((p) => p.state === 'denied') && [...this.running.values()].every((r) => r.informer.hasSynced());
  }

  /** Path and namespaces, for logs. */
  describe(): string {
    const denied = this.denied();
    return (
      `${this.options.path('*')} in ` +
      `${this.namespaces().join(', ') || 'no namespace'}${denied.length ? ` (not allowed in ${denied.join(', ')})` : ''}`
    );
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.follow();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    for (const ns of [...this.running.keys()]) this.stop(ns);
    for (const ns of [...this.pending.keys()]) this.forget(ns);
  }

  private follow(): void {
    for (const ns of [...this.running.keys()]) if (!this.wanted.has(ns)) this.stop(ns);
    for (const ns of [...this.pending.keys()]) if (!this.wanted.has(ns)) this.forget(ns);
    for (const ns of this.wanted) if (!this.running.has(ns) && !this.pending.has(ns)) this.admit(ns, 'checking');
  }

  /** Asks whether `namespace` may be listed (again every `recheckMs` while it may not), then starts its informer. */
  private admit(namespace: string, state: 'checking' | 'denied', askNow = state === 'checking'): void {
    const canList = this.options.canList;
    if (!canList) return this.start(namespace);
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    this.signal?.addEventListener('abort', onAbort, { once: true });
    stop.signal.addEventListener('abort', () => this.signal?.removeEventListener('abort', onAbort), { once: true });
    this.pending.set(namespace, { state, stop });
    void this.ask(namespace, canList, stop, askNow);
  }

  private async ask(
    namespace: string,
    canList: (namespace: string, signal: AbortSignal) => Promise<boolean>,
    stop: AbortController,
    askNow: boolean,
  ): Promise<void> {
    if (!askNow) await this.clock.sleep(this.options.recheckMs ?? 120_000, stop.signal);
    for (;;) {
      if (stop.signal.aborted) return;
      let allowed: boolean | undefined;
      try {
        allowed = await canList(namespace, stop.signal);
      } catch (err) {
        if (!stop.signal.aborted)
          this.log.warn(
            { namespace, err: err instanceof Error ? err.message : String(err) },
            'could not ask whether this namespace may be listed, asking again',
          );
      }
      if (stop.signal.aborted) return;
      if (allowed === true) {
        const wasDenied = this.pending.get(namespace)?.state === 'denied';
        this.forget(namespace);
        this.start(namespace);
        if (wasDenied) this.emitAccess({ namespace, allowed: true });
        return;
      }
      if (allowed === false) this.markDenied(namespace);
      await this.clock.sleep(allowed === false ? (this.options.recheckMs ?? 120_000) : (this.options.retryMs ?? 5_000), stop.signal);
    }
  }

  private markDenied(namespace: string): void {
    const pending = this.pending.get(namespace);
    if (!pending || pending.state === 'denied') return;
    pending.state = 'denied';
    this.log.warn({ resource: this.options.path(namespace) }, 'not allowed to list in this namespace: left out of the cache, asked again later');
    this.emitAccess({ namespace, allowed: false });
  }

  private emitAccess(change: AccessChange): void {
    for (const handler of this.accessHandlers) {
      try {
        handler(change);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'access handler failed');
      }
    }
  }

  private forget(namespace: string): void {
    this.pending.get(namespace)?.stop.abort();
    this.pending.delete(namespace);
  }

  private start(namespace: string): void {
    const onForbidden = () => {
      // The Role went away while it ran: drop its objects from the cache and ask again later.
      if (!this.running.has(namespace)) return;
      this.stop(namespace);
      this.log.warn(
        { resource: this.options.path(namespace) },
        'listing in this namespace is forbidden now: left out of the cache, asked again later',
      );
      this.admit(namespace, 'denied');
      this.emitAccess({ namespace, allowed: false });
    };
    const informer = new Informer<T>(
      this.client,
      {
        path: this.options.path(namespace),
        fieldSelector: this.options.fieldSelector,
        labelSelector: this.options.labelSelector,
        onForbidden: this.options.canList ? onForbidden : undefined,
      },
      this.clock,
      this.log,
    );
    informer.on((event) => {
      for (const handler of this.handlers) handler(event);
    });
    const stop = new AbortController();
    // Removed when this namespace's informer stops: namespaces come and go while the signal lives on.
    const onAbort = () => stop.abort();
    this.signal?.addEventListener('abort', onAbort, { once: true });
    stop.signal.addEventListener('abort', () => this.signal?.removeEventListener('abort', onAbort), { once: true });
    this.running.set(namespace, { informer, stop });
    void informer.run(stop.signal);
  }

  private stop(namespace: string): void {
    this.running.get(namespace)?.stop.abort();
    this.running.delete(namespace);
  }
}
