import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../../api/index.js';
import { alertRules, alertsObjects, groupAlert } from './render.js';

const spec = flantIntegrationSpecSchema.parse({ namespace: 'd8-flant-integration' });

describe('alerts render', () => {
  it('renders nothing without the PrometheusRule CRD', () => {
    expect(alertsObjects(spec, { apiVersion: undefined })).toEqual([]);
  });

  it("labels the PrometheusRule as Deckhouse's Prometheus main selects rules", () => {
    const [rule] = alertsObjects(spec, { apiVersion: 'monitoring.coreos.com/v1' });
    expect(rule?.metadata).toMatchObject({ namespace: 'd8-flant-integration', labels: { prometheus: 'main', component: 'rules' } });
  });

  it.each([
    ['FlantIntegrationComponentNotReady', 'controller', '5'],
    ['FlantIntegrationMetricsNotDelivered', 'pricing', '6'],
    ['FlantIntegrationMadisonForwardingErrors', 'madison-proxy', '4'],
  ])('%s carries d8_module, d8_component %s and the plk_* annotations Madison groups by', (alert, component, level) => {
    const rule = alertRules('d8-flant-integration').find((r) => r.alert === alert);
    expect(rule?.labels).toEqual({ severity_level: level, tier: 'cluster', d8_module: 'flant-integration', d8_component: component });
    const group = `${groupAlert},tier=cluster,prometheus=deckhouse,kubernetes=~kubernetes`;
    expect(rule?.annotations).toMatchObject({
      plk_protocol_version: '1',
      plk_markup_format: 'markdown',
      plk_create_group_if_not_exists__d8_flant_integration_malfunctioning: group,
      plk_grouped_by__d8_flant_integration_malfunctioning: group,
    });
  });
});
