/**
 * The upmeter object, rendered purely from the spec and the facts (docs/architecture.md section 3):
 * an UpmeterRemoteWrite that ships the cluster's SLA metrics to the metrics URL.
 */
import { App, Chart } from '../../imports/cdk8s.js';
import { metricsURL, type FlantIntegrationSpec } from '../../api/index.js';
import { UpmeterRemoteWrite, UpmeterRemoteWriteV1 } from '../../imports/deckhouse.io.js';
import type { KubeObject } from '../../reconciler/index.js';
import { objectsOf } from '../workloads.js';

/** Component name, the value of the component label. */
export const upmeterComponent = 'upmeter';
/** Name of the UpmeterRemoteWrite. */
export const remoteWriteName = 'flant-integration-promscale';

/** What the render needs beyond the spec. */
export interface UpmeterFacts {
  /** The licence key: the bearer token (the CRD has no Secret reference, so it is inline). */
  readonly licenceKey: string;
  readonly clusterUUID: string;
  /** apiVersion to write: `deckhouse.io/v1` or `deckhouse.io/v1alpha1`. */
  readonly apiVersion: string;
}

/** Where upmeter writes: the metrics URL (src/api). */
export const remoteWriteURL = metricsURL;

/** Renders the upmeter chart. */
export function renderUpmeter(spec: FlantIntegrationSpec, facts: UpmeterFacts): Chart {
  const chart = new Chart(new App(), upmeterComponent);
  const props = {
    metadata: { name: remoteWriteName },
    spec: {
      config: { url: remoteWriteURL(spec), bearerToken: facts.licenceKey },
      additionalLabels: { cluster_uuid: facts.clusterUUID },
      intervalSeconds: spec.upmeter.intervalSeconds,
    },
  };
  // Both versions have the same fields; only the class (its apiVersion) differs.
  if (facts.apiVersion === UpmeterRemoteWriteV1.GVK.apiVersion) new UpmeterRemoteWriteV1(chart, 'remote-write', props);
  else new UpmeterRemoteWrite(chart, 'remote-write', props);
  return chart;
}

/** The chart as plain objects. */
export function upmeterObjects(spec: FlantIntegrationSpec, facts: UpmeterFacts): KubeObject[] {
  return objectsOf(renderUpmeter(spec, facts));
}
