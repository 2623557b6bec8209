import { describe, expect, it } from 'vitest';
import { proxyReadiness, type Deployment, type ProxyFacts } from './readiness.js';

const deployment = (name: string, available: boolean, generation = 1, observed = 1): Deployment => ({
  metadata: { name, namespace: 'ns', generation },
  status: { observedGeneration: observed, conditions: [{ type: 'Available', status: available ? 'True' : 'False' }] },
});

const base: ProxyFacts = { revoked: false, backends: ['a', 'b'], wanted: ['p-a', 'p-b'], deployments: [deployment('p-a', true), deployment('p-b', true)], namespace: 'ns' };

describe('proxyReadiness', () => {
  it.each<{ name: string; facts: Partial<ProxyFacts>; reason: string }>([
    { name: 'all proxies Available', facts: {}, reason: 'Ready' },
    { name: 'revoked wins over everything', facts: { revoked: true, discoveryFailure: 'x' }, reason: 'Revoked' },
    { name: 'a failed lookup', facts: { discoveryFailure: 'cannot resolve' }, reason: 'DiscoveryFailed' },
    { name: 'no backend', facts: { backends: [], wanted: [] }, reason: 'NoBackends' },
    { name: 'a proxy not Available', facts: { deployments: [deployment('p-a', true), deployment('p-b', false)] }, reason: 'Progressing' },
    { name: 'a proxy whose status is stale', facts: { deployments: [deployment('p-a', true), deployment('p-b', true, 2, 1)] }, reason: 'Progressing' },
    { name: 'a proxy missing', facts: { deployments: [deployment('p-a', true)] }, reason: 'Progressing' },
    { name: 'a proxy in another namespace', facts: { deployments: [deployment('p-a', true), { ...deployment('p-b', true), metadata: { name: 'p-b', namespace: 'other' } }] }, reason: 'Progressing' },
  ])('$name: $reason', ({ facts, reason }) => {
    const result = proxyReadiness({ ...base, ...facts });
    expect(result.reason).toBe(reason);
    expect(result.status).toBe(reason === 'Ready' ? 'True' : 'False');
  });

  it('counts what is Available', () => {
    expect(proxyReadiness({ ...base, deployments: [deployment('p-a', true)] }).message).toBe('1 of 2 madison-proxy Deployments are Available');
  });
});
