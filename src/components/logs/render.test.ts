import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../../api/index.js';
import { renderComponent } from '../../flantintegration/index.js';
import { LogsComponent } from './component.js';
import { logsObjects, lokiEndpoint, type LogsFacts } from './render.js';

const facts = (version: string): LogsFacts => ({ licenceKey: 'LIC-1', clusterUUID: 'uuid-1', loggingConfigVersion: version });
const spec = (over: Record<string, unknown> = {}) => flantIntegrationSpecSchema.parse(over);

const destination = {
  apiVersion: 'deckhouse.io/v1alpha1',
  kind: 'ClusterLogDestination',
  metadata: { name: 'flant-integration-loki-storage' },
  spec: {
    type: 'Loki',
    loki: { endpoint: 'https://connect.deckhouse.io/v1/loki_push/', auth: { strategy: 'Bearer', token: 'LIC-1' } },
    buffer: { type: 'Memory', memory: { maxEvents: 10240 }, whenFull: 'DropNewest' },
    extraLabels: { cluster_uuid: 'uuid-1' },
  },
};

describe('renderLogs', () => {
  it('writes the v1alpha2 logging config with a namespace label selector', () => {
    expect(logsObjects(spec(), facts('deckhouse.io/v1alpha2'))).toEqual([
      destination,
      {
        apiVersion: 'deckhouse.io/v1alpha2',
        kind: 'ClusterLoggingConfig',
        metadata: { name: 'flant-integration-d8-logs' },
        spec: {
          type: 'KubernetesPods',
          kubernetesPods: {
            namespaceSelector: { labelSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'd8-system' } } },
            labelSelector: { matchLabels: { app: 'deckhouse' } },
          },
          destinationRefs: ['flant-integration-loki-storage'],
        },
      },
    ]);
  });

  it('writes the v1alpha1 logging config with matchNames', () => {
    expect(logsObjects(spec(), facts('deckhouse.io/v1alpha1'))[1]).toEqual({
      apiVersion: 'deckhouse.io/v1alpha1',
      kind: 'ClusterLoggingConfig',
      metadata: { name: 'flant-integration-d8-logs' },
      spec: {
        type: 'KubernetesPods',
        kubernetesPods: { namespaceSelector: { matchNames: ['d8-system'] }, labelSelector: { matchLabels: { app: 'deckhouse' } } },
        destinationRefs: ['flant-integration-loki-storage'],
      },
    });
  });

  it.each([
    ['the default from connect.url', {}, 'https://connect.deckhouse.io/v1/loki_push/'],
    ['connect.url with a trailing slash', { connect: { url: 'https://connect.example.com/' } }, 'https://connect.example.com/v1/loki_push/'],
    ['logs.url as given', { logs: { url: 'https://loki.example.com/push' } }, 'https://loki.example.com/push/'],
    ['logs.url with trailing slashes', { logs: { url: 'https://loki.example.com/push//' } }, 'https://loki.example.com/push/'],
  ])('ends the endpoint in exactly one slash: %s', (_name, over, endpoint) => {
    expect(lokiEndpoint(spec(over))).toBe(endpoint);
  });

  it("labels both objects as the logs component's, as the controller applies them", () => {
    for (const o of renderComponent(new LogsComponent(), spec(), facts('deckhouse.io/v1alpha2'))) {
      expect(o.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'flant-integration', 'integration.flant.com/component': 'logs' });
    }
  });
});
