import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.js';
import { Controller, type Reconciler } from './controller.js';
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
