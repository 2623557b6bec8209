/**
 * What the metrics agent ships (the jobs of docs/architecture.md section 3), and grafana-agent's
 * static-mode file for it (`metrics:` block), field by field. Alloy's file is alloy.ts. Pure.
 */
import { yaml } from '../../imports/cdk8s.js';
import { metricsURL, type FlantIntegrationSpec } from '../../api/index.js';
import { noProxyCovers } from '../../connect/index.js';
import { insertUserinfo } from '../egress.js';

/** Where the exporter beside the agent serves its metrics. */
export const pricingTarget = '127.0.0.1:9115';
/** Where the licence Secret is mounted in the agent container, and its key. */
export const licenceMount = { dir: '/etc/pricing-agent/license', key: 'license' } as const;
/** The agent's data directory (an emptyDir); its WAL lives below it. */
export const dataDir = '/data/agent';

/** What the config needs beyond the spec. */
export interface AgentConfigFacts {
  readonly clusterUUID: string;
  /** The Service d8-system/deckhouse exists: ship its telemetry too. */
  readonly deckhouseTelemetry: boolean;
  /** The cluster's DNS domain, for the Deckhouse Service's name. */
  readonly clusterDomain: string;
  /** The egress proxy's `user:password` (URL-encoded), from `spec.proxy.credentialsSecretRef`: put in `proxy_url` (the file is a Secret). */
  readonly egressUserinfo?: string;
}

/** The remote_write target (src/api: `metrics.url`, by default `{connect.url}/v1/remote_write`). */
export { metricsURL };

/**
 * The egress proxy the agent uses for remote_write: the https one wins; with its credentials
 * when the spec names them; none when `noProxy` covers `metrics.url` (as NO_PROXY would for the
 * other workloads: the agent's `proxy_url` applies to its one target only).
 */
export function proxyURL(spec: FlantIntegrationSpec, facts: Pick<AgentConfigFacts, 'egressUserinfo'> = {}): string | undefined {
  if (noProxyCovers(spec.proxy?.noProxy, new URL(metricsURL(spec)))) return undefined;
  const url = spec.proxy?.httpsProxy ?? spec.proxy?.httpProxy;
  return url && facts.egressUserinfo !== undefined ? insertUserinfo(url, facts.egressUserinfo) : url;
}

/** How long the WAL keeps series of a target that is gone (grafana-agent's `max_wal_time`, Alloy's `max_keepalive_time`). */
export const walKeepalive = '360h';

/** One scrape job: what it scrapes and which metric names it keeps. */
export interface MetricsJob {
  readonly name: string;
  /** `host:port`. */
  readonly target: string;
  readonly path: string;
  /** Regex of the metric names shipped. */
  readonly keep: string;
}

/** The jobs: the pricing exporter beside the agent, and Deckhouse's hook telemetry when its Service exists. */
export function metricsJobs(facts: AgentConfigFacts): MetricsJob[] {
  const jobs: MetricsJob[] = [{ name: 'flant-pricing', target: pricingTarget, path: '/metrics', keep: 'flant_pricing_.+' }];
  if (facts.deckhouseTelemetry) {
    jobs.push({
      name: 'deckhouse-telemetry',
      target: `deckhouse.d8-system.svc.${facts.clusterDomain}:8080`,
      path: '/metrics/hooks',
      keep: 'd8_telemetry_.+',
    });
  }
  return jobs;
}

/** Labels every shipped series gets, and the ones it loses. */
function relabels(keep: string, clusterUUID: string) {
  return [
    { source_labels: ['__name__'], regex: keep, action: 'keep' },
    { target_label: 'cluster_uuid', replacement: clusterUUID },
    // Expanded by the agent (-config.expand-env) from the downward API.
    { target_label: '__replica__', replacement: '${POD_NAME}' },
    { regex: 'hook|instance', action: 'labeldrop' },
  ];
}

function scrapeConfig(job: MetricsJob, clusterUUID: string) {
  return {
    job_name: job.name,
    metrics_path: job.path,
    static_configs: [{ targets: [job.target] }],
    metric_relabel_configs: relabels(job.keep, clusterUUID),
  };
}

/** grafana-agent's static-mode config as an object. */
export function agentConfig(spec: FlantIntegrationSpec, facts: AgentConfigFacts): Record<string, unknown> {
  const scrapeConfigs = metricsJobs(facts).map((job) => scrapeConfig(job, facts.clusterUUID));
  const proxy = proxyURL(spec, facts);
  return {
    server: { log_level: 'info' },
    metrics: {
      wal_directory: `${dataDir}/wal`,
      global: { scrape_interval: spec.metrics.scrapeInterval },
      configs: [
        {
          name: 'agent',
          host_filter: false,
          max_wal_time: walKeepalive,
          scrape_configs: scrapeConfigs,
          remote_write: [
            {
              url: metricsURL(spec),
              bearer_token_file: `${licenceMount.dir}/${licenceMount.key}`,
              metadata_config: { send: false },
              ...(proxy ? { proxy_url: proxy } : {}),
            },
          ],
        },
      ],
    },
  };
}

/** grafana-agent's static-mode file, as written into the Secret. */
export function agentConfigYaml(spec: FlantIntegrationSpec, facts: AgentConfigFacts): string {
  return yaml.stringify(agentConfig(spec, facts), { lineWidth: 0 });
}
