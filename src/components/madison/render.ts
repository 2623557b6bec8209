/**
 * The Madison objects, rendered purely from the spec and the facts (docs/architecture.md section 3):
 * one madison-proxy Deployment per backend, the headless Service, the key Secret, a
 * PodDisruptionBudget, the CustomAlertmanager (when served), the alert relabel Secret, a
 * PodMonitor for the proxies' counters (when served) and a NetworkPolicy (when switched on).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiObject, App, Chart, k8s, type ObjectMeta } from '../../imports/cdk8s.js';
import type { FlantIntegrationSpec } from '../../api/index.js';
import { CustomAlertmanager, CustomAlertmanagerSpecType } from '../../imports/deckhouse.io.js';
import { deckhouseMonitorLabels, signatureAnnotation } from '../../flantintegration/index.js';
import type { KubeObject } from '../../reconciler/index.js';
import { proxyEnv, userinfoKey } from '../egress.js';
import { placementSpec, type Placement } from '../placement.js';
import { imagePullSecrets, ingressFromNamespace, objectsOf, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../workloads.js';

/** Component name, the value of the component label. */
export const madisonComponent = 'madison';
/** Name of the Secret holding the Madison key, of the Service and of the CustomAlertmanager. */
export const madisonProxyName = 'madison-proxy';
/** Key of the Madison key in its Secret. */
export const authKeyField = 'auth-key';
/** Secret Prometheus main reads additional alert relabelings from. */
export const relabelSecretName = 'prometheus-main-additional-configs-alert-relable-tier';
/** Port the proxy listens on. */
export const proxyPort = 8080;

/** What the render needs beyond the spec. */
export interface MadisonFacts {
  /** Backend addresses, sorted byte-wise. */
  readonly backends: readonly string[];
  /** The Madison key in use. */
  readonly authKey: string;
  /** The licence: it signs the key Secret ({@link keySignature}), which is then ours even once released. */
  readonly licenceKey: string;
  /** Where the key came from, for `MadisonRegistered`. */
  readonly keySource: string;
  /** Connect says the setup is archived: only the key Secret is kept. */
  readonly revoked?: boolean;
  /** `CustomAlertmanager` (deckhouse.io/v1alpha1) is served. */
  readonly customAlertmanagerServed: boolean;
  /** Namespace of Prometheus main (`d8-monitoring` on Deckhouse) for the relabel Secret; none: not rendered. */
  readonly prometheusNamespace?: string;
  /** Image of the proxy (the controller's own image). */
  readonly image: string;
  /** `PodMonitor` (monitoring.coreos.com/v1) is served: the cluster's Prometheus scrapes the proxies' counters. */
  readonly podMonitorServed?: boolean;
  /** Render a NetworkPolicy: the proxies accept connections on 8080 from this namespace (Prometheus') only. */
  readonly networkPolicyFrom?: string;
  /** Why the last lookup of the backends failed (the last known ones are kept). */
  readonly discoveryFailure?: string;
  /** Said beside the ready message, e.g. that DNS gave more addresses than are used. */
  readonly discoveryNote?: string;
  /** When the current backend list was discovered (RFC 3339). */
  readonly lastDiscoveryTime?: string;
  /**
   * The egress proxy's `user:password` (URL-encoded) when `spec.proxy.credentialsSecretRef` names it: the proxies read it from their egress Secret.
   */
  readonly egressUserinfo?: string;
  /** The credential values, for scrubbing. */
  readonly egressSecrets?: readonly string[];
  /** Deckhouse's system nodes and PriorityClass, where they exist (src/components/placement.ts). @default none */
  readonly placement?: Placement;
}

/** The Secret the proxies read the egress proxy's credentials from. */
export const egressSecretName = 'madison-proxy-egress';

/**
 * Runtime settings of the proxy container, the same the bench runs it with. A young generation
 * of 1 MiB semi-spaces and a 16 MiB old space keep V8's heap near what a proxy holds (its live
 * heap is ~5 MiB at rest, ~8 MiB at 32 batches in flight; bodies are Buffers, outside it); one
 * malloc arena and fixed mmap/trim thresholds of 128 KiB stop glibc from keeping freed TLS and
 * read buffers. Together with 8 backend connections they cut the peak RSS under the bench's
 * load from ~73 to ~64 MiB at the same throughput (`npm run bench`, 2026-12-02).
 */
export const proxyRuntimeEnv: ReadonlyArray<{ readonly name: string; readonly value: string }> = [
  { name: 'NODE_OPTIONS', value: '--max-semi-space-size=1 --max-old-space-size=16' },
  { name: 'MALLOC_ARENA_MAX', value: '1' },
  { name: 'MALLOC_MMAP_THRESHOLD_', value: '131072' },
  { name: 'MALLOC_TRIM_THRESHOLD_', value: '131072' },
];

/** `madison-proxy-<first 10 hex of sha256(ip)>`. */
export function proxyDeploymentName(ip: string): string {
  return `madison-proxy-${createHash('sha256').update(ip).digest('hex').slice(0, 10)}`;
}

/** Checksum of the key, as a pod annotation: a new key rolls the pods. */
export function keyChecksum(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The alert relabeling that sets `tier`. */
export const alertRelabels = [
  '- source_labels: [namespace]',
  '  regex: d8-.+|kube-system|None',
  '  target_label: tier',
  '  replacement: cluster',
  '- source_labels: [namespace, tier]',
  "  regex: ';'",
  '  target_label: tier',
  '  replacement: cluster',
  '- source_labels: [tier]',
  "  regex: ''",
  '  target_label: tier',
  '  replacement: application',
  '',
].join('\n');

/** Renders the Madison chart. */
export function renderMadison(spec: FlantIntegrationSpec, facts: MadisonFacts): Chart {
  const chart = new Chart(new App(), madisonComponent);
  const ns = spec.namespace;
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}) });
  addKeySecret(chart, meta(madisonProxyName, ns), facts.authKey, keySignature(facts.licenceKey, ns, facts.authKey));
  if (facts.egressUserinfo !== undefined && !facts.revoked) {
    new k8s.KubeSecret(chart, 'egress', {
      metadata: meta(egressSecretName, ns),
      type: 'Opaque',
      data: { [userinfoKey]: Buffer.from(facts.egressUserinfo).toString('base64') },
    });
  }
  if (facts.revoked) return chart;
  for (const ip of facts.backends) proxyDeployment(chart, spec, facts, ip, meta(proxyDeploymentName(ip), ns));
  new k8s.KubeService(chart, 'service', {
    metadata: meta(madisonProxyName, ns),
    spec: {
      clusterIp: 'None',
      selector: { app: madisonProxyName },
      ports: [{ name: 'http', port: proxyPort, targetPort: k8s.IntOrString.fromString('http') }],
    },
  });
  new k8s.KubePodDisruptionBudget(chart, 'pdb', {
    metadata: meta(madisonProxyName, ns),
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { app: madisonProxyName } } },
  });
  if (facts.podMonitorServed) {
    new ApiObject(chart, 'podmonitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { ...meta(madisonProxyName, ns), labels: { ...deckhouseMonitorLabels } },
      spec: { selector: { matchLabels: { app: madisonProxyName } }, podMetricsEndpoints: [{ port: 'http', path: '/metrics' }] },
    });
  }
  if (facts.networkPolicyFrom) {
    new k8s.KubeNetworkPolicy(chart, 'networkpolicy', {
      metadata: meta(madisonProxyName, ns),
      spec: ingressFromNamespace({ app: madisonProxyName }, facts.networkPolicyFrom, proxyPort),
    });
  }
  if (facts.customAlertmanagerServed) {
    new CustomAlertmanager(chart, 'alertmanager', {
      metadata: meta(madisonProxyName),
      spec: { type: CustomAlertmanagerSpecType.EXTERNAL, external: { service: { namespace: ns, name: madisonProxyName } } },
    });
  }
  if (facts.prometheusNamespace) {
    new k8s.KubeSecret(chart, 'relabel', {
      metadata: { ...meta(relabelSecretName, facts.prometheusNamespace), labels: { 'additional-configs-for-prometheus': 'main' } },
      type: 'Opaque',
      data: { 'alert-relabels.yaml': Buffer.from(alertRelabels).toString('base64') },
    });
  }
  return chart;
}

/**
 * The key Secret's signature: an HMAC-SHA256 of where it lives and the key, keyed by the
 * licence. Only a holder of the licence can make it, so a Secret someone made with our labels
 * and a key of their own is never taken for the one this controller stored and released.
 */
export function keySignature(licence: string, namespace: string, authKey: string): string {
  return createHmac('sha256', licence).update(`${namespace}/${madisonProxyName}\n${authKey}`).digest('base64');
}

/** True when `secret` carries the signature of `authKey` made with `license`. */
export function signedKeySecret(secret: KubeObject | undefined, licence: string, authKey: string): boolean {
  const found = secret?.metadata?.annotations?.[signatureAnnotation];
  const want = keySignature(licence, secret?.metadata?.namespace ?? '', authKey);
  return found !== undefined && found.length === want.length && timingSafeEqual(Buffer.from(found), Buffer.from(want));
}

function addKeySecret(chart: Chart, metadata: ObjectMeta, authKey: string, signature: string): void {
  new k8s.KubeSecret(chart, 'key', {
    metadata: { ...metadata, annotations: { [signatureAnnotation]: signature } },
    type: 'Opaque',
    data: { [authKeyField]: Buffer.from(authKey).toString('base64') },
  });
}

/** The key Secret alone, to store a key the moment Connect issues it. */
export function keySecret(spec: FlantIntegrationSpec, authKey: string, licence: string): KubeObject {
  const chart = new Chart(new App(), madisonComponent);
  addKeySecret(chart, { name: madisonProxyName, namespace: spec.namespace }, authKey, keySignature(licence, spec.namespace, authKey));
  return chart.toJson()[0] as KubeObject;
}

function proxyDeployment(chart: Chart, spec: FlantIntegrationSpec, facts: MadisonFacts, ip: string, meta: ObjectMeta): void {
  // On the Deployment itself too, as Deckhouse has them: `kubectl get deploy -l app=madison-proxy` lists the proxies.
  const labels = { app: madisonProxyName, 'madison-backend': ip };
  const metadata = { ...meta, labels };
  const probe = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString('http') }, periodSeconds: 10, timeoutSeconds: 5 });
  new k8s.KubeDeployment(chart, `proxy-${ip}`, {
    metadata,
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      // As Deckhouse's own render: two old ReplicaSets kept, not ten.
      revisionHistoryLimit: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: {
            'checksum/auth-key': keyChecksum(facts.authKey),
            ...(facts.egressUserinfo !== undefined ? { 'checksum/egress': keyChecksum(facts.egressUserinfo) } : {}),
          },
        },
        spec: {
          automountServiceAccountToken: false,
          // One proxy per backend, spread over nodes where it can be (as Deckhouse's render): a node lost takes one path to Madison, not all.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: madisonProxyName } } },
                },
              ],
            },
          },
          ...placementSpec(facts.placement),
          ...imagePullSecrets(spec),
          securityContext: restrictedPodSecurityContext(),
          containers: [
            {
              name: 'madison-proxy',
              image: facts.image,
              args: ['proxy'],
              env: [
                { name: 'MADISON_BACKEND', value: `${ip}:443` },
                { name: 'MADISON_AUTH_KEY', valueFrom: { secretKeyRef: { name: madisonProxyName, key: authKeyField } } },
                ...proxyRuntimeEnv,
                ...proxyEnv(spec, facts.egressUserinfo !== undefined ? egressSecretName : undefined),
              ],
              ports: [{ name: 'http', containerPort: proxyPort }],
              livenessProbe: probe('/healthz'),
              readinessProbe: probe('/readyz'),
              // Measured by npm run bench on Node 24 (bench/results/2026-12-06.json, 2 cores): 65 MiB RSS
              // idle, an 81 MiB peak at ~6,000 batches/s with proxyRuntimeEnv; the request is the idle
              // figure and 20%, the limit leaves room for a burst of large batches (64 posts of 5 MiB
              // in flight peaked at ~104 MiB, e2e/proxy.spec.ts).
              resources: {
                requests: { cpu: k8s.Quantity.fromString('25m'), memory: k8s.Quantity.fromString('80Mi') },
                limits: { memory: k8s.Quantity.fromString('128Mi') },
              },
              securityContext: restrictedContainerSecurityContext,
            },
          ],
        },
      },
    },
  });
}

/** The chart as plain objects, in apply order. */
export function madisonObjects(spec: FlantIntegrationSpec, facts: MadisonFacts): KubeObject[] {
  return objectsOf(renderMadison(spec, facts));
}
