import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.js';
import { Informer, type InformerEvent } from './informer.js';
import { KubeApiError, type KubeClient, type KubeObject, type WatchEvent } from './kube.js';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

/** A scripted API: each list returns the next entry; each watch runs the next script. */
class ScriptedAPI implements KubeClient {
  readonly server = 'script';
  lists: Array<KubeObject[] | Error> = [];
  watches: Array<(emit: (e: WatchEvent) => void, signal: AbortSignal) => Promise<void>> = [];
  listCalls = 0;
  watchQueries: Array<Record<string, unknown>> = [];

  async request<T>(): Promise<T> {
    this.listCalls++;
    const next = this.lists.shift() ?? [];
    if (next instanceof Error) throw next;
    return { metadata: { resourceVersion: String(100 + this.listCalls) }, items: next } as T;
  }

  async watch(_path: string, query: Record<string, unknown>, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    this.watchQueries.push(query);
    const script = this.watches.shift() ?? ((_e, s) => new Promise<void>((r) => s.addEventListener('abort', () => r())));
    await script(onEvent, signal);
  }
}

function setup(options = {}) {
  const api = new ScriptedAPI();
  const clock = new FakeClock();
  const informer = new Informer(api, { path: '/api/v1/secrets', initialBackoffMs: 1000, ...options }, clock, pino({ level: 'silent' }));
  const events: string[] = [];
  informer.on((e: InformerEvent<KubeObject>) => events.push(`${e.type} ${e.object.metadata?.name}`));
  const abort = new AbortController();
  return { api, clock, informer, events, abort, run: () => informer.run(abort.signal) };
}

describe('Informer', () => {
  it('caches and hands out what transform keeps, of listed and watched objects alike', async () => {
    const slim = (o: KubeObject): KubeObject => ({ metadata: { name: o.metadata?.name, resourceVersion: o.metadata?.resourceVersion } });
    const { api, informer, abort, run } = setup({ transform: slim });
    const seen: KubeObject[] = [];
    informer.on((e) => seen.push(e.object));
    api.lists.push([{ ...obj('a', '1'), data: { big: 'x'.repeat(1000) } }]);
    api.watches.push(async (emit) => {
      emit({ type: 'MODIFIED', object: { ...obj('a', '2'), data: { big: 'y' } } });
    });
    const done = run();
    await flush();
    expect(seen).toEqual([{ metadata: { name: 'a', resourceVersion: '1' } }, { metadata: { name: 'a', resourceVersion: '2' } }]);
    expect(informer.list()).toEqual([{ metadata: { name: 'a', resourceVersion: '2' } }]);
    abort.abort();
    await done;
  });

  it('syncs after the first list and follows watch events', async () => {
    const { api, informer, events, abort, run } = setup();
    api.lists.push([obj('a', '1')]);
    api.watches.push(async (emit) => {
      emit({ type: 'ADDED', object: obj('b', '2') });
      emit({ type: 'MODIFIED', object: obj('a', '3') });
      emit({ type: 'DELETED', object: obj('b', '4') });
    });
    expect(informer.hasSynced()).toBe(false);
    const done = run();
    await flush();
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(informer.list().map((o) => o.metadata?.resourceVersion)).toEqual(['3']);
    expect(api.watchQueries[1]).toMatchObject({ resourceVersion: '4' });
    abort.abort();
    await done;
  });

  it('relists at once on 410 Gone and reports what vanished meanwhile', async () => {
    const { api, informer, events, abort, run } = setup();
    api.lists.push([obj('a', '1'), obj('b', '1')], [obj('a', '1')]);
    api.watches.push(async () => {
      throw new KubeApiError(410, 'Expired', 'too old resource version');
    });
    const done = run();
    await flush();
    await flush();
    expect(api.listCalls).toBe(2);
    expect(informer.relists).toBe(2);
    expect(events).toEqual(['add a', 'add b', 'delete b']);
    abort.abort();
    await done;
  });

  it('relists on a 410 ERROR event inside the watch stream', async () => {
    const { api, abort, run } = setup();
    api.lists.push([], []);
    api.watches.push(async (emit) => emit({ type: 'ERROR', object: { code: 410, message: 'expired' } }));
    const done = run();
    await flush();
    await flush();
    expect(api.listCalls).toBe(2);
    abort.abort();
    await done;
  });

  it('backs off exponentially on errors and stays alive', async () => {
    const { api, clock, informer, abort, run } = setup();
    api.lists.push(new Error('connection refused'), new Error('connection refused'), new Error('connection refused'), [obj('a', '1')]);
    const done = run();
    await flush();
    expect(api.listCalls).toBe(1);
    await clock.advance(1300);
    expect(api.listCalls).toBe(2);
    await clock.advance(900);
    expect(api.listCalls).toBe(2);
    await clock.advance(1700);
    expect(api.listCalls).toBe(3);
    await clock.advance(5000);
    expect(api.listCalls).toBe(4);
    expect(informer.hasSynced()).toBe(true);
    abort.abort();
    await done;
  });

  it('restarts a watch that went silent', async () => {
    const { api, clock, abort, run } = setup({ stallTimeoutMs: 10_000 });
    api.lists.push([], []);
    const done = run();
    await flush();
    expect(api.listCalls).toBe(1);
    await clock.advance(10_000);
    await clock.advance(1300);
    expect(api.listCalls).toBe(2);
    abort.abort();
    await done;
  });
});
