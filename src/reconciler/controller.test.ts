import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.js';
import { Controller, type Reconciler } from './controller.js';
import { KubeApiError } from './kube.js';
import { ManagerMetrics } from './metrics.js';

const log = pino({ level: 'silent' });

/** A controller over a reconciler that asks to be called again after `requeueAfterMs`. */
function setup(requeueAfterMs: number, minRequeueAfterMs?: number) {
  const clock = new FakeClock();
  const calls: number[] = [];
  const reconciler: Reconciler = {
    // Asks again only a few times, so a controller without the floor fails this test instead of spinning.
    reconcile: async () => {
      calls.push(clock.now());
      return calls.length < 4 ? { requeueAfterMs } : undefined;
    },
  };
  const controller = new Controller('test', reconciler, { minRequeueAfterMs }, clock, new ManagerMetrics(), log);
  return { clock, calls, controller };
}

describe('Controller requeues', () => {
  it.each([
    ['zero', 0],
    ['one millisecond', 1],
    ['999 ms', 999],
  ])('waits at least 1 s when a reconcile asks for %s', async (_name, ms) => {
    const { clock, calls, controller } = setup(ms);
    controller.start();
    controller.queue.add('k');
    await flush();
    expect(calls).toHaveLength(1);
    await clock.advance(999);
    await flush();
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    await flush();
    expect(calls).toHaveLength(2);
    expect((calls[1] ?? 0) - (calls[0] ?? 0)).toBe(1000);
    await controller.stop(0);
  });

  it('keeps a longer requeue as asked, and a floor given as an option', async () => {
    const { clock, calls, controller } = setup(5000, 2000);
    controller.start();
    controller.queue.add('k');
    await flush();
    await clock.advance(4999);
    await flush();
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    await flush();
    expect(calls).toHaveLength(2);
    await controller.stop(0);
  });
});

describe('Controller terms', () => {
  it('never runs a reconcile of a new term beside one left over from the last (its stop timed out)', async () => {
    const clock = new FakeClock();
    let running = 0;
    let most = 0;
    let calls = 0;
    let release: () => void = () => {};
    const blocked = new Promise<void>((r) => (release = r));
    const reconciler: Reconciler = {
      reconcile: async () => {
        calls++;
        running++;
        most = Math.max(most, running);
        if (calls === 1) await blocked;
        running--;
      },
    };
    const controller = new Controller('terms', reconciler, {}, clock, new ManagerMetrics(), log);
    controller.start();
    controller.queue.add('k');
    await flush();
    expect(calls).toBe(1);
    const stopping = controller.stop(1000);
    await clock.advance(1000);
    expect(await stopping).toBe(false);
    controller.start();
    controller.queue.add('k');
    await flush();
    expect(calls).toBe(1);
    release();
    await flush();
    await flush();
    expect(calls).toBe(2);
    expect(most).toBe(1);
    await controller.stop(0);
  });
});

describe('Controller errors', () => {
  it.each<[string, boolean, number]>([
    ['retries a 404 about another object while the primary exists', true, 2],
    ['forgets the key when the primary object itself is gone', false, 1],
  ])('%s', async (_name, primaryExists, expectedCalls) => {
    const clock = new FakeClock();
    let calls = 0;
    const reconciler: Reconciler = {
      reconcile: async () => {
        calls++;
        if (calls === 1) throw new KubeApiError(404, 'NotFound', 'namespaces "x" not found');
      },
    };
    const controller = new Controller('errors', reconciler, {}, clock, new ManagerMetrics(), log);
    const primary = { on: () => {}, get: (key: string) => (primaryExists && key === 'k' ? { metadata: { name: 'k' } } : undefined), list: () => [] };
    controller.watchPrimary(primary as never);
    controller.start();
    controller.queue.add('k');
    await flush();
    await clock.advance(1000);
    await flush();
    expect(calls).toBe(expectedCalls);
    await controller.stop(0);
  });
});

describe('Controller stop for lost leadership', () => {
  it('aborts the signal of the reconcile in flight, which then stops; a plain stop lets it finish', async () => {
    for (const abort of [true, false]) {
      const clock = new FakeClock();
      let seenAborted: boolean | undefined;
      let finish: () => void = () => {};
      const reconciler: Reconciler = {
        reconcile: (_key, _log, signal) =>
          new Promise<void>((resolve) => {
            finish = () => resolve();
            signal.addEventListener('abort', () => {
              seenAborted = true;
              resolve();
            });
          }).then(() => void (seenAborted ??= false)),
      };
      const controller = new Controller('fence', reconciler, {}, clock, new ManagerMetrics(), log);
      controller.start();
      controller.queue.add('k');
      await flush();
      const stopping = controller.stop(1000, abort);
      await flush();
      if (!abort) finish();
      await flush();
      await clock.advance(1000);
      expect(await stopping).toBe(true);
      expect(seenAborted).toBe(abort);
    }
  });
});
