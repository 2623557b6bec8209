import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.js';
import { BucketRateLimiter, ExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from './ratelimiter.js';
import { WorkQueue } from './queue.js';

function queue(clock = new FakeClock()) {
  return { clock, q: new WorkQueue(clock, defaultControllerRateLimiter(clock)) };
}

describe('WorkQueue', () => {
  it('keeps one copy of a key that is added twice', async () => {
    const { q } = queue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    let second: string | undefined = 'none yet';
    void q.get().then((k) => (second = k));
    await flush();
    expect(first).toBe('a');
    expect(second).toBe('none yet');
    q.done('a');
    await flush();
    expect(second).toBe('a');
  });

  it('processes a key added while processing once more after done', async () => {
    const { q } = queue();
    q.add('a');
    await q.get();
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('adds after a delay, keeping the earliest time for one key', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 5000);
    q.addAfter('a', 300);
    await clock.advance(299);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await clock.advance(10_000);
    expect(q.len()).toBe(1);
  });

  it('backs off a failing key and starts again after forget', async () => {
    const { q, clock } = queue();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) await clock.advance(1);
      delays.push(clock.now() - before);
      await q.get();
      q.done('a');
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(q.retries('a')).toBe(4);
    q.forget('a');
    expect(q.retries('a')).toBe(0);
  });

  it('wakes waiting workers with undefined on shutdown', async () => {
    const { q } = queue();
    const got = q.get();
    q.shutDown();
    expect(await got).toBeUndefined();
    q.add('a');
    expect(q.len()).toBe(0);
  });
});

describe('rate limiters', () => {
  it('doubles from 5 ms up to the cap', () => {
    const limiter = new ExponentialFailureRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 22 }, () => limiter.when('k'));
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 40]);
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[21]).toBe(1_000_000);
    expect(limiter.when('other')).toBe(5);
  });

  it('lets a burst of 100 through, then 10 a second', async () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter(clock, 10, 100);
    const burst = Array.from({ length: 100 }, () => bucket.when());
    expect(burst.every((d) => d === 0)).toBe(true);
    expect(bucket.when()).toBe(100);
    expect(bucket.when()).toBe(200);
    await clock.advance(10_000);
    expect(bucket.when()).toBe(0);
  });

  it('takes the slower of both', () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter(new ExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(clock, 10, 1));
    expect(limiter.when('a')).toBe(5);
    expect(limiter.when('a')).toBe(100);
  });
});
