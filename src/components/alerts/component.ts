/**
 * The alerts component: the PrometheusRule of alerts on ourselves. It has no condition of
 * its own (a cluster without the Prometheus Operator's CRD is not a failure: the rule is just
 * not rendered), needs no licence, and is switched by the controller's `--prometheus-rule`.
 */
import type { FlantIntegrationSpec } from '../../api/index.js';
import { noOfflineSection, type Component, type GatherContext, type Gathered, type OfflineFacts } from '../../flantintegration/index.js';
import { alertsComponent, alertsObjects, type AlertsFacts } from './render.js';

/** The alerts component. */
export class AlertsComponent implements Component<AlertsFacts> {
  readonly name = alertsComponent;
  readonly enabledField = '--prometheus-rule';
  readonly needsLicence = false;
  readonly crds = [
    { group: 'monitoring.coreos.com', kind: 'PrometheusRule', plural: 'prometheusrules', versions: ['v1'], optional: true, namespaced: true },
  ];
  readonly readiness = [];

  constructor(private readonly on: boolean = true) {}

  enabled(_spec: FlantIntegrationSpec): boolean {
    return this.on;
  }

  async gather(ctx: GatherContext): Promise<Gathered<AlertsFacts>> {
    return { facts: { apiVersion: ctx.served('PrometheusRule') } };
  }

  offlineFacts(offline: OfflineFacts): AlertsFacts {
    return { apiVersion: noOfflineSection(offline).served('PrometheusRule') };
  }

  render(spec: FlantIntegrationSpec, facts: AlertsFacts) {
    return alertsObjects(spec, facts);
  }
}
