/**
 * Alerts on ourselves, as one PrometheusRule in `spec.namespace` (rendered when its CRD is
 * served): a component not Ready for 15 minutes, pricing metrics not delivered (Deckhouse's
 * own alert on that path, docs/architecture.md section 3), and madison-proxy failing to forward.
 */
import { ApiObject, App, Chart } from '../../imports/cdk8s.js';
import type { FlantIntegrationSpec } from '../../api/index.js';
import type { KubeObject } from '../../reconciler/index.js';
import { deckhouseRuleLabels } from '../../flantintegration/index.js';
import { objectsOf } from '../workloads.js';

/** Component name, the value of the component label. */
export const alertsComponent = 'alerts';
/** Name of the PrometheusRule. */
export const ruleName = 'flant-integration';

/** What the render needs beyond the spec. */
export interface AlertsFacts {
  /** The apiVersion of PrometheusRule written, or undefined when it is not served (nothing is rendered). */
  readonly apiVersion: string | undefined;
}

/** One alerting rule, as Prometheus reads it. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Readonly<Record<string, string>> & { readonly summary: string; readonly description: string };
}

/** The module name Deckhouse's alerts carry in `d8_module`, so Madison groups ours as one module's. */
export const alertModule = 'flant-integration';

/** The group alert Madison creates for ours, as Deckhouse's modules name theirs (`D8<Module>Malfunctioning`). */
export const groupAlert = 'D8FlantIntegrationMalfunctioning';
const groupKey = 'd8_flant_integration_malfunctioning';

/**
 * Labels and annotations of every rule, as Deckhouse's own alerts carry them: `d8_module` and
 * `d8_component` name the source; the `plk_*` annotations tell Madison the protocol, that the
 * text is Markdown, and to put every alert of ours under one group alert
 * ({@link groupAlert}) per cluster.
 */
function deckhouse(level: string, component: string) {
  const group = `${groupAlert},tier=cluster,prometheus=deckhouse,kubernetes=~kubernetes`;
  return {
    labels: { severity_level: level, tier: 'cluster', d8_module: alertModule, d8_component: component },
    annotations: {
      plk_protocol_version: '1',
      plk_markup_format: 'markdown',
      [`plk_create_group_if_not_exists__${groupKey}`]: group,
      [`plk_grouped_by__${groupKey}`]: group,
    },
  };
}

/** The rules, for `namespace` (where the pricing and madison-proxy pods run). */
export function alertRules(namespace: string): AlertRule[] {
  const agent = `prometheus_remote_storage_queue_highest_sent_timestamp_seconds{namespace="${namespace}",pod=~"pricing-.*"}`;
  return [
    {
      alert: 'FlantIntegrationComponentNotReady',
      expr: 'max by (name, type, reason) (flantintegration_condition{status="False",type!="Ready"}) == 1',
      for: '15m',
      labels: deckhouse('5', 'controller').labels,
      annotations: {
        ...deckhouse('5', 'controller').annotations,
        summary: 'FlantIntegration {{ $labels.name }}: {{ $labels.type }} is not ready ({{ $labels.reason }})',
        description:
          'The condition {{ $labels.type }} of FlantIntegration {{ $labels.name }} has been False for 15 minutes with reason {{ ' +
          '$labels.reason }}. `kubectl describe fi {{ $labels.name }}` says why; the README lists every reason and what to do.',
      },
    },
    {
      // Absent (the agent is down, unscraped, or never sent a sample), or not increasing over 10m.
      alert: 'FlantIntegrationMetricsNotDelivered',
      expr: `absent(${agent}) or max by (namespace) (changes(${agent}[10m])) == 0`,
      for: '30m',
      labels: deckhouse('6', 'pricing').labels,
      annotations: {
        ...deckhouse('6', 'pricing').annotations,
        summary: 'Pricing metrics are not being delivered to Flant',
        description:
          `For 30 minutes the metrics agent in ${namespace} has reported no remote-write progress: ` +
          `prometheus_remote_storage_queue_highest_sent_timestamp_seconds is absent (its pods are down, not scraped, or never sent a ` +
          `sample) or stopped increasing (the agent's log says why: network, proxy, license refused by Connect). Check \`kubectl -n ` +
          `${namespace} get pods -l app=pricing\` and the agent's log.`,
      },
    },
    {
      alert: 'FlantIntegrationMadisonForwardingErrors',
      expr: `sum by (namespace, backend, reason) (increase(madison_proxy_forward_errors_total{namespace="${namespace}"}[10m])) > 0`,
      for: '5m',
      labels: deckhouse('4', 'madison-proxy').labels,
      annotations: {
        ...deckhouse('4', 'madison-proxy').annotations,
        summary: 'madison-proxy cannot deliver alerts to Madison backend {{ $labels.backend }} ({{ $labels.reason }})',
        description:
          `The madison-proxy for backend {{ $labels.backend }} in ${namespace} failed to forward alert batches in the last 10 ` +
          `minutes (reason {{ $labels.reason }}: unreachable, timeout, rejected by Madison, or aborted). Alerts may not reach Flant's ` +
          `duty engineers; check the proxy's log and egress to the backend.`,
      },
    },
  ];
}

/** Renders the PrometheusRule, or nothing when its CRD is not served. */
export function alertsObjects(spec: FlantIntegrationSpec, facts: AlertsFacts): KubeObject[] {
  if (!facts.apiVersion) return [];
  const chart = new Chart(new App(), alertsComponent);
  new ApiObject(chart, 'rule', {
    apiVersion: facts.apiVersion,
    kind: 'PrometheusRule',
    metadata: { name: ruleName, namespace: spec.namespace, labels: { ...deckhouseRuleLabels } },
    spec: { groups: [{ name: 'flant-integration', rules: alertRules(spec.namespace) }] },
  });
  return objectsOf(chart);
}
