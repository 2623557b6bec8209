/**
 * `MadisonProxyReady` as a chain of pure checks, first failure wins.
 */
import { Reason } from '../../api/index.js';
import { firstFailure, type Check, type KubeObject } from '../../reconciler/index.js';

/** A Deployment as the cache holds it. */
export interface Deployment extends KubeObject {
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> };
}

/** What the checks look at. */
export interface ProxyFacts {
  readonly revoked: boolean;
  readonly discoveryFailure?: string;
  readonly backends: readonly string[];
  /** Names of the proxy Deployments that should exist. */
  readonly wanted: readonly string[];
  readonly deployments: readonly Deployment[];
  readonly namespace: string;
}

function available(d: Deployment): boolean {
  const fresh = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  return fresh && (d.status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
}

const checks: ReadonlyArray<Check<ProxyFacts>> = [
  (f) => (f.revoked ? { reason: Reason.Revoked, message: 'the Madison setup is archived: the proxies were removed' } : undefined),
  (f) => (f.discoveryFailure ? { reason: Reason.DiscoveryFailed, message: f.discoveryFailure } : undefined),
  (f) => (f.backends.length === 0 ? { reason: Reason.NoBackends, message: 'DNS gave no Madison backend address' } : undefined),
  (f) => {
    const ready = f.wanted.filter((name) => f.deployments.some((d) => d.metadata?.name === name && d.metadata?.namespace === f.namespace && available(d)));
    if (ready.length === f.wanted.length) return undefined;
    return { reason: Reason.Progressing, message: `${ready.length} of ${f.wanted.length} madison-proxy Deployments are Available` };
  },
];

/** The status, reason and message of `MadisonProxyReady`. */
export function proxyReadiness(facts: ProxyFacts): { status: 'True' | 'False'; reason: string; message: string } {
  const failure = firstFailure(facts, checks);
  if (failure) return { status: 'False', ...failure };
  return { status: 'True', reason: Reason.Ready, message: `${facts.wanted.length} madison-proxy Deployments are Available, one per backend` };
}
