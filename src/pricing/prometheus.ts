/**
 * The Prometheus-derived facts of docs/architecture.md section 4: instant queries against Deckhouse's
 * Prometheus with the pod's ServiceAccount token (read for every request: the kubelet
 * rotates it) over verified TLS. A failed query keeps its last answer and is counted.
 */
import https from 'node:https';
import http from 'node:http';
import { mayCarryCredential } from '../api/index.js';

/** One sample of an instant vector. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * A controller's resource use as Deckhouse's `controller_metrics` hook queried it, once for all
 * controllers instead of once per controller: per pod, the sum over its containers of `usage`,
 * joined to its controller by `kube_controller_pod`, then the average over the controller's pods.
 */
function controllerUsageQuery(usage: string): string {
  const joined = `(${usage}) + on (namespace, pod) group_left (controller_name, controller_type) (kube_controller_pod * 0)`;
  const byPod = `sum by (namespace, pod, controller_name, controller_type) (${joined})`;
  return `avg by (namespace, controller_name, controller_type) (${byPod})`;
}

/** The queries the exporter runs, by name. */
export const pricingQueries = {
  helmReleases: 'helm_releases_count',
  deprecatedResources: 'count(resource_versions_compatibility > 0)',
  daemonSets: 'count(kube_controller_replicas{controller_type="DaemonSet"})',
  deployments: 'count(kube_controller_replicas{controller_type="Deployment"})',
  statefulSets: 'count(kube_controller_replicas{controller_type="StatefulSet"})',
  pods: 'count(sum(kube_pod_container_status_ready) by (pod))',
  namespaces: 'count(kube_namespace_created)',
  services: 'count(kube_service_created)',
  ingresses: 'count(kube_ingress_created)',
  ingressRPS: 'sum(rate(ingress_nginx_overall_requests_total[20m])) or vector(0)',
  prometheusSeries: 'max(prometheus_tsdb_head_series{service="prometheus"})',
  osImages: 'sum(kube_node_info) by (os_image)',
  containerRuntimes: 'sum(kube_node_info) by (container_runtime_version)',
  startupConverge: 'max(deckhouse_convergence_seconds{activation="OperatorStartup"})',
  terraformCluster: 'max(candi_converge_cluster_status) by (status) == 1',
  terraformNodes: 'max(candi_converge_node_status) by (name,node_group,status) == 1',
  terraformNodeTemplates: 'max(candi_converge_node_template_status) by (name,status) == 1',
  controllerCPU: controllerUsageQuery('rate(container_cpu_usage_seconds_total[5m])'),
  controllerMemory: controllerUsageQuery('avg_over_time(container_memory_working_set_bytes:without_kmem[5m])'),
} as const;

/** A query's name. */
export type QueryName = keyof typeof pricingQueries;

/** Where Prometheus is and how to authenticate. */
export interface PrometheusTarget {
  readonly url: string;
  /** Reads the bearer token (the ServiceAccount token file); called for every request. */
  readonly token: () => Promise<string | undefined>;
  /** CA bundle (PEM) that signs Prometheus's certificate. */
  readonly ca?: string;
  /** @default 30000 */
  readonly timeoutMs?: number;
}

/** Runs one instant query; rejects with a message naming the query on any failure. */
export async function instantQuery(target: PrometheusTarget, query: string): Promise<Sample[]> {
  const url = new URL('api/v1/query', target.url.endsWith('/') ? target.url : `${target.url}/`);
  url.searchParams.set('query', query);
  // The token reads the cluster's cloud-provider Secrets: never over plain HTTP (admission refuses such a URL too).
  if (!mayCarryCredential(url))
    throw new Error(
      `query ${query}: refusing to send the ServiceAccount token to ${url.protocol}//${url.host}: Prometheus must be reached over https`,
    );
  const token = await target.token();
  const body = await get(url, token, target.ca, target.timeoutMs ?? 30_000);
  const answer = JSON.parse(body) as {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: Array<{ metric?: Record<string, string>; value?: [number, string] }> };
  };
  if (answer.status !== 'success') throw new Error(`query ${query}: ${answer.error ?? 'no success'}`);
  if (answer.data?.resultType !== 'vector') throw new Error(`query ${query}: expected a vector, got ${answer.data?.resultType ?? 'nothing'}`);
  return (answer.data.result ?? []).map((r) => ({ labels: r.metric ?? {}, value: Number(r.value?.[1]) }));
}

/** The largest answer read: a query result is small, anything larger is refused. */
const maxBodyBytes = 4 * 1024 * 1024;

function get(url: URL, token: string | undefined, ca: string | undefined, timeoutMs: number): Promise<string> {
  const lib = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers, ...(ca ? { ca } : {}), timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBodyBytes) req.destroy(new Error(`answer over ${maxBodyBytes} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 400) reject(new Error(`${url.pathname}: HTTP ${res.statusCode ?? 0}`));
        else resolve(text);
      });
      res.on('error', reject);
    });
    const deadline = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (err) => reject(new Error(`${url.origin}${url.pathname}: ${err.message}`, { cause: err })));
  });
}

/** The last answer of every query, refreshed together; a failed query keeps what it had. */
export class QueryResults {
  private answers = new Map<QueryName, Sample[]>();
  /** Failures by query name, for `flant_pricing_exporter_query_errors_total`. */
  readonly errors = new Map<QueryName, number>();

  /** The last answer of `name`, or undefined when it never answered. */
  get(name: QueryName): readonly Sample[] | undefined {
    return this.answers.get(name);
  }

  /** Runs every query once; resolves with the failures (name and message). */
  async refresh(run: (query: string) => Promise<Sample[]>): Promise<Array<{ name: QueryName; error: string }>> {
    const failures: Array<{ name: QueryName; error: string }> = [];
    for (const [name, query] of Object.entries(pricingQueries) as Array<[QueryName, string]>) {
      try {
        this.answers.set(name, await run(query));
      } catch (err) {
        this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
        failures.push({ name, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return failures;
  }
}
