/**
 * Readiness of built-in workloads as the cache holds them.
 */
import type { KubeObject } from './kube.js';

/** A Deployment as the cache holds it (only what readiness reads). */
export interface DeploymentObject extends KubeObject {
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> };
}

/** True when the Deployment's status is for its current generation and says Available. */
export function deploymentAvailable(d: DeploymentObject): boolean {
  const fresh = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  return fresh && (d.status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
}
