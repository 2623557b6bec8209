/**
 * `MadisonRegistered` and `MadisonProxyReady` as chains of pure checks, first failure wins.
 */
import { ConditionType, Reason } from '../../api/index.js';
import type { ConditionChain, ReadinessInput } from '../../flantintegration/index.js';
import { deploymentAvailable, type Check } from '../../reconciler/index.js';
import { ownedDeployments } from '../workloads.js';
import { madisonComponent, proxyDeploymentName, type MadisonFacts } from './render.js';

/** The informer over Madison's own Deployments (the proxies). */
export const madisonDeployments = ownedDeployments(madisonComponent);

type Input = ReadinessInput<MadisonFacts>;

/** The proxy Deployments that should exist and how many of them are Available. */
function proxies(input: Input): { wanted: number; available: number } {
  const wanted = input.facts.backends.map(proxyDeploymentName);
  const ready = wanted.filter((name) => {
    const d = madisonDeployments.find(input.cache, input.spec.namespace, name);
    return d !== undefined && deploymentAvailable(d);
  });
  return { wanted: wanted.length, available: ready.length };
}

const revoked: Check<Input> = ({ facts }) =>
  facts.revoked ? { reason: Reason.Revoked, message: 'Connect says the Madison setup is archived (revoked): alerts are not shipped' } : undefined;

const registered: ConditionChain<Input> = {
  type: ConditionType.MadisonRegistered,
  checks: [revoked],
  ready: ({ facts }) => facts.keySource,
};

const proxyReady: ConditionChain<Input> = {
  type: ConditionType.MadisonProxyReady,
  checks: [
    ({ facts }) => (facts.revoked ? { reason: Reason.Revoked, message: 'the Madison setup is archived: the proxies were removed' } : undefined),
    ({ facts }) => (facts.discoveryFailure ? { reason: Reason.DiscoveryFailed, message: facts.discoveryFailure } : undefined),
    ({ facts }) => (facts.backends.length === 0 ? { reason: Reason.NoBackends, message: 'DNS gave no Madison backend address' } : undefined),
    (input) => {
      const p = proxies(input);
      return p.available === p.wanted
        ? undefined
        : { reason: Reason.Progressing, message: `${p.available} of ${p.wanted} madison-proxy Deployments are Available` };
    },
  ],
  ready: (input) =>
    `${proxies(input).wanted} madison-proxy Deployments are Available, one per ` +
    `backend${input.facts.discoveryNote ? ` (${input.facts.discoveryNote})` : ''}`,
};

/** Madison's conditions, in display order. */
export const madisonReadiness: ReadonlyArray<ConditionChain<Input>> = [registered, proxyReady];
