import { getEventListeners } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.js';
import { KubeApiError, type KubeClient, type WatchEvent } from './kube.js';
import { NamespacedInformers } from './namespaced.js';

/** A client that answers lists from `objects` and records every path asked for. */
function fakeClient(objects: Record<string, string[]>) {
  const paths: string[] = [];
  const client: KubeClient = {
    server: 'https://fake',
    async request<T>(_method: string, path: string) {
      paths.push(path);
      const ns = /namespaces\/([^/]+)\//.exec(path)?.[1] ?? '';
      return {
        metadata: { resourceVersion: '1' },
        items: (objects[ns] ?? []).map((name) => ({ metadata: { name, namespace: ns, resourceVersion: '1' } })),
      } as T;
    },
    async watch(_path: string, _query: unknown, _onEvent: (e: WatchEvent) => void, signal: AbortSignal) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  };
  return { client, paths };
}

describe('NamespacedInformers', () => {
  it('lists only the namespaces it is given, follows changes, and forgets a namespace it drops', async () => {
    const { client, paths } = fakeClient({ a: ['s1'], b: ['s2'], c: ['s3'] });
    const set = new NamespacedInformers(client, { path: (ns) => `/api/v1/namespaces/${ns}/secrets` }, new FakeClock(), pino({ level: 'silent' }));
    set.setNamespaces(['a', 'b']);
    const stop = new AbortController();
    const run = set.run(stop.signal);
    await flush();
    expect(set.hasSynced()).toBe(true);
    expect(set.get('a/s1')?.metadata?.name).toBe('s1');
    expect(set.get('c/s3')).toBeUndefined();
    set.setNamespaces(['a', 'c']);
    await flush();
    expect(set.namespaces()).toEqual(['a', 'c']);
    expect(set.get('b/s2')).toBeUndefined();
    expect(set.get('c/s3')?.metadata?.name).toBe('s3');
    expect([...new Set(paths)].sort()).toEqual(['/api/v1/namespaces/a/secrets', '/api/v1/namespaces/b/secrets', '/api/v1/namespaces/c/secrets']);
    stop.abort();
    await run;
    expect(set.namespaces()).toEqual([]);
  });

  it('holds no listener on its signal for a namespace it dropped, however often namespaces come and go', async () => {
    const { client } = fakeClient({});
    const set = new NamespacedInformers(client, { path: (ns) => `/api/v1/namespaces/${ns}/secrets` }, new FakeClock(), pino({ level: 'silent' }));
    const stop = new AbortController();
    const run = set.run(stop.signal);
    await flush();
    const base = getEventListeners(stop.signal, 'abort').length;
    for (let i = 0; i < 50; i++) {
      set.setNamespaces(['always', `churn-${i}`]);
      await flush();
    }
    expect(getEventListeners(stop.signal, 'abort').length).toBe(base + 2);
    stop.abort();
    await run;
  });
});

describe('NamespacedInformers with an access check', () => {
  /** A client whose lists answer 403 in the namespaces of `forbidden` (the set may change). */
  function guarded(forbidden: Set<string>) {
    const paths: string[] = [];
    const open: Array<() => void> = [];
    const nsOf = (path: string) => /namespaces\/([^/]+)\//.exec(path)?.[1] ?? '';
    const client: KubeClient = {
      server: 'https://fake',
      async request<T>(_method: string, path: string) {
        paths.push(path);
        const ns = nsOf(path);
        if (forbidden.has(ns)) throw new KubeApiError(403, 'Forbidden', `secrets is forbidden in ${ns}`);
        return { metadata: { resourceVersion: '1' }, items: [{ metadata: { name: 's', namespace: ns, resourceVersion: '1' } }] } as T;
      },
      async watch(path: string, _query: unknown, _onEvent: (e: WatchEvent) => void, signal: AbortSignal) {
        if (forbidden.has(nsOf(path))) throw new KubeApiError(403, 'Forbidden', 'watch is forbidden');
        await new Promise<void>((resolve) => {
          open.push(resolve);
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
      },
    };
    /** The server ends every open watch (as at its timeout). */
    const closeWatches = () => open.splice(0).forEach((resolve) => resolve());
    return { client, paths, closeWatches };
  }

  it('never lists a namespace it may not, is synced without it, names it, and starts it once a Role allows it', async () => {
    const clock = new FakeClock();
    const forbidden = new Set(['d8-system']);
    const { client, paths } = guarded(forbidden);
    const asked: string[] = [];
    const canList = async (ns: string) => {
      asked.push(ns);
      return !forbidden.has(ns);
    };
    const set = new NamespacedInformers(
      client,
      { path: (ns) => `/api/v1/namespaces/${ns}/secrets`, canList, recheckMs: 60_000 },
      clock,
      pino({ level: 'silent' }),
    );
    const changes: string[] = [];
    set.onAccess((c) => changes.push(`${c.namespace}=${c.allowed}`));
    set.setNamespaces(['d8-system', 'workloads']);
    const stop = new AbortController();
    const run = set.run(stop.signal);
    await flush();
    expect(set.hasSynced()).toBe(true);
    expect(set.denied()).toEqual(['d8-system']);
    expect(set.namespaces()).toEqual(['workloads']);
    expect(paths.some((p) => p.includes('/d8-system/'))).toBe(false);
    expect(changes).toEqual(['d8-system=false']);
    expect(set.describe()).toContain('not allowed in d8-system');

    await clock.advance(30_000);
    expect(asked.filter((ns) => ns === 'd8-system')).toHaveLength(1);
    forbidden.delete('d8-system');
    await clock.advance(30_000);
    await flush();
    expect(set.denied()).toEqual([]);
    expect(set.get('d8-system/s')?.metadata?.name).toBe('s');
    expect(changes).toEqual(['d8-system=false', 'd8-system=true']);
    stop.abort();
    await run;
  });

  it('is not synced while the answer is pending, and drops a namespace whose list turns forbidden', async () => {
    const clock = new FakeClock();
    const forbidden = new Set<string>();
    const { client, closeWatches } = guarded(forbidden);
    let answer: (allowed: boolean) => void = () => undefined;
    let first = true;
    const canList = (ns: string) => {
      if (ns === 'a' && first) {
        first = false;
        return new Promise<boolean>((resolve) => (answer = resolve));
      }
      return Promise.resolve(!forbidden.has(ns));
    };
    const set = new NamespacedInformers(
      client,
      { path: (ns) => `/api/v1/namespaces/${ns}/secrets`, canList, recheckMs: 60_000 },
      clock,
      pino({ level: 'silent' }),
    );
    const changes: string[] = [];
    set.onAccess((c) => changes.push(`${c.namespace}=${c.allowed}`));
    set.setNamespaces(['a']);
    const stop = new AbortController();
    const run = set.run(stop.signal);
    await flush();
    expect(set.hasSynced()).toBe(false);
    answer(true);
    await flush();
    expect(set.hasSynced()).toBe(true);
    expect(set.get('a/s')).toBeDefined();

    // The Role is removed: the next watch is answered 403.
    forbidden.add('a');
    closeWatches();
    await flush();
    expect(set.denied()).toEqual(['a']);
    expect(set.get('a/s')).toBeUndefined();
    expect(set.hasSynced()).toBe(true);
    expect(changes).toEqual(['a=false']);
    stop.abort();
    await run;
  });
});

describe('NamespacedInformers: a denied namespace asked again', () => {
  it('asks again at once when the namespaces are set again, and stays synced meanwhile', async () => {
    const clock = new FakeClock();
    let allowed = false;
    let asked = 0;
    const { client } = fakeClient({ a: ['s'] });
    const canList = async () => {
      asked++;
      return allowed;
    };
    const set = new NamespacedInformers(
      client,
      { path: (ns) => `/api/v1/namespaces/${ns}/secrets`, canList, recheckMs: 600_000 },
      clock,
      pino({ level: 'silent' }),
    );
    set.setNamespaces(['a']);
    const stop = new AbortController();
    const run = set.run(stop.signal);
    await flush();
    expect(set.denied()).toEqual(['a']);
    allowed = true;
    set.setNamespaces(['a']);
    expect(set.hasSynced()).toBe(true);
    await flush();
    expect(asked).toBe(2);
    expect(set.get('a/s')).toBeDefined();
    stop.abort();
    await run;
  });
});

describe('NamespacedInformers: what is not known yet', () => {
  it('names a namespace whose access is being asked, until the answer and the first list', async () => {
    let answer: (allowed: boolean) => void = () => undefined;
    const { client } = fakeClient({ a: ['s'] });
    const set = new NamespacedInformers(
      client,
      { path: (ns) => `/api/v1/namespaces/${ns}/secrets`, canList: () => new Promise<boolean>((r) => (answer = r)) },
      new FakeClock(),
      pino({ level: 'silent' }),
    );
    set.setNamespaces(['a']);
    const stop = new AbortController();
    const run = set.run(stop.signal);
    await flush();
    expect(set.unsettled()).toEqual(['a']);
    answer(true);
    await flush();
    expect(set.unsettled()).toEqual([]);
    stop.abort();
    await run;
  });
});
