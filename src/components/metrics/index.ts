/** Metrics: the pricing exporter and the metrics agent that ships its flant_pricing_* metrics. */
export { MetricsComponent, metricsKinds, type MetricsOptions } from './component.js';
export { alloyConfig, alloyString } from './alloy.js';
export { agentConfig, agentConfigYaml, metricsJobs, metricsURL, pricingTarget, licenceMount } from './config.js';
export {
  agentArgs,
  agentConfigFile,
  agentImage,
  configSecret,
  licenceSecretName,
  metricsComponent,
  metricsObjects,
  pricingName,
  pricingRoleName,
  renderMetrics,
  type MetricsFacts,
} from './render.js';
