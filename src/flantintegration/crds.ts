/**
 * CRDs as a watched fact: which version of a component's CRD the cluster serves now, read
 * from the CustomResourceDefinition objects themselves (informers limited to the names the
 * components declare), so a CRD installed or removed while the controller runs counts at once.
 */
import type { KubeObject, ResourceInfo } from '../reconciler/index.js';
import { crdName, type AnyComponent, type CRDRequirement } from './contract.js';

/** A CustomResourceDefinition as the cache holds it. */
export interface CRDObject extends KubeObject {
  spec?: {
    group?: string;
    scope?: string;
    names?: { plural?: string; kind?: string };
    versions?: Array<{ name: string; served?: boolean }>;
  };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

/** List path of CustomResourceDefinitions. */
export const crdsPath = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** Versions the CRD serves now: none until it is Established. */
export function servedVersions(crd: CRDObject | undefined): string[] {
  const established = crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  if (!established) return [];
  return (crd?.spec?.versions ?? []).filter((v) => v.served !== false).map((v) => v.name);
}

/** The best version of `req` that `crd` serves, or undefined. */
export function bestServedVersion(req: CRDRequirement, crd: CRDObject | undefined): string | undefined {
  const served = servedVersions(crd);
  return req.versions.find((v) => served.includes(v));
}

/** The apiVersion (`group/version`) to write `req` in: its best version `crd` serves, or undefined. */
export function servedAPIVersion(req: CRDRequirement, crd: CRDObject | undefined): string | undefined {
  const version = bestServedVersion(req, crd);
  return version ? `${req.group}/${version}` : undefined;
}

/** REST facts of every served version of `crd`, for the mapper. */
export function resourceInfos(crd: CRDObject): ResourceInfo[] {
  const plural = crd.spec?.names?.plural ?? '';
  const kind = crd.spec?.names?.kind ?? '';
  const namespaced = crd.spec?.scope === 'Namespaced';
  return servedVersions(crd).map((v) => ({ apiVersion: `${crd.spec?.group ?? ''}/${v}`, kind, plural, namespaced }));
}

/** Every CRD the components declare, by name, without repeats. */
export function declaredCRDs(components: readonly AnyComponent[]): string[] {
  return [...new Set(components.flatMap((c) => c.crds.map(crdName)))].sort();
}
