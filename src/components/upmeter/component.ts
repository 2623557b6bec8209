/**
 * The upmeter component: ships the cluster's SLA metrics through Deckhouse's upmeter, by
 * writing its UpmeterRemoteWrite.
 */
import { ConditionType, type FlantIntegrationSpec } from '../../api/index.js';
import {
  noOfflineSection,
  type Component,
  type ConditionChain,
  type GatherContext,
  type Gathered,
  type OfflineFacts,
  type ReadinessInput,
} from '../../flantintegration/index.js';
import { remoteWriteName, remoteWriteURL, upmeterComponent, upmeterObjects, type UpmeterFacts } from './render.js';

const deckhouse = 'deckhouse.io';

const shipping: ConditionChain<ReadinessInput<UpmeterFacts>> = {
  type: ConditionType.UpmeterReady,
  // Applying is the whole job: upmeter reports nothing back on the object.
  checks: [],
  ready: ({ spec, facts }) =>
    `UpmeterRemoteWrite ${remoteWriteName} (${facts.apiVersion}) is applied: SLA metrics go to ${remoteWriteURL(spec)} every ` +
    `${spec.upmeter.intervalSeconds} s`,
};

/** The upmeter component. */
export class UpmeterComponent implements Component<UpmeterFacts> {
  readonly name = upmeterComponent;
  readonly enabledField = 'spec.upmeter.enabled';
  readonly needsLicence = true;
  readonly crds = [{ group: deckhouse, kind: 'UpmeterRemoteWrite', plural: 'upmeterremotewrites', versions: ['v1', 'v1alpha1'] }];
  readonly readiness = [shipping];

  enabled(spec: FlantIntegrationSpec): boolean {
    return spec.upmeter.enabled;
  }

  async gather(ctx: GatherContext): Promise<Gathered<UpmeterFacts>> {
    return { facts: this.facts(ctx.licenceKey ?? '', ctx.clusterUUID, ctx.served) };
  }

  offlineFacts(offline: OfflineFacts): UpmeterFacts {
    const { licenceKey, clusterUUID, served } = noOfflineSection(offline);
    return this.facts(licenceKey, clusterUUID, served);
  }

  render(spec: FlantIntegrationSpec, facts: UpmeterFacts) {
    return upmeterObjects(spec, facts);
  }

  private facts(licenceKey: string, clusterUUID: string, served: (kind: string) => string | undefined): UpmeterFacts {
    return { licenceKey, clusterUUID, apiVersion: served('UpmeterRemoteWrite') ?? `${deckhouse}/v1` };
  }
}
