/**
 * Informers of one resource, one per namespace, over a set of namespaces that may change
 * while they run: a namespace added starts its informer, one removed stops it and forgets
 * its objects. The cache never holds a namespace outside the set.
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
}

/** A set of namespaced informers of one resource. */
export class NamespacedInformers<T extends KubeObject = KubeObject> {
  private running = new Map<string, { informer: Informer<T>; stop: AbortController }>();
  private wanted = new Set<string>();
  private handlers: Array<(event: InformerEvent<T>) => void> = [];
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

  /** The namespaces to cache from now on. */
  setNamespaces(namespaces: Iterable<string>): void {
    this.wanted = new Set(namespaces);
    if (this.signal) this.follow();
  }

  /** The namespaces cached now. */
  namespaces(): string[] {
    return [...this.running.keys()].sort();
  }

  /** The cached object with key `namespace/name`. */
  get(key: string): T | undefined {
    return this.running.get(key.split('/')[0] ?? '')?.informer.get(key);
  }

  /** True once every running informer has listed. */
  hasSynced(): boolean {
    return [...this.running.values()].every((r) => r.informer.hasSynced());
  }

  /** Path and namespaces, for logs. */
  describe(): string {
    return `${this.options.path('*')} in ${this.namespaces().join(', ') || 'no namespace'}`;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.follow();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    for (const ns of [...this.running.keys()]) this.stop(ns);
  }

  private follow(): void {
    for (const ns of [...this.running.keys()]) if (!this.wanted.has(ns)) this.stop(ns);
    for (const ns of this.wanted) if (!this.running.has(ns)) this.start(ns);
  }

  private start(namespace: string): void {
    const informer = new Informer<T>(this.client, { path: this.options.path(namespace), fieldSelector: this.options.fieldSelector, labelSelector: this.options.labelSelector }, this.clock, this.log);
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
