import { describe, expect, it } from 'vitest';
import { defineComponent, type AnyComponent } from '../flantintegration/index.js';
import { components } from './components.js';
import { servedAPIVersion } from '../flantintegration/index.js';
import { ownedWatches } from './owned.js';

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
