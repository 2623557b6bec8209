import { describe, expect, it } from 'vitest';
import { ConditionType } from '../api/index.js';
import { components } from '../cmd/components.js';
import { defineComponent, type Component } from './contract.js';
import { builtinResource, componentsRBAC, groupOf, uncovered, type PolicyRule } from './rbac.js';

const grants = (rules: readonly PolicyRule[], group: string, resource: string, verb: string, name?: string) =>
  rules.some(
    (r) =>
      r.apiGroups.includes(group) &&
      r.resources.includes(resource) &&
      r.verbs.includes(verb) &&
      (!r.resourceNames?.length || (name !== undefined && r.resourceNames.includes(name))),
  );

/** A component that writes one cluster-scoped object of a CRD kind nobody else writes, and one ConfigMap-free namespaced Service. */
const toy: Component<null> = {
  name: 'toy',
  enabledField: 'spec.upmeter.enabled',
  enabled: () => true,
  needsLicence: false,
  crds: [{ group: 'toys.example.com', kind: 'Toy', plural: 'toys', versions: ['v1'] }],
  kinds: [{ apiVersion: 'v1', kind: 'Service' }],
  informers: [],
  gather: async () => ({ facts: null }),
  offlineFacts: () => null,
  render: () => [
    { apiVersion: 'toys.example.com/v1', kind: 'Toy', metadata: { name: 'the-toy' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'toy', namespace: 'ns' } },
  ],
  readiness: [{ type: ConditionType.UpmeterReady, checks: [], ready: () => 'toy applied' }],
};

describe('componentsRBAC', () => {
  const all = components({ image: 'x' });
  const rbac = componentsRBAC(all, 'x');

  it('grants every kind each component declares: namespaced ones in the workloads Role, cluster-scoped ones by name', () => {
    for (const c of all) {
      for (const k of c.kinds ?? []) {
        const r = builtinResource(c.name, k);
        for (const verb of ['create', 'patch', 'delete', 'list']) {
          if (r.namespaced) expect(grants(rbac.workloads, groupOf(k.apiVersion), r.plural, verb), `${c.name} ${k.kind} ${verb}`).toBe(true);
          else
            expect(
              rbac.cluster.some((rule) => rule.resources.includes(r.plural) && rule.verbs.includes(verb)),
              `${c.name} ${k.kind} ${verb}`,
            ).toBe(true);
        }
      }
      for (const req of c.crds) {
        const rules = req.namespaced ? rbac.workloads : rbac.cluster;
        for (const verb of ['create', 'patch', 'delete'])
          expect(
            rules.some((r) => r.resources.includes(req.plural) && r.verbs.includes(verb)),
            `${c.name} ${req.kind} ${verb}`,
          ).toBe(true);
      }
      for (const w of c.informers ?? [])
        expect(
          rbac.cluster.some((r) => w.path.endsWith(`/${r.resources[0] ?? '-'}`) && r.verbs.includes('watch')),
          w.path,
        ).toBe(true);
    }
  });

  it('limits get, patch and delete of cluster-scoped objects to the names the components render', () => {
    const named = rbac.cluster.filter((r) => r.verbs.includes('patch'));
    expect(named.every((r) => (r.resourceNames ?? []).length > 0)).toBe(true);
    expect(named.find((r) => r.resources.includes('clusterlogdestinations'))?.resourceNames).toEqual(['flant-integration-loki-storage']);
  });

  it("holds what the exporter's ClusterRole grants, so the controller may grant it", () => {
    for (const rule of rbac.grants) expect(uncovered([rule], [...rbac.cluster, ...uncovered(rbac.grants, rbac.cluster)])).toEqual([]);
    expect(rbac.grants.some((r) => r.resources.includes('nodes'))).toBe(true);
  });

  it('gives a new component its RBAC from its declarations alone: no hand edit', () => {
    const withToy = componentsRBAC([...all, defineComponent(toy)], 'x');
    expect(grants(withToy.cluster, 'toys.example.com', 'toys', 'create')).toBe(true);
    expect(grants(withToy.cluster, 'toys.example.com', 'toys', 'delete', 'the-toy')).toBe(true);
    expect(grants(withToy.cluster, 'toys.example.com', 'toys', 'delete', 'another')).toBe(false);
    expect(grants(rbac.cluster, 'toys.example.com', 'toys', 'create')).toBe(false);
  });

  it('fails, naming the component, on a built-in kind it cannot map to a resource', () => {
    const odd = { ...toy, name: 'odd', kinds: [{ apiVersion: 'v1', kind: 'ConfigMap' }] } as Component<null>;
    expect(() => componentsRBAC([defineComponent(odd)], 'x')).toThrow('component odd writes v1 ConfigMap');
  });
});
