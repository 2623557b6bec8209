import { describe, expect, it } from 'vitest';
import { defineComponent, type AnyComponent } from '../flantintegration/index.js';
import { components } from './components.js';
import { servedAPIVersion } from '../flantintegration/index.js';
import { OwnedCaches, ownedWatches } from './owned.js';

describe('ownedWatches', () => {
  const all = components({ image: 'x' });

  it('watches every kind the components write but Secrets and Deployments (cached elsewhere), each once', () => {
    const watches = ownedWatches(all);
    expect(watches.namespaced.map((r) => r.plural)).toEqual([
      'networkpolicies',
      'poddisruptionbudgets',
      'rolebindings',
      'roles',
      'serviceaccounts',
      'services',
    ]);
    expect(watches.cluster.map((r) => r.plural)).toEqual(['clusterrolebindings', 'clusterroles']);
    expect(watches.crds.map((r) => `${r.plural}.${r.group}`).sort()).toEqual([
      'clusterlogdestinations.deckhouse.io',
      'clusterloggingconfigs.deckhouse.io',
      'customalertmanagers.deckhouse.io',
      'podmonitors.monitoring.coreos.com',
      'prometheusrules.monitoring.coreos.com',
      'upmeterremotewrites.deckhouse.io',
    ]);
    // Every declared kind is covered: the components' built-in kinds are all in the table or cached elsewhere.
    const covered = new Set([...watches.namespaced, ...watches.cluster].map((r) => `${r.apiVersion} ${r.kind}`));
    for (const k of all.flatMap((c) => c.kinds ?? []))
      expect(covered.has(`${k.apiVersion} ${k.kind}`) || ['Secret', 'Deployment'].includes(k.kind), k.kind).toBe(true);
  });

  it('refuses a built-in kind it does not know, naming the component', () => {
    const odd = { ...all[0], name: 'odd', kinds: [{ apiVersion: 'batch/v1', kind: 'CronJob' }] } as AnyComponent;
    expect(() => ownedWatches([defineComponent(odd)])).toThrow('component odd writes batch/v1 CronJob');
  });

  it('watches a CRD kind in its best served version, and not at all while none is served', () => {
    const req = { group: 'deckhouse.io', kind: 'ClusterLoggingConfig', plural: 'clusterloggingconfigs', versions: ['v1alpha2', 'v1alpha1'] };
    const crd = (served: string[]) => ({
      spec: { versions: ['v1alpha1', 'v1alpha2'].map((name) => ({ name, served: served.includes(name) })) },
      status: { conditions: [{ type: 'Established', status: 'True' }] },
    });
    expect(servedAPIVersion(req, crd(['v1alpha1', 'v1alpha2']))).toBe('deckhouse.io/v1alpha2');
    expect(servedAPIVersion(req, crd(['v1alpha1']))).toBe('deckhouse.io/v1alpha1');
    expect(servedAPIVersion(req, crd([]))).toBeUndefined();
    expect(servedAPIVersion(req, undefined)).toBeUndefined();
  });
});

describe('OwnedCaches', () => {
  const cache = (name: string) => ({ get: () => undefined, list: () => [{ metadata: { name } }] });
  const caches = new OwnedCaches();
  caches.add('apps', 'Deployment', (_v, _ns, component) => (component === 'madison' ? cache('madison-deployments') : undefined));
  caches.add('apps', 'Deployment', (_v, _ns, component) => (component === 'metrics' ? cache('metrics-deployments') : undefined));
  caches.add('', 'Secret', (apiVersion, namespace) => (apiVersion === 'v1' && namespace === 'ns' ? cache('secrets') : undefined));

  it.each<[string, [string, string, string | undefined, string], string | undefined]>([
    ["the first finder that answers: madison's Deployments", ['apps/v1', 'Deployment', 'ns', 'madison'], 'madison-deployments'],
    ["the second: metrics' Deployments", ['apps/v1', 'Deployment', 'ns', 'metrics'], 'metrics-deployments'],
    ['a component nobody caches: ask the server', ['apps/v1', 'Deployment', 'ns', 'logs'], undefined],
    ['the core group by its bare apiVersion', ['v1', 'Secret', 'ns', 'madison'], 'secrets'],
    ['a namespace not cached', ['v1', 'Secret', 'other', 'madison'], undefined],
    ['a kind not registered', ['v1', 'ConfigMap', 'ns', 'madison'], undefined],
  ])('%s', (_name, [apiVersion, kind, namespace, component], expected) => {
    expect(caches.of(apiVersion, kind, namespace, component)?.list()[0]?.metadata?.name).toBe(expected);
  });
});
