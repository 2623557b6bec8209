/** The pricing exporter: flant_pricing_* metrics for the agent beside it. */
export { defaultQueryIntervalMs, Exporter, type ExporterOptions } from './exporter.js';
