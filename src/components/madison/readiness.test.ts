import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../../api/index.js';
import { evaluate } from '../../flantintegration/index.js';
import type { DeploymentObject as Deployment } from '../../reconciler/index.js';
import { madisonDeployments, madisonReadiness } from './readiness.js';
import { proxyDeploymentName, type MadisonFacts } from './render.js';

const spec = flantIntegrationSpecSchema.parse({ namespace: 'ns' });
const [a, b] = ['10.0.0.1', '10.0.0.2'].map(proxyDeploymentName) as [string, string];
const deployment = (name: string, available: boolean, generation = 1, observed = 1): Deployment => ({
  metadata: { name, namespace: 'ns', generation },
  status: { observedGeneration: observed, conditions: [{ type: 'Available', status: available ? 'True' : 'False' }] },
});
const facts: MadisonFacts = {
  backends: ['10.0.0.1', '10.0.0.2'],
  authKey: 'K',
  licenceKey: 'L',
  keySource: 'Madison key stored in Secret ns/madison-proxy',
  customAlertmanagerServed: true,
  image: 'i',
};
const bothUp = [deployment(a, true), deployment(b, true)];

function conditions(over: Partial<MadisonFacts>, deployments: Deployment[] = bothUp) {
  const cache = { list: (name: string) => (name === madisonDeployments.watch.name ? deployments : []) };
  return evaluate(madisonReadiness, { spec, facts: { ...facts, ...over }, cache });
}

describe('Madison readiness', () => {
  it.each<{ name: string; facts?: Partial<MadisonFacts>; deployments?: Deployment[]; registered: string; proxy: string }>([
    { name: 'all proxies Available', registered: 'Ready', proxy: 'Ready' },
    { name: 'revoked wins over everything', facts: { revoked: true, discoveryFailure: 'x' }, registered: 'Revoked', proxy: 'Revoked' },
    { name: 'a failed lookup', facts: { discoveryFailure: 'cannot resolve' }, registered: 'Ready', proxy: 'DiscoveryFailed' },
    { name: 'no backend', facts: { backends: [] }, deployments: [], registered: 'Ready', proxy: 'NoBackends' },
    { name: 'a proxy not Available', deployments: [deployment(a, true), deployment(b, false)], registered: 'Ready', proxy: 'Progressing' },
    {
      name: 'a proxy whose status is stale',
      deployments: [deployment(a, true), deployment(b, true, 2, 1)],
      registered: 'Ready',
      proxy: 'Progressing',
    },
    { name: 'a proxy missing', deployments: [deployment(a, true)], registered: 'Ready', proxy: 'Progressing' },
    {
      name: 'a proxy in another namespace',
      deployments: [deployment(a, true), { ...deployment(b, true), metadata: { name: b, namespace: 'other' } }],
      registered: 'Ready',
      proxy: 'Progressing',
    },
  ])('$name: MadisonRegistered $registered, MadisonProxyReady $proxy', ({ facts: over, deployments, registered, proxy }) => {
    const [reg, prox] = conditions(over ?? {}, deployments);
    expect(reg).toMatchObject({ type: 'MadisonRegistered', reason: registered, status: registered === 'Ready' ? 'True' : 'False' });
    expect(prox).toMatchObject({ type: 'MadisonProxyReady', reason: proxy, status: proxy === 'Ready' ? 'True' : 'False' });
  });

  it('says where the key came from and counts what is Available', () => {
    expect(conditions({})[0]?.message).toBe('Madison key stored in Secret ns/madison-proxy');
    expect(conditions({}, [deployment(a, true)])[1]?.message).toBe('1 of 2 madison-proxy Deployments are Available');
    expect(conditions({})[1]?.message).toBe('2 madison-proxy Deployments are Available, one per backend');
    expect(conditions({ discoveryNote: 'h has 70 addresses; only the first 64 (byte-wise) are used' })[1]).toMatchObject({
      status: 'True',
      message: '2 madison-proxy Deployments are Available, one per backend (h has 70 addresses; only the first 64 (byte-wise) are used)',
    });
  });
});
