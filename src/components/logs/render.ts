/**
 * The log-shipper objects, rendered purely from the spec and the facts (docs/architecture.md section 3):
 * a ClusterLogDestination to Flant's Loki and a ClusterLoggingConfig that sends the
 * Deckhouse operator's logs (pods `app=deckhouse` in `d8-system`) there.
 */
import { App, Chart } from '../../imports/cdk8s.js';
import { logsURL, type FlantIntegrationSpec } from '../../api/index.js';
import {
  ClusterLogDestination,
  ClusterLogDestinationSpecBufferType,
  ClusterLogDestinationSpecBufferWhenFull,
  ClusterLogDestinationSpecLokiAuthStrategy,
  ClusterLogDestinationSpecType,
  ClusterLoggingConfig,
  ClusterLoggingConfigSpecType,
  ClusterLoggingConfigV1Alpha2,
  ClusterLoggingConfigV1Alpha2SpecType,
} from '../../imports/deckhouse.io.js';
import type { KubeObject } from '../../reconciler/index.js';
import { objectsOf } from '../workloads.js';

/** Component name, the value of the component label. */
export const logsComponent = 'logs';
/** Name of the ClusterLogDestination. */
export const destinationName = 'flant-integration-loki-storage';
/** Name of the ClusterLoggingConfig. */
export const loggingConfigName = 'flant-integration-d8-logs';
/** Namespace and pod label of the Deckhouse operator, whose logs are shipped. */
export const deckhouseLogs = { namespace: 'd8-system', podLabels: { app: 'deckhouse' } } as const;
/** Events the destination buffers in memory before dropping the newest. */
export const bufferMaxEvents = 10240;

/** What the render needs beyond the spec. */
export interface LogsFacts {
  /** The licence key: Loki's bearer token (the CRD has no Secret reference, so it is inline). */
  readonly licenceKey: string;
  readonly clusterUUID: string;
  /** apiVersion of ClusterLoggingConfig to write: `deckhouse.io/v1alpha2` or `deckhouse.io/v1alpha1`. */
  readonly loggingConfigVersion: string;
}

/** `logs.url` (default `{connect.url}/v1/loki_push`) with trailing `/` trimmed, then one `/` added. */
export function lokiEndpoint(spec: FlantIntegrationSpec): string {
  return `${logsURL(spec).replace(/\/+$/, '')}/`;
}

/** Renders the log-shipper chart. */
export function renderLogs(spec: FlantIntegrationSpec, facts: LogsFacts): Chart {
  const chart = new Chart(new App(), logsComponent);
  new ClusterLogDestination(chart, 'destination', {
    metadata: { name: destinationName },
    spec: {
      type: ClusterLogDestinationSpecType.LOKI,
      loki: { endpoint: lokiEndpoint(spec), auth: { strategy: ClusterLogDestinationSpecLokiAuthStrategy.BEARER, token: facts.licenceKey } },
      buffer: {
        type: ClusterLogDestinationSpecBufferType.MEMORY,
        memory: { maxEvents: bufferMaxEvents },
        whenFull: ClusterLogDestinationSpecBufferWhenFull.DROP_NEWEST,
      },
      extraLabels: { cluster_uuid: facts.clusterUUID },
    },
  });
  const labelSelector = { matchLabels: { ...deckhouseLogs.podLabels } };
  const destinationRefs = [destinationName];
  if (facts.loggingConfigVersion === ClusterLoggingConfigV1Alpha2.GVK.apiVersion) {
    new ClusterLoggingConfigV1Alpha2(chart, 'config', {
      metadata: { name: loggingConfigName },
      spec: {
        type: ClusterLoggingConfigV1Alpha2SpecType.KUBERNETES_PODS,
        // v1alpha2's namespaceSelector has only a label selector: the namespace's own name label.
        kubernetesPods: {
          namespaceSelector: { labelSelector: { matchLabels: { 'kubernetes.io/metadata.name': deckhouseLogs.namespace } } },
          labelSelector,
        },
        destinationRefs,
      },
    });
  } else {
    new ClusterLoggingConfig(chart, 'config', {
      metadata: { name: loggingConfigName },
      spec: {
        type: ClusterLoggingConfigSpecType.KUBERNETES_PODS,
        kubernetesPods: { namespaceSelector: { matchNames: [deckhouseLogs.namespace] }, labelSelector },
        destinationRefs,
      },
    });
  }
  return chart;
}

/** The chart as plain objects, in apply order. */
export function logsObjects(spec: FlantIntegrationSpec, facts: LogsFacts): KubeObject[] {
  return objectsOf(renderLogs(spec, facts));
}
