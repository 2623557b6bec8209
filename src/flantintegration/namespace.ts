/**
 * The workloads namespace as we create it, and the labels Deckhouse's Prometheus `main` selects
 * by (docs/architecture.md section 3): it loads PrometheusRules only from namespaces labelled
 * {@link rulesWatcherLabel}, and PodMonitors and ServiceMonitors only from namespaces labelled
 * {@link monitorWatcherLabel}. The labels are inert on a cluster without Deckhouse, so every
 * namespace we create carries them; a namespace we did not create is never labelled by us.
 */
import type { KubeObject } from '../reconciler/index.js';

/** Deckhouse's Prometheus loads PrometheusRules from namespaces with this label. */
export const rulesWatcherLabel = 'prometheus.deckhouse.io/rules-watcher-enabled';
/** Deckhouse's Prometheus loads PodMonitors and ServiceMonitors from namespaces with this label. */
export const monitorWatcherLabel = 'prometheus.deckhouse.io/monitor-watcher-enabled';

/** The labels a namespace needs for Deckhouse's Prometheus to load our rules and monitors from it. */
export const deckhouseNamespaceLabels: Readonly<Record<string, string>> = { [rulesWatcherLabel]: 'true', [monitorWatcherLabel]: 'true' };

/** The label Deckhouse's Prometheus `main` selects PodMonitors and ServiceMonitors by. */
export const deckhouseMonitorLabels: Readonly<Record<string, string>> = { prometheus: 'main' };

/** The labels Deckhouse's Prometheus `main` selects PrometheusRules by. */
export const deckhouseRuleLabels: Readonly<Record<string, string>> = { prometheus: 'main', component: 'rules' };

/** The workloads namespace, as the controller (or `render`) creates it when it is missing. */
export function workloadsNamespaceObject(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...deckhouseNamespaceLabels } } };
}
