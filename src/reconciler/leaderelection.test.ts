import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { KubeApiError, type KubeClient, type RequestOptions } from './kube.js';
import { LeaderElector, microTime } from './leaderelection.js';

/** An in-memory Lease endpoint with resourceVersion conflicts; `down` makes every call fail. */
class LeaseStore implements KubeClient {
  readonly server = 'memory';
  lease: { metadata: { resourceVersion: string }; spec: Record<string, unknown> } | undefined;
  down = false;
  private rv = 0;

  async request<T>(method: string, _path: string, options: RequestOptions = {}): Promise<T> {
    if (this.down) throw new Error('connection refused');
    const body = options.body as { metadata: { resourceVersion?: string }; spec: Record<string, unknown> } | undefined;
    if (method === 'GET') {
      if (!this.lease) throw new KubeApiError(404, 'NotFound', 'not found');
      return structuredClone(this.lease) as T;
    }
    if (method === 'POST') {
      if (this.lease) throw new KubeApiError(409, 'AlreadyExists', 'exists');
      this.lease = { metadata: { resourceVersion: String(++this.rv) }, spec: body?.spec ?? {} };
      return this.lease as T;
    }
    if (!this.lease || body?.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', 'conflict');
    }
    this.lease = { metadata: { resourceVersion: String(++this.rv) }, spec: body.spec };
    return this.lease as T;
  }

  watch(): Promise<void> {
    throw new Error('not used');
  }

  holder(): unknown {
    return this.lease?.spec.holderIdentity;
  }
}

const log = pino({ level: 'silent' });

function elector(store: LeaseStore, clock: FakeClock, identity: string) {
  const e = new LeaderElector(store, { namespace: 'ns', name: 'lock', identity }, clock, log);
  const abort = new AbortController();
  const events: string[] = [];
  const done = e.run(abort.signal, { onStartedLeading: () => events.push('started'), onStoppedLeading: () => void events.push('stopped') });
  return { e, abort, events, done };
}

describe('LeaderElector', () => {
  it('writes lease times as MicroTime', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05.678000Z');
  });

  it('lets exactly one of two candidates lead', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    const b = elector(store, clock, 'b');
    await clock.advance(30_000);
    expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(store.holder()).toBe(a.e.isLeader() ? 'a' : 'b');
    a.abort.abort();
    b.abort.abort();
  });

  it("takes over a dead leader's lease after the lease duration, not before", async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    await clock.advance(1);
    expect(a.e.isLeader()).toBe(true);
    a.abort.abort();
    await clock.advance(1);
    const b = elector(store, clock, 'b');
    await clock.advance(14_000);
    expect(b.e.isLeader()).toBe(false);
    await clock.advance(4_000);
    expect(b.e.isLeader()).toBe(true);
    expect(store.lease?.spec.leaseTransitions).toBe(1);
    b.abort.abort();
  });

  it('hands over at once after a release', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    await clock.advance(1);
    const b = elector(store, clock, 'b');
    await clock.advance(1);
    a.abort.abort();
    await a.done;
    await a.e.release();
    expect(store.holder()).toBe('');
    await clock.advance(2_000);
    expect(b.e.isLeader()).toBe(true);
    b.abort.abort();
  });

  it('steps down when it cannot renew within the renew deadline, and leads again later', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const a = elector(store, clock, 'a');
    await clock.advance(1);
    expect(a.events).toEqual(['started']);
    store.down = true;
    await clock.advance(8_000);
    expect(a.e.isLeader()).toBe(true);
    await clock.advance(4_000);
    expect(a.e.isLeader()).toBe(false);
    expect(a.events).toEqual(['started', 'stopped']);
    store.down = false;
    await clock.advance(4_000);
    expect(a.e.isLeader()).toBe(true);
    expect(a.events).toEqual(['started', 'stopped', 'started']);
    a.abort.abort();
  });

  it('measures its renew deadline from the start of the last renewal that succeeded, not from its answer', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    let delayMs = 0;
    let down = false;
    const slow: KubeClient = {
      server: 'slow',
      request: async <T>(method: string, path: string, options: RequestOptions = {}) => {
        if (down) throw new Error('connection refused');
        if (delayMs > 0 && method === 'GET') await clock.sleep(delayMs, options.signal);
        return store.request<T>(method, path, options);
      },
      watch: () => store.watch(),
    };
    const e = new LeaderElector(slow, { namespace: 'ns', name: 'lock', identity: 'a' }, clock, log);
    const abort = new AbortController();
    let stoppedAt: number | undefined;
    const started = clock.monotonic();
    const done = e.run(abort.signal, { onStartedLeading: () => undefined, onStoppedLeading: () => void (stoppedAt ??= clock.monotonic() - started) });
    await clock.advance(1);
    // The renewal at 2 s takes 3 s to answer (it succeeds, written with renewTime 2 s); then the API server is gone.
    delayMs = 3000;
    await clock.advance(2000);
    await clock.advance(3000);
    down = true;
    for (let i = 0; i < 200 && stoppedAt === undefined; i++) await clock.advance(100);
    expect(stoppedAt).toBeDefined();
    expect(stoppedAt ?? Infinity, 'stepped down by 2 s + the 10 s deadline').toBeLessThanOrEqual(12_100);
    abort.abort();
    await done;
  });

  it('steps down by its renew deadline when its API calls turn slow, before anyone else can lead (no overlap)', async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    /** The old leader's view of the API server: every call takes `delayMs` once it turns slow, so a GET and a PUT outlast the renew deadline. */
    let delayMs = 0;
    const slow: KubeClient = {
      server: 'slow',
      request: async <T>(method: string, path: string, options: RequestOptions = {}) => {
        if (delayMs > 0) await clock.sleep(delayMs, options.signal);
        if (options.signal?.aborted) throw new Error('aborted');
        return store.request<T>(method, path, options);
      },
      watch: () => store.watch(),
    };
    const stamps: Record<string, number> = {};
    const run = (client: KubeClient, identity: string) => {
      const e = new LeaderElector(client, { namespace: 'ns', name: 'lock', identity }, clock, log);
      const abort = new AbortController();
      const done = e.run(abort.signal, {
        onStartedLeading: () => void (stamps[`${identity} started`] ??= clock.now()),
        onStoppedLeading: () => void (stamps[`${identity} stopped`] ??= clock.now()),
      });
      return { abort, done };
    };
    const old = run(slow, 'old');
    await clock.advance(0);
    expect(stamps['old started']).toBeDefined();
    await clock.advance(4000);
    delayMs = 8000;
    const next = run(store, 'next');
    for (let i = 0; i < 400 && stamps['next started'] === undefined; i++) await clock.advance(100);
    expect(stamps['next started']).toBeDefined();
    expect(stamps['old stopped'], 'the old leader was still leading when the new one started').toBeDefined();
    expect(stamps['old stopped'] ?? Infinity).toBeLessThanOrEqual(stamps['next started'] ?? 0);
    old.abort.abort();
    next.abort.abort();
    await clock.advance(10_000);
  });
});
