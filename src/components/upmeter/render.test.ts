import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../../api/index.js';
import { upmeterObjects, type UpmeterFacts } from './render.js';

const facts = (apiVersion: string): UpmeterFacts => ({ licenceKey: 'LIC-1', clusterUUID: 'uuid-1', apiVersion });

describe('renderUpmeter', () => {
  it.each(['deckhouse.io/v1', 'deckhouse.io/v1alpha1'])('writes the UpmeterRemoteWrite as %s', (apiVersion) => {
    expect(upmeterObjects(flantIntegrationSpecSchema.parse({}), facts(apiVersion))).toEqual([
      {
        apiVersion,
        kind: 'UpmeterRemoteWrite',
        metadata: { name: 'flant-integration-promscale' },
        spec: {
          config: { url: 'https://connect.deckhouse.io/v1/remote_write', bearerToken: 'LIC-1' },
          additionalLabels: { cluster_uuid: 'uuid-1' },
          intervalSeconds: 300,
        },
      },
    ]);
  });

  it('sends to metrics.url at upmeter.intervalSeconds', () => {
    const spec = flantIntegrationSpecSchema.parse({ metrics: { url: 'https://metrics.example.com/write' }, upmeter: { intervalSeconds: 30 } });
    expect(upmeterObjects(spec, facts('deckhouse.io/v1'))[0]?.spec).toMatchObject({
      config: { url: 'https://metrics.example.com/write' },
      intervalSeconds: 30,
    });
  });
});
