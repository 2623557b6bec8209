import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Applier, NotOwnedError } from './apply.js';
import { FakeClock } from './clock.js';
import { KubeApiError, type KubeClient, type KubeObject } from './kube.js';
import { RESTMapper } from './mapper.js';

const log = pino({ level: 'silent' });
const ours = { key: 'app.kubernetes.io/managed-by', value: 'me' };
const labels = { [ours.key]: ours.value, 'example.com/component': 'c' };
const owner = { apiVersion: 'example.com/v1', kind: 'Owner', name: 'o', uid: 'owner-1' };

/** ConfigMaps in namespace `ns`, as a fake API server keeps them; records writes. */
function fakeAPI(existing: KubeObject[]) {
  const store = new Map(existing.map((o) => [o.metadata?.name ?? '', o]));
  const writes: string[] = [];
  const client: KubeClient = {
    server: 'https://fake',
    async request<T>(method: string, path: string, options?: { query?: Record<string, unknown> }) {
      if (path === '/api/v1') return { resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] } as T;
      const name = path.split('/configmaps/')[1];
      if (method === 'GET' && name === undefined) {
        const asked = options?.query?.labelSelector;
        const selector = typeof asked === 'string' ? asked : '';
        const items = [...store.values()].filter((o) =>
          selector.split(',').every((kv) => o.metadata?.labels?.[kv.split('=')[0] ?? ''] === kv.split('=')[1]),
        );
        return { metadata: {}, items } as T;
      }
      const found = store.get(name ?? '');
      if (method === 'GET') {
        if (!found) throw new KubeApiError(404, 'NotFound', 'not found');
        return found as T;
      }
      writes.push(`${method} ${name}`);
      if (method === 'DELETE') store.delete(name ?? '');
      return {} as T;
    },
    watch: async () => {},
  };
  return {
    applier: new Applier(
      client,
      new RESTMapper(client, new FakeClock()),
      { managedBy: ours, componentKey: 'example.com/component', signatureKey: 'example.com/signature' },
      'me',
    ),
    writes,
    store,
  };
}

const cm = (name: string, meta: Partial<NonNullable<KubeObject['metadata']>> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', ...meta },
});
const desired = (name: string) => cm(name, { labels, ownerReferences: [owner], annotations: { 'example.com/signature': 'sig-1' } });

describe('Applier adopts nothing', () => {
  it.each<[string, KubeObject | undefined, boolean]>([
    ['nothing there yet', undefined, true],
    ['ours: labelled and owned by the same owner', desired('x'), true],
    ["someone else's, with no labels", cm('x'), false],
    [
      'labelled as ours but owned by another owner (a re-created one, or a copy)',
      cm('x', { labels, ownerReferences: [{ ...owner, uid: 'owner-2' }] }),
      false,
    ],
    ['owned by us but without our labels', cm('x', { ownerReferences: [owner] }), false],
    [
      'released by us: our labels, no owner at all, and the signature of what we write (a stored key kept past its owner)',
      cm('x', { labels, annotations: { 'example.com/signature': 'sig-1' } }),
      true,
    ],
    ['our labels and no owner, but no signature: anybody can copy labels', cm('x', { labels }), false],
    ['our labels and no owner, with another signature', cm('x', { labels, annotations: { 'example.com/signature': 'forged' } }), false],
    ["unowned with only the managed-by label (another component's, or a copy)", cm('x', { labels: { [ours.key]: ours.value } }), false],
  ])('%s', async (_name, existing, applied) => {
    const { applier, writes } = fakeAPI(existing ? [existing] : []);
    const result = applier.apply(desired('x'));
    if (applied) {
      await result;
      expect(writes).toEqual(['PATCH x']);
    } else {
      await expect(result).rejects.toBeInstanceOf(NotOwnedError);
      expect(writes).toEqual([]);
    }
  });

  it("prunes and cleans up only what carries the owner's UID", async () => {
    const { applier, store } = fakeAPI([
      desired('mine'),
      cm('copy', { labels, ownerReferences: [{ ...owner, uid: 'owner-2' }] }),
      cm('foreign', { labels: { other: 'x' } }),
    ]);
    const kinds = [{ apiVersion: 'v1', kind: 'ConfigMap' }];
    expect(await applier.deleteComponent('c', kinds, log, 'owner-1')).toEqual(['ConfigMap ns/mine']);
    expect([...store.keys()].sort()).toEqual(['copy', 'foreign']);
  });

  it(
    "on the owner's deletion deletes the rest and releases what it keeps: the owner reference goes, with the resourceVersion as " + 'precondition',
    async () => {
      const { applier, writes } = fakeAPI([desired('key'), desired('other')]);
      const kinds = [{ apiVersion: 'v1', kind: 'ConfigMap' }];
      expect(await applier.retire('c', [cm('key')], kinds, log, 'owner-1')).toEqual({
        deleted: ['ConfigMap ns/other'],
        released: ['ConfigMap ns/key'],
      });
      expect(writes.sort()).toEqual(['DELETE other', 'PATCH key']);
    },
  );

  it('looks in the given namespaces only, and a namespace it may not list holds nothing of ours', async () => {
    const seen: string[] = [];
    const client: KubeClient = {
      server: 'https://fake',
      async request<T>(_method: string, path: string) {
        if (path === '/api/v1') return { resources: [{ name: 'secrets', kind: 'Secret', namespaced: true }] } as T;
        seen.push(path);
        if (path.includes('/namespaces/forbidden/')) throw new KubeApiError(403, 'Forbidden', 'forbidden');
        return { metadata: {}, items: [] } as T;
      },
      watch: async () => {},
    };
    const applier = new Applier(
      client,
      new RESTMapper(client, new FakeClock()),
      { managedBy: ours, componentKey: 'example.com/component', signatureKey: 'example.com/signature' },
      'me',
    );
    expect(await applier.deleteComponent('c', [{ apiVersion: 'v1', kind: 'Secret', namespaces: ['a', 'forbidden'] }], log, 'owner-1')).toEqual([]);
    expect(seen).toEqual(['/api/v1/namespaces/a/secrets', '/api/v1/namespaces/forbidden/secrets']);
  });

  it('writes nothing when it applied exactly this and nobody changed the object since; writes when either changed', async () => {
    const stored = new Map<string, KubeObject>();
    let rv = 1;
    const writes: string[] = [];
    const client: KubeClient = {
      server: 'https://fake',
      async request<T>(method: string, path: string, options?: { body?: unknown }) {
        if (path === '/api/v1') return { resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] } as T;
        if (method === 'GET') {
          const found = stored.get(path);
          if (!found) throw new KubeApiError(404, 'NotFound', 'not found');
          return found as T;
        }
        writes.push(method);
        const obj = { ...(options?.body as KubeObject), metadata: { ...(options?.body as KubeObject).metadata, resourceVersion: String(rv++) } };
        stored.set(path, obj);
        return obj as T;
      },
      watch: async () => {},
    };
    const applier = new Applier(
      client,
      new RESTMapper(client, new FakeClock()),
      { managedBy: ours, componentKey: 'example.com/component', signatureKey: 'example.com/signature' },
      'me',
    );
    const withData = (v: string) => ({ ...desired('x'), data: { v } });
    await applier.apply(withData('1'));
    await applier.apply(withData('1'));
    expect(writes).toEqual(['PATCH']);
    await applier.apply(withData('2'));
    expect(writes).toEqual(['PATCH', 'PATCH']);
    const path = '/api/v1/namespaces/ns/configmaps/x';
    stored.set(path, { ...(stored.get(path) as KubeObject), metadata: { ...stored.get(path)?.metadata, resourceVersion: 'changed-by-someone' } });
    await applier.apply(withData('2'));
    expect(writes).toEqual(['PATCH', 'PATCH', 'PATCH']);
  });
});

describe('Applier replaces an object of ours an edit made unmergeable', () => {
  it('deletes it (preconditioned on what it checked) and applies it anew when the apply is answered 422', async () => {
    const api = fakeAPI([cm('ours', { labels, ownerReferences: [owner], uid: 'u-1', resourceVersion: '5' })]);
    let patches = 0;
    const request = api.applier['client'].request.bind(api.applier['client']);
    const deletes: unknown[] = [];
    api.applier['client'].request = async <T>(method: string, path: string, options?: { body?: unknown }) => {
      if (method === 'PATCH' && ++patches === 1) throw new KubeApiError(422, 'Invalid', 'spec.ports[1].name: Duplicate value: "http"');
      if (method === 'DELETE') deletes.push(options?.body);
      return request<T>(method, path, options);
    };
    await api.applier.apply(desired('ours'));
    expect(patches).toBe(2);
    expect(deletes).toEqual([expect.objectContaining({ preconditions: { uid: 'u-1', resourceVersion: '5' } })]);
    expect(api.applier.replaced).toBe(1);
  });

  it('never replaces an object it did not check as its own', async () => {
    const api = fakeAPI([]);
    api.applier['client'].request = async () => {
      throw new KubeApiError(422, 'Invalid', 'bad');
    };
    await expect(api.applier.apply(cm('plain'))).rejects.toThrow('bad');
    expect(api.applier.replaced).toBe(0);
  });
});

describe('Applier reads the caches of our own objects before asking the server', () => {
  /** A fake server that numbers resourceVersions, records every request, and a cache the test fills (or lets lag). */
  function cachedAPI() {
    const stored = new Map<string, KubeObject>();
    const requests: string[] = [];
    const deletes: unknown[] = [];
    const conflicts = new Set<string>();
    let rv = 1;
    const client: KubeClient = {
      server: 'https://fake',
      async request<T>(method: string, path: string, options?: { body?: unknown }) {
        if (path === '/api/v1') return { resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] } as T;
        requests.push(`${method} ${path.split('/configmaps')[1] || '(list)'}`);
        if (method === 'GET' && !path.includes('/configmaps/')) return { metadata: {}, items: [...stored.values()] } as T;
        if (method === 'GET') {
          const found = stored.get(path);
          if (!found) throw new KubeApiError(404, 'NotFound', 'not found');
          return found as T;
        }
        if (method === 'DELETE') {
          deletes.push(options?.body);
          if (conflicts.has(path)) throw new KubeApiError(409, 'Conflict', 'the resourceVersion in the precondition does not match');
          stored.delete(path);
          return {} as T;
        }
        const body = options?.body as KubeObject;
        const obj = { ...body, metadata: { ...body.metadata, uid: `uid-${body.metadata?.name}`, resourceVersion: String(rv++) } };
        stored.set(path, obj);
        return obj as T;
      },
      watch: async () => {},
    };
    const cached = new Map<string, KubeObject>();
    let synced = true;
    const asked: string[] = [];
    const applier = new Applier(
      client,
      new RESTMapper(client, new FakeClock()),
      { managedBy: ours, componentKey: 'example.com/component', signatureKey: 'example.com/signature' },
      'me',
      {
        of: (apiVersion, kind, namespace, component) => {
          asked.push(`${apiVersion} ${kind} ${namespace ?? '*'} ${component}`);
          return synced ? { get: (key) => cached.get(key), list: () => [...cached.values()] } : undefined;
        },
      },
    );
    const path = (name: string) => `/api/v1/namespaces/ns/configmaps/${name}`;
    /** The cache catches up with the server. */
    const catchUp = () => {
      cached.clear();
      for (const o of stored.values()) cached.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
    };
    return {
      applier,
      requests,
      deletes,
      stored,
      cached,
      asked,
      catchUp,
      path,
      conflict: (name: string) => conflicts.add(path(name)),
      unsync: () => (synced = false),
    };
  }
  const kinds = [{ apiVersion: 'v1', kind: 'ConfigMap', namespaces: ['ns'] }];

  it('at rest an object the cache shows as our last apply left it costs no request at all', async () => {
    const api = cachedAPI();
    await api.applier.apply(desired('x'));
    expect(api.requests).toEqual(['GET /x', 'PATCH /x']);
    api.catchUp();
    api.requests.length = 0;
    await api.applier.apply(desired('x'));
    await api.applier.prune('c', [desired('x')], kinds, log, 'owner-1');
    expect(api.requests).toEqual([]);
    expect(api.asked).toContain('v1 ConfigMap ns c');
  });

  it('asks the server when the cache has not seen our last apply, and writes only when the object changed', async () => {
    const api = cachedAPI();
    await api.applier.apply(desired('x'));
    api.requests.length = 0;
    // The cache lags (nothing yet): the server says it is as we left it, so nothing is written.
    await api.applier.apply(desired('x'));
    expect(api.requests).toEqual(['GET /x']);
    // Edited by someone since: the cache shows another resourceVersion; it is read and applied again.
    api.catchUp();
    api.cached.set('ns/x', { ...api.cached.get('ns/x'), metadata: { ...api.cached.get('ns/x')?.metadata, resourceVersion: '99' } });
    api.requests.length = 0;
    await api.applier.apply(desired('x'));
    expect(api.requests).toEqual(['GET /x']);
    // A new body is always applied, whatever the cache says.
    api.catchUp();
    api.requests.length = 0;
    await api.applier.apply({ ...desired('x'), data: { v: '2' } });
    expect(api.requests).toEqual(['GET /x', 'PATCH /x']);
  });

  it('never skips the ownership check for an object the cache shows owned by another owner', async () => {
    const api = cachedAPI();
    await api.applier.apply(desired('x'));
    api.catchUp();
    const stored = api.stored.get(api.path('x'));
    api.stored.set(api.path('x'), { ...stored, metadata: { ...stored?.metadata, ownerReferences: [{ ...owner, uid: 'owner-2' }] } });
    api.cached.set('ns/x', api.stored.get(api.path('x')) as KubeObject);
    await expect(api.applier.apply(desired('x'))).rejects.toBeInstanceOf(NotOwnedError);
  });

  it('prunes from the cache with the resourceVersion it saw; an object changed since (409) is left, not reported deleted', async () => {
    const api = cachedAPI();
    for (const name of ['keep', 'gone', 'changed']) await api.applier.apply(desired(name));
    api.catchUp();
    api.conflict('changed');
    api.requests.length = 0;
    expect(await api.applier.prune('c', [desired('keep')], kinds, log, 'owner-1')).toEqual(['ConfigMap ns/gone']);
    expect(api.requests.sort()).toEqual(['DELETE /changed', 'DELETE /gone']);
    expect(api.deletes).toContainEqual(expect.objectContaining({ preconditions: { uid: 'uid-gone', resourceVersion: '2' } }));
    expect(api.stored.has(api.path('changed'))).toBe(true);
  });

  it('lists from the server while the cache has not synced, and always when it releases what it keeps', async () => {
    const api = cachedAPI();
    await api.applier.apply(desired('key'));
    api.catchUp();
    api.requests.length = 0;
    await api.applier.retire('c', [cm('key')], kinds, log, 'owner-1');
    expect(api.requests).toEqual(['GET (list)', 'PATCH /key']);
    api.unsync();
    api.requests.length = 0;
    await api.applier.prune('c', [], kinds, log, 'owner-1');
    expect(api.requests[0]).toBe('GET (list)');
  });
});
