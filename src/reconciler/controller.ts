/**
 * A controller: a work queue, N workers and one reconcile function. Events from informers
 * become keys; the result of a reconcile decides what happens to its key next.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, Timer } from './clock.js';
import { isLeadershipLost, isTerminal } from './errors.js';
import { errorText, objectKey as keyOf, type Informer, type InformerEvent } from './informer.js';
import { isNotFound, type KubeObject } from './kube.js';
import type { ManagerMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';
import { defaultControllerRateLimiter } from './ratelimiter.js';

/** What a reconcile asks for next. */
export interface Result {
  /** Reconcile the key again after this many milliseconds, and forget its failures. */
  readonly requeueAfterMs?: number;
}

/** The one thing a controller calls. */
export interface Reconciler {
  /**
   * Makes the world match the object with `key`; throwing requeues with backoff. `signal`
   * aborts when this process stops leading (or shuts down): no write may follow it.
   */
  reconcile(key: string, log: Logger, signal: AbortSignal): Promise<Result | void>;
}

/** Options of a controller. */
export interface ControllerOptions {
  /** Workers reconciling in parallel (never two on one key). @default 1 */
  readonly workers?: number;
  /** Every key of the primary informer is re-queued this often. @default 600000 (10 minutes) */
  readonly resyncPeriodMs?: number;
  /** The shortest requeue a reconcile can ask for; shorter ones wait this long (no hot loop). @default {@link minRequeueAfterMs} */
  readonly minRequeueAfterMs?: number;
}

/** Default of {@link ControllerOptions.minRequeueAfterMs}: 1 second. */
export const minRequeueAfterMs = 1000;

/** Runs a {@link Reconciler} over a work queue. */
export class Controller {
  queue: WorkQueue;
  private workers: Promise<void>[] = [];
  private resyncTimer?: Timer;
  private primary?: Informer;
  /** Aborts the reconciles of the current term when it ends. */
  private term = new AbortController();

  constructor(
    readonly name: string,
    private readonly reconciler: Reconciler,
    private readonly options: ControllerOptions,
    private readonly clock: Clock,
    private readonly metrics: ManagerMetrics,
    private readonly log: Logger,
  ) {
    this.queue = new WorkQueue(clock, defaultControllerRateLimiter(clock), metrics.queue(name));
  }

  /** Queues the objects of `informer` themselves; their keys are resynced periodically. */
  watchPrimary(informer: Informer): void {
    this.primary = informer;
    this.watch(informer, (obj) => [keyOf(obj)]);
  }

  /** Queues the keys that `map` returns for every change of an object in `informer`. */
  watch<T extends KubeObject>(informer: { on(handler: (event: InformerEvent<T>) => void): void }, map: (obj: T) => string[]): void {
    informer.on((event) => {
      for (const key of map(event.object)) this.queue.add(key);
      if (event.type === 'update') for (const key of map(event.old)) this.queue.add(key);
    });
  }

  /**
   * Starts the workers and the resync timer on a fresh queue. Workers of a past term that are
   * still reconciling (their stop timed out) are waited for first: two reconciles of one key
   * never run at once. Keys that arrive meanwhile wait in the new queue.
   */
  start(): void {
    if (this.queue.isShutDown()) this.queue = this.freshQueue();
    const queue = this.queue;
    const term = (this.term = new AbortController());
    for (const obj of this.primary?.list() ?? []) queue.add(keyOf(obj));
    const previous = this.workers;
    const count = this.options.workers ?? 1;
    const begin = () => {
      if (queue.isShutDown()) return [];
      this.scheduleResync();
      return Array.from({ length: count }, () => this.work(queue, term.signal));
    };
    this.workers = [
      Promise.all(previous)
        .then(() => Promise.all(begin()))
        .then(() => undefined),
    ];
  }

  /**
   * Stops taking keys and waits up to `timeoutMs` for the reconciles in flight to return;
   * with `abort` (leadership lost) their signal is aborted first, so they write nothing more.
   * Resolves true if they returned.
   */
  async stop(timeoutMs = 30_000, abort = false): Promise<boolean> {
    this.resyncTimer?.cancel();
    this.queue.shutDown();
    if (abort) this.term.abort();
    const cancel = new AbortController();
    const finished = Promise.all(this.workers).then(() => true);
    const timeout = this.clock.sleep(timeoutMs, cancel.signal).then(() => false);
    const result = await Promise.race([finished, timeout]);
    cancel.abort();
    return result;
  }

  private freshQueue(): WorkQueue {
    return new WorkQueue(this.clock, defaultControllerRateLimiter(this.clock), this.metrics.queue(this.name));
  }

  private scheduleResync(): void {
    const period = this.options.resyncPeriodMs ?? 600_000;
    this.resyncTimer = this.clock.after(period, () => {
      for (const obj of this.primary?.list() ?? []) this.queue.add(keyOf(obj));
      this.scheduleResync();
    });
  }

  /** Takes keys from `queue`, the queue of its own term, until that queue shuts down. */
  private async work(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      this.metrics.activeWorkers.inc({ controller: this.name });
      try {
        await this.process(key, queue, signal);
      } finally {
        this.metrics.activeWorkers.dec({ controller: this.name });
        queue.done(key);
      }
    }
  }

  private async process(key: string, queue: WorkQueue, signal: AbortSignal): Promise<void> {
    const log = this.log.child({ controller: this.name, name: key, reconcileID: randomUUID() });
    const started = this.clock.now();
    const end = this.metrics.reconcileTime.startTimer({ controller: this.name });
    try {
      const result = await this.reconciler.reconcile(key, log, signal);
      queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        queue.addAfter(key, Math.max(result.requeueAfterMs, this.options.minRequeueAfterMs ?? minRequeueAfterMs));
        this.metrics.reconcileTotal.inc({ controller: this.name, result: 'requeue_after' });
      } else {
        this.metrics.reconcileTotal.inc({ controller: this.name, result: 'success' });
      }
      log.debug({ durationMs: this.clock.now() - started }, 'reconciled');
    } catch (err) {
      this.failed(key, err, log, queue);
    } finally {
      end();
    }
  }

  private failed(key: string, err: unknown, log: Logger, queue: WorkQueue): void {
    // A 404 means "nothing to do" only when the primary object itself is gone; a 404 for any
    // other object (a namespace, a CRD kind) is a failure like another and is retried.
    if (isNotFound(err) && this.primary !== undefined && this.primary.get(key) === undefined) {
      queue.forget(key);
      this.metrics.reconcileTotal.inc({ controller: this.name, result: 'success' });
      log.debug({ err: errorText(err) }, 'object gone, nothing to do');
      return;
    }
    if (isLeadershipLost(err)) {
      // Not a failure of the reconcile: this term ended, and the next leader reconciles the key.
      queue.forget(key);
      log.info('reconcile stopped: this process no longer leads');
      return;
    }
    this.metrics.reconcileTotal.inc({ controller: this.name, result: 'error' });
    this.metrics.reconcileErrors.inc({ controller: this.name });
    if (isTerminal(err)) {
      queue.forget(key);
      this.metrics.terminalReconcileErrors.inc({ controller: this.name });
      log.error({ err: errorText(err) }, 'reconcile failed and will not be retried');
      return;
    }
    queue.addRateLimited(key);
    log.error({ err: errorText(err), retries: queue.retries(key) }, 'reconcile failed, retrying with backoff');
  }
}
