/**
 * FlantIntegration `integration.flant.com/v1alpha1`: the zod schema is the one source of
 * the API. Types come from it (`z.infer`), the CRD is generated from it (`crd.ts`), and the
 * controller parses what it reads from the cluster with it.
 */
import { z } from 'zod';
import { k8s, type CelRule } from './extensions.js';
import { dnsLabel, dnsName, durationAtLeast, enabledSwitch, httpURL, secretKeyRef, secretRef, secureURL, text } from './fields.js';

/** API group of the FlantIntegration resource. */
export const group = 'integration.flant.com';
/** API version of the FlantIntegration resource. */
export const version = 'v1alpha1';
/** `apiVersion` as written in manifests. */
export const apiVersion = `${group}/${version}`;
/** Kind of the resource. */
export const kind = 'FlantIntegration';
/** Plural resource name, as in the REST path. */
export const plural = 'flantintegrations';
/** The only name the API server accepts: there is one FlantIntegration per cluster. */
export const singletonName = 'default';

/** Default base URL of the Connect service. */
export const defaultConnectURL = 'https://connect.deckhouse.io';
/** Default DNS name resolved to find Madison backends. */
export const defaultBackendsHost = 'madison-direct.flant.com';

/** `spec.proxy`: also what a cluster-wide proxy found elsewhere (Deckhouse's ClusterConfiguration) must pass. */
export const proxySchema = z
  .object({
    httpProxy: httpURL('Proxy for plain HTTP requests (HTTP_PROXY).').optional(),
    httpsProxy: httpURL('Proxy for HTTPS requests (HTTPS_PROXY); wins over httpProxy where only one proxy can be set.').optional(),
    noProxy: z
      .array(text('A host, domain or CIDR.', 1, 253))
      .max(100)
      .optional()
      .describe('Hosts, domains and CIDRs reached directly, without the proxy (NO_PROXY).'),
    credentialsSecretRef: secretRef(
      "Secret with the proxy's credentials under the keys username and password (a kubernetes.io/basic-auth Secret), in a namespace whose " +
        'Secrets may be read. The proxy URLs carry no credentials.',
    ).optional(),
  })
  .strict()
  .describe('Egress proxy used by the controller and every workload it generates.');

const connectSchema = z
  .object({
    url: secureURL(
      'Base URL of the Connect service. Registration is POST {url}/v1/madison_register, the revocation check POST {url}/v1/madison_status.',
    ).default(defaultConnectURL),
  })
  .strict()
  .default({})
  .describe('The Connect service, which registers the cluster and receives its metrics and logs.');

const madisonSchema = z
  .object({
    enabled: enabledSwitch('send Prometheus alerts to Madison through madison-proxy'),
    authKeySecretRef: secretKeyRef(
      'A pre-issued Madison key. When absent, the controller registers the cluster with Connect and stores the issued key itself.',
    ).optional(),
    backendsHost: dnsName('DNS name whose A records are the Madison backends; one proxy runs per address.').default(defaultBackendsHost),
    discoveryInterval: durationAtLeast('How often the backends host is resolved again; at least 30s.', '30s').default('10m'),
    grafanaURL: httpURL('Grafana URL sent to Madison at registration.').optional(),
    prometheusURL: httpURL('Prometheus URL sent to Madison at registration.').optional(),
  })
  .strict()
  .default({})
  .describe("Alerts: Prometheus alerts go to Madison, Flant's incident service.");

/** Programs that can ship the metrics, each with a configuration in its own format. */
export const metricsAgents = ['Alloy', 'GrafanaAgent'] as const;
/** Image of each metrics agent when `metrics.image` is not set. */
export const defaultAgentImages: Readonly<Record<(typeof metricsAgents)[number], string>> = {
  GrafanaAgent: 'grafana/agent:v0.44.2',
  Alloy: 'grafana/alloy:v1.19.0',
};

const metricsSchema = z
  .object({
    enabled: enabledSwitch('ship pricing and telemetry metrics through the metrics agent'),
    url: secureURL(
      'Prometheus remote_write target, also used by upmeter; receives the license. Defaults to {connect.url}/v1/remote_write.',
    ).optional(),
    scrapeInterval: durationAtLeast('Scrape interval of the metrics agent; at least 10s.', '10s').default('5m'),
    agent: z
      .enum(metricsAgents)
      .default('Alloy')
      .describe(
        'Program that ships the metrics: Alloy (Grafana Alloy, the maintained successor of grafana-agent; a configuration in Alloy ' +
          'syntax) or GrafanaAgent (grafana-agent in static mode, what Deckhouse ran; end of life since 2025-11-01).',
      ),
    image: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe(
        `Image of that program. Defaults to ${defaultAgentImages.Alloy} for Alloy and ${defaultAgentImages.GrafanaAgent} for ` +
          `GrafanaAgent; clusters that mirror images set their own.`,
      ),
  })
  .strict()
  .default({})
  .describe('Pricing and telemetry metrics, remote-written to Connect.');

const logsSchema = z
  .object({
    enabled: enabledSwitch("ship the Deckhouse operator's logs through log-shipper"),
    url: secureURL('Loki push endpoint; receives the license. Defaults to {connect.url}/v1/loki_push.').optional(),
  })
  .strict()
  .default({})
  .describe("Deckhouse operator logs, shipped to Flant's Loki by log-shipper.");

const upmeterSchema = z
  .object({
    enabled: enabledSwitch('ship SLA metrics through upmeter'),
    intervalSeconds: k8s(
      z
        .number()
        .int()
        .refine((v) => v === 30 || v === 300, { message: 'must be 30 or 300' })
        .default(300)
        .describe('How often upmeter pushes, in seconds: 30 or 300.'),
      { type: 'integer', validations: [{ rule: 'self == 30 || self == 300', message: 'must be 30 or 300' }] },
    ),
  })
  .strict()
  .default({})
  .describe('SLA metrics shipped by upmeter to the metrics URL.');

/** Billing types a cluster can be declared as. */
export const clusterTypes = ['Cloud', 'Hybrid', 'Static'] as const;

const billingSchema = z
  .object({
    contacts: z.number().int().min(0).max(1_000_000).default(0).describe('Number of contact persons billed.'),
    planIsBoughtAsBundle: z.boolean().default(false).describe('The plan is bought as a bundle.'),
    auxiliaryCluster: z.boolean().default(false).describe('The cluster is auxiliary.'),
    doNotChargeForRockSolid: z.boolean().default(false).describe('The rock-solid release channel is not charged for.'),
    nodesDiscount: z.number().int().min(0).max(100).default(0).describe('Discount on nodes, in percent (0 to 100).'),
    clusterType: z
      .enum(clusterTypes)
      .optional()
      .describe('Billing type of the cluster; when absent it is detected from the cluster configuration and nodes.'),
  })
  .strict()
  .default({})
  .describe('Commercial facts, exported as flant_pricing_* metrics.');

const kubeallSchema = z
  .object({
    host: text('Host through which Flant engineers reach the control plane.', 1, 253),
    kubectl: text('kubectl command to run there.', 0, 253).default('sudo kubectl'),
    kubeconfig: text('kubeconfig path to use there.', 0, 4096).default('/root/.kube/config'),
    context: text('kubeconfig context to use there; empty for the current one.', 0, 253).default(''),
  })
  .strict()
  .describe('How Flant engineers reach the control plane (exported as flant_pricing_kubeall).');

/**
 * The Secret in `spec.namespace` with Prometheus's CA bundle that the pricing exporter reads:
 * the controller copies it from `spec.prometheus.caSecretRef` once it checked the value holds
 * certificates only, so the exporter's Role names this one Secret, never one a FlantIntegration
 * editor chooses.
 */
export const prometheusCASecret = { name: 'pricing-prometheus-ca', key: 'ca.crt' } as const;

const prometheusSchema = z
  .object({
    url: secureURL(
      "Deckhouse's Prometheus, queried by the pricing exporter (terraform state and the other Prometheus-derived metrics) with its " +
        'ServiceAccount token: https only (http to a loopback host).',
      "the pricing exporter's ServiceAccount token",
    ).default('https://prometheus.d8-monitoring:9090'),
    caSecretRef: secretKeyRef(
      "CA bundle (PEM) that signs that Prometheus's certificate. Defaults to the cluster CA (ca.crt of the ServiceAccount).",
    ).optional(),
  })
  .strict()
  .default({})
  .describe('Prometheus from which terraform state is read.');

/** `spec` of a FlantIntegration. */
export const flantIntegrationSpecSchema = z
  .object({
    licenseKeySecretRef: secretKeyRef(
      'Where the license key lives. When absent, the password of the Deckhouse registry Secret d8-system/deckhouse-registry is used.',
    ).optional(),
    namespace: dnsLabel('Namespace where the controller puts its workloads.').default('d8-flant-integration'),
    clusterUUID: text(
      "The cluster's id, added as label cluster_uuid to everything shipped. Defaults to the UID of the kube-system namespace.",
      1,
      64,
    ).optional(),
    connect: connectSchema,
    proxy: proxySchema.optional(),
    imagePullSecrets: z
      .array(
        z
          .object({ name: dnsName('Name of a Secret of type kubernetes.io/dockerconfigjson in spec.namespace.') })
          .strict()
          .describe('A Secret to pull images with.'),
      )
      .max(16)
      .optional()
      .describe(
        'Secrets in spec.namespace the kubelet pulls the images of every generated workload with (madison-proxy, pricing): for a private ' +
          'registry or a mirror. On Deckhouse, a copy of d8-system/deckhouse-registry there.',
      ),
    madison: madisonSchema,
    metrics: metricsSchema,
    logs: logsSchema,
    upmeter: upmeterSchema,
    billing: billingSchema,
    kubeall: kubeallSchema.optional(),
    prometheus: prometheusSchema,
  })
  .strict()
  .default({})
  .describe("What to connect to Flant's services. Every field is optional.");

const conditionSchema = z
  .object({
    type: z.string().min(1).max(316).describe('Type of the condition, such as Ready or LicenseValid.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('Programmatic identifier of the last transition, in CamelCase.'),
    message: z.string().max(32768).describe('What a person should know about the transition.'),
    lastTransitionTime: k8s(z.string().describe('When the status last changed.'), { format: 'date-time' }),
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation the condition was set for.'),
  })
  .strict()
  .describe('A metav1.Condition.');

/** `status` of a FlantIntegration, written only by the controller. */
export const flantIntegrationStatusSchema = z
  .object({
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation the controller last acted on.'),
    conditions: k8s(z.array(conditionSchema).max(32).optional().describe('What works and why not, one condition per concern.'), {
      listType: 'map',
      listMapKeys: ['type'],
    }),
    madison: z
      .object({
        backends: z.array(z.string()).max(64).optional().describe('Madison backend addresses found by DNS, sorted.'),
        backendCount: z.number().int().min(0).optional().describe('Number of Madison backends found.'),
        proxies: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('madison-proxy Deployments in place now, one per backend (0 once removed without a license), for kubectl get.'),
        registered: z.boolean().optional().describe('A Madison key is in use.'),
        revoked: z.boolean().optional().describe('Connect says the Madison setup is archived; alerts are not shipped.'),
        lastDiscoveryTime: k8s(z.string().optional().describe('When the backends host was last resolved.'), {
          format: 'date-time',
        }),
      })
      .strict()
      .optional()
      .describe('Madison facts.'),
    clusterUUID: z.string().optional().describe('The cluster id in use.'),
    namespace: z
      .string()
      .max(63)
      .optional()
      .describe(
        'The namespace the workloads were last written to: spec.namespace once a reconcile got through. After spec.namespace changes, ' +
          'what was written here is removed.',
      ),
  })
  .strict()
  .describe('Observed state, written by the controller.');

/** CEL rules on the whole object, which only the API server can run on create. */
export const objectValidations: readonly CelRule[] = [
  {
    rule: `self.metadata.name == '${singletonName}'`,
    message: 'there is one FlantIntegration per cluster and it must be named "default"',
  },
];

/** A whole FlantIntegration object as stored by the API server. */
export const flantIntegrationSchema = z
  .object({
    apiVersion: z.literal(apiVersion),
    kind: z.literal(kind),
    metadata: z
      .object({
        name: z.literal(singletonName, { errorMap: () => ({ message: 'the FlantIntegration must be named "default"' }) }),
      })
      .passthrough(),
    spec: flantIntegrationSpecSchema,
    status: flantIntegrationStatusSchema.optional(),
  })
  .describe("Connects the cluster to Flant's services: Madison alerts, metrics, logs and SLA metrics.");

/** `spec` after defaults: every field with a default is present. */
export type FlantIntegrationSpec = z.infer<typeof flantIntegrationSpecSchema>;
/** `spec.proxy`, defaults applied. */
export type ProxySpec = z.infer<typeof proxySchema>;
/** `spec` as a user may write it. */
export type FlantIntegrationSpecInput = z.input<typeof flantIntegrationSpecSchema>;
/** `status` as the controller writes it. */
export type FlantIntegrationStatus = z.infer<typeof flantIntegrationStatusSchema>;

/** A whole FlantIntegration, after defaults. */
export type FlantIntegration = z.infer<typeof flantIntegrationSchema>;
/** Where a secret value lives. */
export type SecretKeyRef = z.infer<ReturnType<typeof secretKeyRef>>;

/** Connect's base URL without trailing slashes. */
function connectBase(spec: Pick<FlantIntegrationSpec, 'connect'>): string {
  return spec.connect.url.replace(/\/+$/, '');
}

/** Where metrics (the agent's remote_write, upmeter's) go: `metrics.url`, by default `{connect.url}/v1/remote_write`. */
export function metricsURL(spec: Pick<FlantIntegrationSpec, 'connect' | 'metrics'>): string {
  return spec.metrics.url ?? `${connectBase(spec)}/v1/remote_write`;
}

/** Where logs go: `logs.url`, by default `{connect.url}/v1/loki_push`. */
export function logsURL(spec: Pick<FlantIntegrationSpec, 'connect' | 'logs'>): string {
  return spec.logs.url ?? `${connectBase(spec)}/v1/loki_push`;
}
