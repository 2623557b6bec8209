/**
 * The controller's RBAC, derived from what the components declare, as kubebuilder's markers
 * keep RBAC beside the code: the built-in kinds and CRD kinds they write, the informers they
 * need, and what the objects they render grant (the exporter's ClusterRole: Kubernetes lets the
 * controller grant only what it holds). The install (cdk8s/install.ts) adds the spine's own
 * needs; e2e/least-privilege.spec.ts proves the whole minimal against an audit log.
 */
import { flantIntegrationSpecSchema } from '../api/index.js';
import type { KindRef, KubeObject } from '../reconciler/index.js';
import { stamp, type AnyComponent, type CRDRequirement } from './contract.js';

/** An RBAC rule, as a ClusterRole or Role holds it. */
export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

/** A built-in resource: its REST group and version, plural and scope. */
export interface BuiltinResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The built-in kinds components may write; a kind missing here fails the RBAC and the owned-objects watch, naming it. */
const builtins: readonly BuiltinResource[] = [
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
];

/** The resource of a built-in kind a component writes; throws on one this table lacks. */
export function builtinResource(component: string, kind: KindRef): BuiltinResource {
  const found = builtins.find((b) => b.apiVersion === kind.apiVersion && b.kind === kind.kind);
  if (!found)
    throw new Error(
      `component ${component} writes ${kind.apiVersion} ${kind.kind}, which src/flantintegration/rbac.ts does not know: add its resource there`,
    );
  return found;
}

/** Kinds whose objects another cache already watches: Secrets (the Secret cache), Deployments (the components' informers). */
export function watchedElsewhere(resource: Pick<BuiltinResource, 'apiVersion' | 'kind'>): boolean {
  return (resource.apiVersion === 'v1' && resource.kind === 'Secret') || (resource.apiVersion === 'apps/v1' && resource.kind === 'Deployment');
}

/** The API group of an apiVersion (`''` for the core group). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** Server-side apply: get (is it ours?), patch (apply), create (an apply that creates needs it too), list and delete (prune). */
export const writeVerbs: readonly string[] = ['get', 'list', 'create', 'patch', 'delete'];
/** {@link writeVerbs} and watch: the kinds the owned-objects watch follows in the workloads namespace. */
const writeWatchedVerbs: readonly string[] = [...writeVerbs, 'watch'];
/** Secrets: read (the license, keys), cached (list, watch), written and pruned. */
const secretVerbs: readonly string[] = ['get', 'list', 'watch', 'create', 'patch', 'delete'];

/** What the components need, in the two places the controller holds it. */
export interface ComponentsRBAC {
  /** Cluster-wide: the cluster-scoped objects (created, watched and listed by label; otherwise by name), informers, what they grant. */
  readonly cluster: PolicyRule[];
  /** In each workloads namespace (`spec.namespace`), as a Role: every namespaced write. */
  readonly workloads: PolicyRule[];
  /** What the rendered objects grant (the exporter's ClusterRole): the controller must hold it too, see {@link uncovered}. */
  readonly grants: PolicyRule[];
}

/**
 * The rules the components' declarations need. Cluster-scoped objects are named by rendering
 * every component offline (default spec, every CRD served), so `get`, `patch` and `delete` carry
 * their names; `create` (RBAC cannot limit it by name), `list` and `watch` (found by label) cannot.
 */
export function componentsRBAC(components: readonly AnyComponent[], image: string): ComponentsRBAC {
  const workloads = new Map<string, PolicyRule>();
  const cluster: PolicyRule[] = [];
  const rendered = components.flatMap((c) => renderOffline(c, image));
  const namesOf = (apiGroup: string, kind: string) =>
    [...new Set(rendered.filter((o) => groupOf(o.apiVersion ?? '') === apiGroup && o.kind === kind).map((o) => o.metadata?.name ?? ''))].sort();
  const clusterScoped: Array<{ group: string; resource: string; names: string[] }> = [];
  const add = (rules: Map<string, PolicyRule>, group: string, resource: string, verbs: readonly string[]) => {
    const key = `${group}|${verbs.join(',')}`;
    const rule = rules.get(key) ?? { apiGroups: [group], resources: [], verbs: [...verbs] };
    if (!rule.resources.includes(resource)) rule.resources.push(resource);
    rules.set(key, rule);
  };
  for (const c of components) {
    for (const k of c.kinds ?? []) {
      const r = builtinResource(c.name, k);
      const group = groupOf(r.apiVersion);
      if (!r.namespaced) clusterScoped.push({ group, resource: r.plural, names: namesOf(group, r.kind) });
      else
        add(
          workloads,
          group,
          r.plural,
          r.kind === 'Secret' && r.apiVersion === 'v1' ? secretVerbs : watchedElsewhere(r) ? writeVerbs : writeWatchedVerbs,
        );
    }
    for (const req of c.crds) {
      if (req.namespaced) add(workloads, req.group, req.plural, writeVerbs);
      else clusterScoped.push({ group: req.group, resource: req.plural, names: namesOf(req.group, req.kind) });
    }
  }
  const seen = new Set<string>();
  const unique = clusterScoped.filter((o) => !seen.has(`${o.group}|${o.resource}`) && seen.add(`${o.group}|${o.resource}`));
  // Cluster-scoped objects: watched and found by label (drift, prune), created; otherwise touched by name only.
  for (const group of [...new Set(unique.map((o) => o.group))]) {
    cluster.push({
      apiGroups: [group],
      resources: unique.filter((o) => o.group === group).map((o) => o.resource),
      verbs: ['list', 'watch', 'create'],
    });
  }
  for (const o of unique) {
    if (o.names.length === 0) throw new Error(`no component renders a ${o.resource} object offline: its name cannot be granted`);
    cluster.push({ apiGroups: [o.group], resources: [o.resource], resourceNames: o.names, verbs: ['get', 'patch', 'delete'] });
  }
  // Namespaced CRD kinds are watched and found by label cluster-wide (their Role lets it write them in the workloads namespace).
  const namespacedCRDs = new Map<string, PolicyRule>();
  for (const req of components.flatMap((c) => c.crds).filter((r: CRDRequirement) => r.namespaced))
    add(namespacedCRDs, req.group, req.plural, ['list', 'watch']);
  cluster.push(...namespacedCRDs.values());
  // The components' own informers (e.g. their Deployments, by label, cluster-wide).
  const informed = new Map<string, PolicyRule>();
  for (const w of components.flatMap((c) => c.informers ?? [])) {
    const { group, resource } = resourceOfPath(w.path);
    add(informed, group, resource, ['list', 'watch']);
  }
  cluster.push(...informed.values());
  // What the rendered objects grant (the exporter's ClusterRole): the controller must hold it to grant it.
  const grants = rendered.filter((o) => o.kind === 'ClusterRole').flatMap((o) => (o as { rules?: PolicyRule[] }).rules ?? []);
  return { cluster, workloads: [...workloads.values()], grants };
}

/** Group and resource of a cluster-wide list path: `/api/v1/<resource>` or `/apis/<group>/<version>/<resource>`. */
function resourceOfPath(path: string): { group: string; resource: string } {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api' && parts.length === 3) return { group: '', resource: parts[2] ?? '' };
  if (parts[0] === 'apis' && parts.length === 4) return { group: parts[1] ?? '', resource: parts[3] ?? '' };
  throw new Error(`an informer path the RBAC cannot read: ${path} (expected a cluster-wide list path)`);
}

/** A rule as any RBAC type spells it (cdk8s' has optional lists). */
type RuleLike = {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
};

/** The rules of `wanted` that the rules `held` do not grant in full already. */
export function uncovered(wanted: readonly PolicyRule[], held: readonly RuleLike[]): PolicyRule[] {
  const grants = (rule: RuleLike, group: string, resource: string, verb: string, name?: string) =>
    (rule.apiGroups ?? []).includes(group) &&
    (rule.resources ?? []).includes(resource) &&
    rule.verbs.includes(verb) &&
    (!rule.resourceNames?.length || (name !== undefined && rule.resourceNames.includes(name)));
  const out: PolicyRule[] = [];
  for (const rule of wanted) {
    const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
    const covered = rule.apiGroups.every((g) =>
      rule.resources.every((r) => rule.verbs.every((v) => names.every((n) => held.some((h) => grants(h, g, r, v, n))))),
    );
    if (!covered) out.push(rule);
  }
  return out;
}

/** A component's objects for the default spec with every CRD served at its best version. */
function renderOffline(component: AnyComponent, image: string): KubeObject[] {
  const spec = flantIntegrationSpecSchema.parse({});
  const served = (kind: string) => {
    const req = component.crds.find((r) => r.kind === kind);
    return req ? `${req.group}/${req.versions[0] ?? ''}` : undefined;
  };
  if (!component.enabled(spec)) return [];
  return stamp(
    component.name,
    component.render(spec, component.offlineFacts({ clusterUUID: 'rbac', licenceKey: 'rbac', image, served, section: undefined })),
  );
}
