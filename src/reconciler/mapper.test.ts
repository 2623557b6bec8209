import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { KubeApiError, type KubeClient } from './kube.js';
import { defaultServedTtlMs, RESTMapper, unservedTtlMs } from './mapper.js';

/** A discovery server that serves `apps/v1` Deployments only and counts what it is asked. */
function discovery() {
  const asked: string[] = [];
  const client: KubeClient = {
    server: 'https://fake',
    async request<T>(_method: string, path: string) {
      asked.push(path);
      if (path === '/apis/apps/v1') return { resources: [{ name: 'deployments', kind: 'Deployment', namespaced: true }] } as T;
      throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
    },
    watch: async () => {},
  };
  const clock = new FakeClock();
  return { asked, clock, mapper: new RESTMapper(client, clock) };
}

describe('RESTMapper', () => {
  it('trusts a served group version for an hour and asks again after', async () => {
    const { asked, clock, mapper } = discovery();
    expect(await mapper.resource('apps/v1', 'Deployment')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      plural: 'deployments',
      namespaced: true,
    });
    await clock.advance(defaultServedTtlMs - 1);
    await mapper.resource('apps/v1', 'Deployment');
    expect(asked).toEqual(['/apis/apps/v1']);
    await clock.advance(1);
    await mapper.resource('apps/v1', 'Deployment');
    expect(asked).toEqual(['/apis/apps/v1', '/apis/apps/v1']);
  });

  it('asks again after 30 s whether a group version it found missing is served now', async () => {
    const { asked, clock, mapper } = discovery();
    expect(await mapper.resource('example.com/v1', 'Widget')).toBeUndefined();
    await clock.advance(unservedTtlMs - 1);
    await mapper.resource('example.com/v1', 'Widget');
    expect(asked).toEqual(['/apis/example.com/v1']);
    await clock.advance(1);
    await mapper.resource('example.com/v1', 'Widget');
    expect(asked).toEqual(['/apis/example.com/v1', '/apis/example.com/v1']);
  });
});
