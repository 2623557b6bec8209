/**
 * The manager owns the lifecycle: informers (started first, `/readyz` waits for their first
 * list), leader election, controllers (run only by the leader), the probe and metrics
 * listeners, and a graceful shutdown: stop taking work, let reconciles in flight finish
 * within the timeout, release the lease, stop informers, close the listeners.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { realClock, type Clock } from './clock.js';
import { Controller, type ControllerOptions, type Reconciler } from './controller.js';
import { Informer, type InformerOptions } from './informer.js';
import type { KubeClient, KubeObject } from './kube.js';
import { LeaderElector, type LeaderElectionOptions } from './leaderelection.js';
import { ManagerMetrics } from './metrics.js';
import { metricsRoutes, probeRoutes, serve, type Listener } from './server.js';

/** Options of a manager. */
export interface ManagerOptions {
  readonly client: KubeClient;
  readonly log: Logger;
  /** @default the machine's clock */
  readonly clock?: Clock;
  /** @default a new registry with process metrics */
  readonly metrics?: ManagerMetrics;
  /** Leader election; when absent this process always leads. @default none */
  readonly leaderElection?: LeaderElectionOptions;
  /** Address of /healthz and /readyz. @default ":8081" */
  readonly healthProbeBindAddress?: string;
  /** Address of /metrics. @default ":8080" */
  readonly metricsBindAddress?: string;
  /** How long shutdown waits for reconciles in flight. @default 30000 */
  readonly shutdownTimeoutMs?: number;
  /** How long reconciles get to stop once leadership is lost (their signal is aborted). @default 5000 */
  readonly leadershipLostGraceMs?: number;
  /**
   * Called when reconciles are still running after leadership was lost and the grace is over:
   * the process must not go on writing beside the new leader. The CLI exits non-zero here, as
   * controller-runtime does. @default log an error only
   */
  readonly onStuckAfterLeadershipLost?: () => void;
}

/** Anything that fills a cache while it runs: an informer, a set of them. */
export interface CacheSource {
  run(signal: AbortSignal): Promise<void>;
  hasSynced(): boolean;
  describe(): string;
}

/** Runs informers and controllers until stopped. */
export class Manager {
  readonly clock: Clock;
  readonly metrics: ManagerMetrics;
  private informers = new Map<string, Informer>();
  private sources: CacheSource[] = [];
  private controllers: Controller[] = [];
  private elector?: LeaderElector;
  private listeners: Listener[] = [];
  private leading = false;
  /** False while reconciles of a stopped term may still run (their stop timed out). */
  private idle = true;

  constructor(private readonly options: ManagerOptions) {
    this.clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? new ManagerMetrics();
    if (options.leaderElection) {
      this.elector = new LeaderElector(options.client, options.leaderElection, this.clock, options.log.child({ component: 'leader-election' }));
    }
  }

  /** The shared informer of a path and selectors (created on first use). */
  informer<T extends KubeObject = KubeObject>(options: InformerOptions): Informer<T> {
    const key = JSON.stringify([options.path, options.labelSelector ?? '', options.fieldSelector ?? '']);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer(this.options.client, options, this.clock, this.options.log.child({ component: 'informer' }));
      this.informers.set(key, informer);
    }
    return informer as unknown as Informer<T>;
  }

  /** Adds a cache source run with the informers; `/readyz` waits for it too. */
  source<S extends CacheSource>(source: S): S {
    this.sources.push(source);
    return source;
  }

  /** Adds a controller, started when this process leads. */
  controller(name: string, reconciler: Reconciler, options: ControllerOptions = {}): Controller {
    const controller = new Controller(name, reconciler, options, this.clock, this.metrics, this.options.log);
    this.controllers.push(controller);
    return controller;
  }

  /** Why the manager is not ready, or undefined when every informer has synced. */
  notReady(): string | undefined {
    const waiting = [...this.informers.values(), ...this.sources].filter((i) => !i.hasSynced()).map((i) => i.describe());
    return waiting.length > 0 ? `waiting for the first list of ${waiting.join(', ')}` : undefined;
  }

  /** True while this process runs the controllers. */
  isLeader(): boolean {
    return this.leading;
  }

  /** Runs until `signal` aborts, then shuts down gracefully. */
  async run(signal: AbortSignal): Promise<void> {
    const log = this.options.log;
    const [probes, metrics] = await Promise.all([
      serve(
        this.options.healthProbeBindAddress ?? ':8081',
        probeRoutes(() => this.notReady()),
      ),
      serve(this.options.metricsBindAddress ?? ':8080', metricsRoutes(this.metrics.registry)),
    ]);
    this.listeners = [probes, metrics].filter((l): l is Listener => l !== undefined);
    log.info({ probePort: probes?.port, metricsPort: metrics?.port }, 'serving probes and metrics');
    const stopInformers = new AbortController();
    // Every informer's list or watch holds one abort listener on this signal while it runs: a
    // dozen or more is normal here, not the leak Node's default limit of 10 warns about.
    setMaxListeners(1000, stopInformers.signal);
    const informerRuns = [...this.informers.values(), ...this.sources].map((i) => i.run(stopInformers.signal));
    try {
      await this.waitForSync(signal);
      if (!signal.aborted) log.info('caches synced');
      await this.lead(signal);
    } finally {
      // A lease is released only when no reconcile of ours can still write.
      if (await this.stopControllers()) await this.elector?.release();
      else log.warn('the lease is not released: reconciles may still be running');
      this.metrics.leader.set({ name: this.options.leaderElection?.name ?? 'none' }, 0);
      stopInformers.abort();
      await Promise.all(informerRuns);
      await Promise.all(this.listeners.map((l) => l.close()));
      log.info('stopped');
      log.flush();
    }
  }

  private async waitForSync(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.notReady() !== undefined) await this.clock.sleep(100, signal);
  }

  private async lead(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    if (!this.elector) {
      this.startControllers();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    await this.elector.run(signal, {
      onStartedLeading: () => this.startControllers(),
      onStoppedLeading: () => this.stopAfterLeadershipLost(signal),
    });
  }

  private startControllers(): void {
    this.leading = true;
    this.metrics.leader.set({ name: this.options.leaderElection?.name ?? 'none' }, 1);
    for (const c of this.controllers) c.start();
  }

  /** Stops the controllers; resolves false when reconciles were still running after `timeoutMs`. */
  private async stopControllers(timeoutMs = this.options.shutdownTimeoutMs ?? 30_000, abort = false): Promise<boolean> {
    if (!this.leading) return this.idle;
    this.leading = false;
    this.metrics.leader.set({ name: this.options.leaderElection?.name ?? 'none' }, 0);
    const finished = await Promise.all(this.controllers.map((c) => c.stop(timeoutMs, abort)));
    this.idle = !finished.includes(false);
    if (!this.idle) this.options.log.warn({ timeoutMs }, 'reconciles still running after stopping were abandoned');
    return this.idle;
  }

  /** Leadership lost (not a shutdown): abort what runs; if it does not stop in the grace, the process must not go on. */
  private async stopAfterLeadershipLost(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const stopped = await this.stopControllers(this.options.leadershipLostGraceMs ?? 5000, true);
    if (stopped) return;
    this.options.log.error('reconciles still running after leadership was lost: stopping the process so it cannot write beside the new leader');
    this.options.onStuckAfterLeadershipLost?.();
  }
}
