/**
 * Time, passed in: production uses {@link realClock}; unit tests use a fake that advances
 * only when told, so no test waits on a real timer.
 */

/** A cancellable timer handle. */
export interface Timer {
  cancel(): void;
}

/** What the reconciler library needs of time. */
export interface Clock {
  /** Milliseconds since the epoch: for timestamps. */
  now(): number;
  /** Milliseconds on a clock that never jumps (wall-clock changes do not move it): for deadlines. */
  monotonic(): number;
  /** Calls `fn` after `ms` milliseconds. */
  after(ms: number, fn: () => void): Timer;
  /** Resolves after `ms` milliseconds, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The clock of the machine. */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const handle = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(handle);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

/** A clock for tests: time moves only through {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 0;

  constructor(private current = 1_000_000) {}

  now(): number {
    return this.current;
  }

  monotonic(): number {
    return this.current;
  }

  after(ms: number, fn: () => void): Timer {
    const id = this.nextId++;
    this.timers.push({ at: this.current + Math.max(0, ms), fn, id });
    return { cancel: () => (this.timers = this.timers.filter((t) => t.id !== id)) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = this.after(ms, resolve);
      signal?.addEventListener(
        'abort',
        () => {
          timer.cancel();
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Moves time forward by `ms`, firing due timers in order, and lets promises settle. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t.id !== due.id);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await flush();
    }
    this.current = target;
    await flush();
  }

  /** Number of timers waiting. */
  pending(): number {
    return this.timers.length;
  }
}

/** A metav1.Time string: RFC 3339 in UTC, whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lets queued promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}
