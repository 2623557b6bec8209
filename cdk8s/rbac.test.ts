import { describe, expect, it } from 'vitest';
import { group, plural } from '../src/api/index.js';
import { controllerName, installObjects, workloadsNamespace } from './install.js';

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };
type Obj = { kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[] };
const objects = installObjects({ deckhouse: true }) as unknown as Obj[];
const clusterRole = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === controllerName);

describe("the controller's RBAC is no wider than the objects it owns", () => {
  it('changes nothing cluster-wide but its own resource and, by name, the cluster-scoped objects it writes', () => {
    const own = new Set([plural, `${plural}/status`, `${plural}/finalizers`]);
    const wide = (clusterRole?.rules ?? []).filter(
      (r) =>
        r.verbs.some((v) => ['patch', 'update', 'delete'].includes(v)) &&
        !r.resourceNames?.length &&
        !(r.apiGroups?.[0] === group && r.resources?.every((x) => own.has(x))),
    );
    expect(wide).toEqual([]);
  });

  it('writes no Namespace, and no namespaced kind outside the workloads Role', () => {
    const rules = clusterRole?.rules ?? [];
    expect(rules.filter((r) => r.resources?.includes('namespaces')).flatMap((r) => r.verbs)).toEqual(['get']);
    for (const resource of [
      'deployments',
      'services',
      'serviceaccounts',
      'poddisruptionbudgets',
      'networkpolicies',
      'roles',
      'rolebindings',
      'podmonitors',
      'prometheusrules',
    ]) {
      // Reads by name are fine (the Service d8-system/deckhouse); nothing else but list and watch.
      const verbs = rules.filter((r) => r.resources?.includes(resource) && !r.resourceNames?.length).flatMap((r) => r.verbs);
      expect(
        verbs.filter((v) => !['list', 'watch'].includes(v)),
        resource,
      ).toEqual([]);
      const named = rules.filter((r) => r.resources?.includes(resource) && r.resourceNames?.length).flatMap((r) => r.verbs);
      expect(
        named.filter((v) => v !== 'get'),
        `${resource} by name`,
      ).toEqual([]);
    }
    const role = objects.find((o) => o.kind === 'Role' && o.metadata.name === `${controllerName}-workloads`);
    expect(role?.metadata.namespace).toBe(workloadsNamespace);
    expect(role?.rules?.find((r) => r.resources?.includes('deployments'))?.verbs).toEqual(['get', 'list', 'create', 'patch', 'delete']);
  });
});
