/** Metrics: the pricing exporter and the metrics agent that ships its flant_pricing_* metrics. */
export { MetricsComponent, metricsKinds, type MetricsOptions } from './component.js';
export { agentConfig, agentConfigYaml, metricsURL, pricingTarget, licenceMount } from './config.js';
export { agentArgs, agentImage, configSecret, licenceSecretName, metricsComponent, metricsObjects, pricingName, pricingRoleName, renderMetrics, type MetricsFacts } from './render.js';
