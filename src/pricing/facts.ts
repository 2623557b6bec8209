/**
 * Cluster facts of the info metric, read from Deckhouse's Secrets and Deployment: pure
 * functions of the objects, each giving empty values on a cluster without Deckhouse.
 */
import { parse } from 'yaml';
import type { KubeObject } from '../reconciler/index.js';
import type { ClusterFacts, IngressController } from './metrics.js';

/** A Secret as the cache holds it. */
export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

/** The Deckhouse objects the exporter reads, by name. */
export const deckhouseObjects = {
  discovery: { namespace: 'd8-system', name: 'deckhouse-discovery' },
  providerConfiguration: { namespace: 'kube-system', name: 'd8-provider-cluster-configuration' },
  clusterConfiguration: { namespace: 'kube-system', name: 'd8-cluster-configuration' },
  deployment: { namespace: 'd8-system', name: 'deckhouse' },
} as const;

function decoded(secret: SecretObject | undefined, key: string): string {
  const value = secret?.data?.[key];
  return value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8').trim();
}

function yamlField(text: string, field: string): string {
  if (!text) return '';
  try {
    const doc = parse(text) as Record<string, unknown> | null;
    const value = doc?.[field];
    return typeof value === 'string' ? value : '';
  } catch {
    // A configuration that does not parse gives no facts rather than no metrics.
    return '';
  }
}

/** `release_channel` and `bundle` from `d8-system/deckhouse-discovery`. */
export function discoveryFacts(secret: SecretObject | undefined): Pick<ClusterFacts, 'releaseChannel' | 'bundle'> {
  return { releaseChannel: decoded(secret, 'releaseChannel'), bundle: decoded(secret, 'bundle') };
}

/**
 * `cloud_provider` and `cloud_layout` from `kube-system/d8-provider-cluster-configuration`:
 * the provider is the kind of its configuration (`OpenStackClusterConfiguration` -> `openstack`),
 * as the enabled `cloud-provider-*` module is named; `none` without one. Its presence also
 * means terraform-manager is in use.
 */
export function providerFacts(secret: SecretObject | undefined): Pick<ClusterFacts, 'cloudProvider' | 'cloudLayout' | 'terraformInUse'> {
  const text = decoded(secret, 'cloud-provider-cluster-configuration.yaml');
  const kind = yamlField(text, 'kind');
  const provider = kind.replace(/ClusterConfiguration$/, '').toLowerCase();
  return { cloudProvider: secret ? provider || 'none' : 'none', cloudLayout: yamlField(text, 'layout'), terraformInUse: secret !== undefined };
}

/** `clusterType` of `kube-system/d8-cluster-configuration`, when known. */
export function configuredType(secret: SecretObject | undefined): string | undefined {
  return yamlField(decoded(secret, 'cluster-configuration.yaml'), 'clusterType') || undefined;
}

/** Annotation with Deckhouse's version on its Deployment, when present. */
export const deckhouseVersionAnnotation = 'core.deckhouse.io/version';

/** `deckhouse_version`: the Deployment's version annotation, else its image tag, else empty. */
export function deckhouseVersion(deployment: KubeObject | undefined): string {
  const annotated = deployment?.metadata?.annotations?.[deckhouseVersionAnnotation];
  if (annotated) return annotated;
  const containers =
    (deployment?.spec as { template?: { spec?: { containers?: Array<{ name?: string; image?: string }> } } } | undefined)?.template?.spec
      ?.containers ?? [];
  const image = (containers.find((c) => c.name === 'deckhouse') ?? containers[0])?.image ?? '';
  const tag = /:([^:/@]+)(@|$)/.exec(image)?.[1];
  return tag ?? '';
}

/** An IngressNginxController's labels: its inlet, its version and whether that is the default one. */
export function ingressController(obj: KubeObject): IngressController {
  const spec = (obj.spec ?? {}) as { inlet?: string; controllerVersion?: string };
  return { inlet: spec.inlet ?? '', version: spec.controllerVersion ?? '', isDefault: spec.controllerVersion === undefined };
}
