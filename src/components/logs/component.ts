/**
 * The logs component: ships the Deckhouse operator's logs to Flant's Loki through
 * Deckhouse's log-shipper, by writing its ClusterLogDestination and ClusterLoggingConfig.
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
import { destinationName, loggingConfigName, logsComponent, logsObjects, lokiEndpoint, type LogsFacts } from './render.js';

const deckhouse = 'deckhouse.io';

const shipping: ConditionChain<ReadinessInput<LogsFacts>> = {
  type: ConditionType.LogShippingReady,
  // Applying is the whole job: log-shipper reports nothing back on these objects.
  checks: [],
  ready: ({ spec, facts }) =>
    `ClusterLogDestination ${destinationName} and ClusterLoggingConfig ${loggingConfigName} (${facts.loggingConfigVersion}) are applied: ` +
    `the Deckhouse operator's logs go to ${lokiEndpoint(spec)}`,
};

/** The logs component. */
export class LogsComponent implements Component<LogsFacts> {
  readonly name = logsComponent;
  readonly enabledField = 'spec.logs.enabled';
  readonly needsLicence = true;
  readonly crds = [
    { group: deckhouse, kind: 'ClusterLogDestination', plural: 'clusterlogdestinations', versions: ['v1alpha1'] },
    { group: deckhouse, kind: 'ClusterLoggingConfig', plural: 'clusterloggingconfigs', versions: ['v1alpha2', 'v1alpha1'] },
  ];
  readonly readiness = [shipping];

  enabled(spec: FlantIntegrationSpec): boolean {
    return spec.logs.enabled;
  }

  async gather(ctx: GatherContext): Promise<Gathered<LogsFacts>> {
    return { facts: this.facts(ctx.licenceKey ?? '', ctx.clusterUUID, ctx.served) };
  }

  offlineFacts(offline: OfflineFacts): LogsFacts {
    const { licenceKey, clusterUUID, served } = noOfflineSection(offline);
    return this.facts(licenceKey, clusterUUID, served);
  }

  render(spec: FlantIntegrationSpec, facts: LogsFacts) {
    return logsObjects(spec, facts);
  }

  private facts(licenceKey: string, clusterUUID: string, served: (kind: string) => string | undefined): LogsFacts {
    return { licenceKey, clusterUUID, loggingConfigVersion: served('ClusterLoggingConfig') ?? `${deckhouse}/v1alpha1` };
  }
}
