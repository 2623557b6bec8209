/**
 * Watches of the objects the components write, by our labels, so that one deleted or edited by
 * hand queues a reconcile at once (which applies it back) instead of waiting for the sync
 * period. What is watched is derived from the kinds and CRDs each component declares:
 *
 * - namespaced built-in kinds, in the workloads namespaces only (`spec.namespace`, and the
 *   former one until it is cleaned), where the controller's Role lets it list and watch;
 * - cluster-scoped built-in kinds, cluster-wide by label;
 * - each CRD kind, cluster-wide by label, in its best served version, only while its CRD serves one.
 *
 * Secrets and Deployments are not watched here: the Secret cache and the components' own
 * Deployment informers already see them.
 */
import {
  builtinResource,
  groupOf,
  managedBySelector,
  watchedElsewhere,
  type AnyComponent,
  type BuiltinResource,
  type CRDRequirement,
} from '../flantintegration/index.js';
import type { CachedKind, OwnedCache } from '../reconciler/index.js';

/** The label selector of everything we write. */
export const ownedSelector = managedBySelector;

/** What to watch for the components' objects. */
export interface OwnedWatches {
  /** Namespaced built-in kinds, watched in the workloads namespaces. */
  readonly namespaced: readonly BuiltinResource[];
  /** Cluster-scoped built-in kinds, watched cluster-wide. */
  readonly cluster: readonly BuiltinResource[];
  /** CRD kinds, watched cluster-wide while served (one entry per CRD, whoever declares it). */
  readonly crds: readonly CRDRequirement[];
}

/** The watches the components' declared kinds and CRDs need; throws on a built-in kind this table lacks. */
export function ownedWatches(components: readonly AnyComponent[]): OwnedWatches {
  const kinds = new Map<string, BuiltinResource>();
  for (const c of components) {
    for (const k of c.kinds ?? []) {
      const resource = builtinResource(c.name, k);
      if (!watchedElsewhere(resource)) kinds.set(`${k.apiVersion} ${k.kind}`, resource);
    }
  }
  const crds = new Map<string, CRDRequirement>();
  for (const c of components) for (const r of c.crds) if (!crds.has(`${r.plural}.${r.group}`)) crds.set(`${r.plural}.${r.group}`, r);
  const sorted = [...kinds.values()].sort((a, b) => a.plural.localeCompare(b.plural));
  return { namespaced: sorted.filter((r) => r.namespaced), cluster: sorted.filter((r) => !r.namespaced), crds: [...crds.values()] };
}

/** Finds the synced cache of one kind for an apiVersion, a namespace (undefined: cluster-wide) and a component. */
type CacheFinder = (apiVersion: string, namespace: string | undefined, component: string) => CachedKind | undefined;

/**
 * The caches of what the controller writes, by API group and kind, for the Applier: the
 * owned-objects watches, the Secret cache and the components' Deployment informers. A kind
 * not registered, or not synced yet, is asked of the server.
 */
export class OwnedCaches implements OwnedCache {
  private readonly finders = new Map<string, CacheFinder[]>();

  /** Registers where objects of `kind` in `group` are cached (for some components, namespaces or versions: the first that answers wins). */
  add(group: string, kind: string, find: CacheFinder): void {
    const key = `${group} ${kind}`;
    this.finders.set(key, [...(this.finders.get(key) ?? []), find]);
  }

  of(apiVersion: string, kind: string, namespace: string | undefined, component: string): CachedKind | undefined {
    for (const find of this.finders.get(`${groupOf(apiVersion)} ${kind}`) ?? []) {
      const found = find(apiVersion, namespace, component);
      if (found) return found;
    }
    return undefined;
  }
}
