/**
 * Alerts on ourselves, as one PrometheusRule in `spec.namespace` (rendered when its CRD is
 * served): a component not Ready for 15 minutes, pricing metrics not delivered (Deckhouse's
 * own alert on that path, docs/architecture.md section 3), and madison-proxy failing to forward.
 */
import { ApiObject, App, Chart } from '../../imports/cdk8s.js';
import type { FlantIntegrationSpec } from '../../api/index.js';
import type { KubeObject } from '../../reconciler/index.js';
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
  readonly annotations: { readonly summary: string; readonly description: string };
}

const labels = (level: string) => ({ severity_level: level, tier: 'cluster' });

/** The rules, for `namespace` (where the pricing and madison-proxy pods run). */
export function alertRules(namespace: string): AlertRule[] {
  const agent = `prometheus_remote_storage_queue_highest_sent_timestamp_seconds{namespace="${namespace}",pod=~"pricing-.*"}`;
  return [
    {
      alert: 'FlantIntegrationComponentNotReady',
      expr: 'max by (name, type, reason) (flantintegration_condition{status="False",type!="Ready"}) == 1',
      for: '15m',
      labels: labels('5'),
      annotations: {
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
      labels: labels('6'),
      annotations: {
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
      labels: labels('4'),
      annotations: {
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
    // Deckhouse's Prometheus selects rules by these labels.
    metadata: { name: ruleName, namespace: spec.namespace, labels: { prometheus: 'main', component: 'rules' } },
    spec: { groups: [{ name: 'flant-integration', rules: alertRules(spec.namespace) }] },
  });
  return objectsOf(chart);
}
