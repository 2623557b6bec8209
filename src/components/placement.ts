/**
 * Where our pods run on a Deckhouse cluster, as Deckhouse places its own modules' pods: on the
 * nodes labelled `node-role.deckhouse.io/system` when the cluster has such nodes (tolerating
 * their `dedicated.deckhouse.io=system` taint), with the PriorityClass `cluster-medium` when it
 * exists. On a cluster without them nothing is added: no node selector that nothing matches,
 * no PriorityClass that does not exist. Both are watched, so a system node appearing moves the
 * pods without a restart.
 */
import type { PodSpec } from 'cdk8s-plus-28/lib/imports/k8s.js';
import { singletonName } from '../api/index.js';
import type { CacheView, WatchSpec } from '../flantintegration/index.js';

/** The label of Deckhouse's system nodes (their NodeGroup's nodeTemplate). */
export const systemNodeLabel = 'node-role.deckhouse.io/system';
/** The taint key of Deckhouse's dedicated nodes; its value is the role. */
export const dedicatedTaint = 'dedicated.deckhouse.io';
/** The PriorityClass Deckhouse gives cluster components that matter but may wait (its priority-class module makes it). */
export const deckhousePriorityClass = 'cluster-medium';

/** What placement reads: the system nodes (by label) and the PriorityClass (by name). Their changes reconcile the one FlantIntegration. */
export const placementWatches: readonly WatchSpec[] = [
  { name: 'deckhouse-system-nodes', path: '/api/v1/nodes', labelSelector: systemNodeLabel, keys: () => [singletonName] },
  {
    name: 'deckhouse-priority-class',
    path: '/apis/scheduling.k8s.io/v1/priorityclasses',
    fieldSelector: `metadata.name=${deckhousePriorityClass}`,
    keys: () => [singletonName],
  },
];

/** Deckhouse's node roles and PriorityClass, as found. */
export interface Placement {
  /** Nodes labelled {@link systemNodeLabel} exist. */
  readonly systemNodes: boolean;
  /** The PriorityClass {@link deckhousePriorityClass} exists. */
  readonly priorityClass: boolean;
}

/** The placement the caches of {@link placementWatches} say. */
export function placementOf(cache: CacheView): Placement {
  return {
    systemNodes: cache.list('deckhouse-system-nodes').length > 0,
    priorityClass: cache.list('deckhouse-priority-class').length > 0,
  };
}

/** The pod spec fields of `placement`; `tolerations` come before those the workload has of its own. */
export function placementSpec(placement: Placement | undefined): Pick<PodSpec, 'nodeSelector' | 'tolerations' | 'priorityClassName'> {
  return {
    ...(placement?.systemNodes
      ? {
          nodeSelector: { [systemNodeLabel]: '' },
          tolerations: [{ key: dedicatedTaint, operator: 'Equal', value: 'system' }],
        }
      : {}),
    ...(placement?.priorityClass ? { priorityClassName: deckhousePriorityClass } : {}),
  };
}
