/**
 * A work queue with client-go's semantics: a key waits in the queue at most once; a key
 * being processed is never handed to a second worker; a key added while it is processed
 * is processed again after `done`; delayed and rate-limited adds; metrics under
 * client-go's names.
 */
import type { Clock, Timer } from './clock.js';
import type { RateLimiter } from './ratelimiter.js';

/** Hooks the queue reports through; the manager binds them to prom-client. */
export interface QueueMetrics {
  depth(value: number): void;
  add(): void;
  retry(): void;
  /** Seconds a key waited between add and get. */
  queueDuration(seconds: number): void;
  /** Seconds a key was processed, between get and done. */
  workDuration(seconds: number): void;
}

const noMetrics: QueueMetrics = { depth() {}, add() {}, retry() {}, queueDuration() {}, workDuration() {} };

/** A deduplicating, rate-limited work queue of string keys. */
export class WorkQueue {
  private queue: string[] = [];
  private dirty = new Set<string>();
  private processing = new Set<string>();
  private addedAt = new Map<string, number>();
  private startedAt = new Map<string, number>();
  private waiting = new Map<string, { at: number; timer: Timer }>();
  private getters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;

  constructor(
    private readonly clock: Clock,
    private readonly limiter: RateLimiter,
    private readonly metrics: QueueMetrics = noMetrics,
  ) {}

  /** Adds `key` now, unless it is already waiting in the queue. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.add();
    this.dirty.add(key);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` after `ms`; when it is already waiting longer, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.after(ms, () => {
      this.waiting.delete(key);
      this.add(key);
    });
    this.waiting.set(key, { at, timer });
  }

  /** Adds `key` after the rate limiter's delay; counts a retry. */
  addRateLimited(key: string): void {
    this.metrics.retry();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Clears `key`'s failure count, after a success. */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** Failures counted for `key`. */
  retries(key: string): number {
    return this.limiter.retries(key);
  }

  /** The next key to process, or undefined once the queue is shut down and empty. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics.workDuration((this.clock.now() - started) / 1000);
    this.startedAt.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /** Keys waiting now (not counting delayed ones). */
  len(): number {
    return this.queue.length;
  }

  /** Keys being processed now. */
  inFlight(): number {
    return this.processing.size;
  }

  /** True after {@link WorkQueue.shutDown}. */
  isShutDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops taking keys; waiting getters get undefined once the queue is empty. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    this.queue = [];
    this.dirty.clear();
    this.metrics.depth(0);
    for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  private push(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      getter(this.take(key));
      return;
    }
    this.queue.push(key);
    this.metrics.depth(this.queue.length);
  }

  private take(key: string): string {
    this.processing.add(key);
    this.dirty.delete(key);
    const added = this.addedAt.get(key);
    if (added !== undefined) this.metrics.queueDuration((this.clock.now() - added) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, this.clock.now());
    this.metrics.depth(this.queue.length);
    return key;
  }
}
