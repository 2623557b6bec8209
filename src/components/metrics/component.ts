/**
 * The metrics component: runs the pricing exporter and the metrics agent that remote-writes
 * the flant_pricing_* (and, on Deckhouse, d8_telemetry_*) metrics to Connect.
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ConditionType, Reason, type FlantIntegrationSpec } from '../../api/index.js';
import {
  readSecretKey,
  type Component,
  type ConditionChain,
  type GatherContext,
  type Gathered,
  type OfflineFacts,
  type ReadinessInput,
} from '../../flantintegration/index.js';
import { deploymentAvailable, type KindRef } from '../../reconciler/index.js';
import { placementOf, placementWatches } from '../placement.js';
import { resolveEgress } from '../egress.js';
import { ownedDeployments } from '../workloads.js';
import { metricsURL } from './config.js';
import { metricsComponent, metricsObjects, pricingName, type MetricsFacts } from './render.js';

/** The informer over the metrics component's own Deployment (`pricing`). */
export const metricsDeployments = ownedDeployments(metricsComponent);
/** The Deckhouse Service whose hook telemetry is shipped when it exists. */
export const deckhouseService = { namespace: 'd8-system', name: 'deckhouse' } as const;
/** The cluster DNS domain when Deckhouse does not say. */
export const defaultClusterDomain = 'cluster.local';

/** Options of the metrics component. */
export interface MetricsOptions {
  /** Image of the `pricing` container: the controller's own image. */
  readonly image: string;
  /** Render a NetworkPolicy admitting connections to the pricing pods from this namespace only (the cluster's Prometheus). @default none */
  readonly networkPolicyFrom?: string;
}

/** Built-in kinds the metrics component renders. */
export const metricsKinds: readonly KindRef[] = [
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
];

type Input = ReadinessInput<MetricsFacts>;

const shipping: ConditionChain<Input> = {
  type: ConditionType.MetricsShippingReady,
  checks: [
    ({ spec, cache }) => {
      const d = metricsDeployments.find(cache, spec.namespace, pricingName);
      return d && deploymentAvailable(d)
        ? undefined
        : { reason: 'Progressing', message: `Deployment ${spec.namespace}/${pricingName} is not Available yet` };
    },
  ],
  ready: ({ spec }) =>
    `Deployment ${spec.namespace}/${pricingName} is Available: pricing metrics go to ${metricsURL(spec)} every ${spec.metrics.scrapeInterval}`,
};

/** The metrics component. */
export class MetricsComponent implements Component<MetricsFacts> {
  readonly name = metricsComponent;
  readonly enabledField = 'spec.metrics.enabled';
  readonly needsLicence = true;
  readonly kinds = metricsKinds;
  readonly crds = [{ group: 'monitoring.coreos.com', kind: 'PodMonitor', plural: 'podmonitors', versions: ['v1'], optional: true, namespaced: true }];
  readonly informers = [metricsDeployments.watch, ...placementWatches];
  readonly readiness = [shipping];

  constructor(private readonly options: MetricsOptions) {}

  enabled(spec: FlantIntegrationSpec): boolean {
    return spec.metrics.enabled;
  }

  secretRefs() {
    return [{ namespace: 'd8-system', name: 'deckhouse-discovery' }];
  }

  async gather(ctx: GatherContext): Promise<Gathered<MetricsFacts>> {
    const ca = ctx.spec.prometheus.caSecretRef;
    let prometheusCA: string | undefined;
    if (ca) {
      const read = readSecretKey(ca, ctx.secrets, ctx.secretNamespaces, ctx.forbiddenSecretNamespaces);
      if (!read.found)
        return {
          blocked: [
            {
              type: ConditionType.MetricsShippingReady,
              status: 'False',
              reason: read.reason,
              message: `spec.prometheus.caSecretRef: ${read.message}`,
            },
          ],
        };
      const problem = certificateBundleProblem(read.key);
      if (problem) {
        const message = `spec.prometheus.caSecretRef: ${read.source} is not a CA bundle (${problem}): it must hold PEM certificates only`;
        return { blocked: [{ type: ConditionType.MetricsShippingReady, status: 'False', reason: Reason.InvalidCertificate, message }] };
      }
      prometheusCA = read.key;
    }
    const egress = resolveEgress(ctx);
    if (!('settings' in egress)) return { blocked: [{ type: ConditionType.MetricsShippingReady, status: 'False', ...egress }] };
    const discovery = ctx.secrets('d8-system', 'deckhouse-discovery');
    const domain = discovery?.data?.clusterDomain;
    return {
      facts: {
        licenceKey: ctx.licenceKey ?? '',
        clusterUUID: ctx.clusterUUID,
        image: this.options.image,
        ...(prometheusCA !== undefined ? { prometheusCA } : {}),
        ...(egress.userinfo !== undefined ? { egressUserinfo: egress.userinfo, egressSecrets: egress.secrets } : {}),
        podMonitorServed: ctx.served('PodMonitor') !== undefined,
        placement: placementOf(ctx.cache),
        networkPolicyFrom: this.options.networkPolicyFrom,
        deckhouseTelemetry: await ctx.cluster.serviceExists(deckhouseService.namespace, deckhouseService.name),
        clusterDomain: domain ? Buffer.from(domain, 'base64').toString('utf8').trim() : defaultClusterDomain,
      },
    };
  }

  offlineFacts(offline: OfflineFacts): MetricsFacts {
    const section = z
      .object({
        deckhouseTelemetry: z.boolean().default(false).describe('The Service d8-system/deckhouse exists'),
        clusterDomain: z.string().min(1).default(defaultClusterDomain),
      })
      .strict()
      .parse(offline.section ?? {});
    return {
      licenceKey: offline.licenceKey,
      clusterUUID: offline.clusterUUID,
      image: offline.image,
      podMonitorServed: offline.served('PodMonitor') !== undefined,
      networkPolicyFrom: this.options.networkPolicyFrom,
      ...section,
    };
  }

  secretValues(facts: MetricsFacts): string[] {
    return [facts.licenceKey, ...(facts.egressSecrets ?? [])];
  }

  render(spec: FlantIntegrationSpec, facts: MetricsFacts) {
    return metricsObjects(spec, facts);
  }
}

/** One PEM block: its label, then base64 lines. */
const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

/** Longest CA bundle copied: a few dozen certificates. */
const maxCABundleBytes = 256 * 1024;

/**
 * Why `text` is not a bundle of PEM certificates only, or undefined when it is: anything else
 * (a private key, a token, a line outside a block) is refused, so the copy the exporter reads
 * can never carry another Secret's value.
 */
export function certificateBundleProblem(text: string): string | undefined {
  if (Buffer.byteLength(text) > maxCABundleBytes) return `over ${maxCABundleBytes} bytes`;
  const blocks = [...text.matchAll(pemBlock)];
  if (blocks.length === 0) return 'no PEM block';
  const outside = text.replace(pemBlock, '').trim();
  if (outside !== '') return 'text outside the PEM blocks';
  for (const [block, label] of blocks) {
    if (label !== 'CERTIFICATE') return `a ${label ?? ''} block`;
    try {
      new X509Certificate(block);
    } catch {
      return 'a certificate that does not parse';
    }
  }
  return undefined;
}
