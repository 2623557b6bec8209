import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { programVersion } from './version.js';
import { stateMetrics } from './wiring.js';

describe('flantintegration_condition and flantintegration_info', () => {
  it('report each stored condition as 1, follow changes at scrape time, and drop what is gone', async () => {
    const registry = new Registry();
    const fi = {
      metadata: { name: 'default' },
      status: {
        clusterUUID: 'uuid-1',
        conditions: [
          { type: 'Ready', status: 'False', reason: 'ComponentsNotReady' },
          { type: 'LogShippingReady', status: 'False', reason: 'CRDNotInstalled' },
        ],
      },
    };
    let items = [fi];
    stateMetrics(registry, { list: () => items });
    const text = await registry.metrics();
    expect(text).toContain('flantintegration_condition{name="default",type="LogShippingReady",status="False",reason="CRDNotInstalled"} 1');
    expect(text).toContain(`flantintegration_info{name="default",cluster_uuid="uuid-1",version="${programVersion}"} 1`);

    fi.status.conditions[1] = { type: 'LogShippingReady', status: 'True', reason: 'Ready' };
    const after = await registry.metrics();
    expect(after).toContain('flantintegration_condition{name="default",type="LogShippingReady",status="True",reason="Ready"} 1');
    expect(after).not.toContain('reason="CRDNotInstalled"');

    items = [];
    expect(await registry.metrics()).not.toContain('name="default"');
  });

  it('says the version of package.json', () => {
    expect(programVersion).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });
});
