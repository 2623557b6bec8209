import { getEventListeners } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from './clock.js';
import type { KubeClient, WatchEvent } from './kube.js';
import { NamespacedInformers } from './namespaced.js';

/** A client that answers lists from `objects` and records every path asked for. */
function fakeClient(objects: Record<string, string[]>) {
  const paths: string[] = [];
  const client: KubeClient = {
    server: 'https://fake',
    async request<T>(_method: string, path: string) {
      paths.push(path);
      const ns = /namespaces\/([^/]+)\//.exec(path)?.[1] ?? '';
      return { metadata: { resourceVersion: '1' }, items: (objects[ns] ?? []).map((name) => ({ metadata: { name, namespace: ns, resourceVersion: '1' } })) } as T;
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
