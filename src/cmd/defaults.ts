/**
 * The process defaults, in one place: the command line parses with them and prints them in its
 * usage, and the modules that need one when no flag is given read it here. No heavy import: the
 * proxy's and the exporter's start-up load this too.
 */
export const defaults = {
  /** `run --metrics-bind-address`: /metrics. */
  metricsBindAddress: ':8080',
  /** `run --health-probe-bind-address`: /healthz and /readyz. */
  healthProbeBindAddress: ':8081',
  /** `run --sync-period`: every FlantIntegration is reconciled again this often. */
  syncPeriod: '10m',
  /** `run --madison-status-check-interval`: how often Connect is asked whether the Madison key was revoked. */
  madisonStatusCheckInterval: '5m',
  /** `run --image`, when $CONTROLLER_IMAGE is not set. */
  image: 'flant-integration-controller:dev',
  /** `run --monitoring-namespace`: where the cluster's Prometheus runs (Deckhouse's). */
  monitoringNamespace: 'd8-monitoring',
  /** `run --log-level`, when $LOG_LEVEL is not set. */
  logLevel: 'info',
  /** `pricing --listen`: the exporter's /metrics, for the agent beside it only. */
  pricingListen: '127.0.0.1:9115',
  /** `pricing --probe-listen`: /healthz and /readyz for the kubelet. */
  pricingProbeListen: ':9116',
  /** `pricing --query-interval`: how often Deckhouse's Prometheus is queried. */
  pricingQueryInterval: '20m',
} as const;
