/**
 * The billing rules of docs/architecture.md section 4, as pure functions: a node's billing type, the
 * worst terraform status, the cluster type. The exporter's state and tests use them alike.
 */

/** Billing types, as the `type` label writes them; all four are always exported. */
export const billingTypes = ['ephemeral', 'vm', 'hard', 'special'] as const;
/** A billing type. */
export type BillingType = (typeof billingTypes)[number];

/** Node annotation that sets the billing type by hand. */
export const nodeTypeAnnotation = 'pricing.flant.com/nodeType';
/** Node annotation Deckhouse sets to the virtualization it detected. */
export const virtualizationAnnotation = 'node.deckhouse.io/virtualization';
/** Node label naming its NodeGroup; only nodes with it are counted. */
export const nodeGroupLabel = 'node.deckhouse.io/group';
/** Node label Deckhouse sets to the node's type (`Static` for static nodes). */
export const nodeTypeLabel = 'node.deckhouse.io/type';
/** The NodeGroup of the control plane. */
export const masterGroup = 'master';
/** Taints that mark a control-plane node as not schedulable for workloads. */
export const controlPlaneTaints = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'] as const;

/** A NodeGroup `spec.nodeType`. */
export type NodeGroupType = 'CloudEphemeral' | 'CloudPermanent' | 'CloudStatic' | 'Static';

/** The billing type a node annotation asks for, read case-insensitively; `invalid` for any other value. */
export function annotatedType(value: string | undefined): BillingType | 'invalid' | undefined {
  if (value === undefined) return undefined;
  const type = value.trim().toLowerCase();
  return (billingTypes as readonly string[]).includes(type) ? (type as BillingType) : 'invalid';
}

/** The billing type a NodeGroup type gives a node. */
export function groupBillingType(nodeType: string | undefined, virtualization: string | undefined): BillingType {
  switch (nodeType) {
    case 'CloudEphemeral':
      return 'ephemeral';
    case 'CloudPermanent':
    case 'CloudStatic':
      return 'vm';
    case 'Static':
      return virtualization !== undefined && virtualization !== '' && virtualization !== 'unknown' ? 'vm' : 'hard';
    default:
      return 'hard';
  }
}

/** A node's billing type, first match wins; `invalidAnnotation` when the annotation could not be read. */
export function billingType(
  annotation: string | undefined,
  nodeGroupType: string | undefined,
  virtualization: string | undefined,
): { type: BillingType; invalidAnnotation: boolean } {
  const annotated = annotatedType(annotation);
  if (annotated !== undefined && annotated !== 'invalid') return { type: annotated, invalidAnnotation: false };
  return { type: groupBillingType(nodeGroupType, virtualization), invalidAnnotation: annotated === 'invalid' };
}

/** Terraform statuses, worst first. */
export const terraformStatuses = ['missing', 'error', 'destructively_changed', 'abandoned', 'absent', 'changed', 'ok'] as const;
/** A terraform status, or `none` when terraform-manager is not in use. */
export type TerraformStatus = (typeof terraformStatuses)[number] | 'none';

/** The worst of `statuses`: an unknown one counts as `missing`, and none at all is `missing`. */
export function worstStatus(statuses: readonly string[]): TerraformStatus {
  if (statuses.length === 0) return 'missing';
  let worst = terraformStatuses.length - 1;
  for (const s of statuses) {
    const rank = (terraformStatuses as readonly string[]).indexOf(s);
    worst = Math.min(worst, rank < 0 ? 0 : rank);
  }
  return terraformStatuses[worst] ?? 'missing';
}

/** Cluster types a cluster is billed as. */
export type PricingClusterType = 'Cloud' | 'Hybrid' | 'Static';

/**
 * The cluster type: the override when set; else the cluster configuration's type (Cloud when
 * unknown), Hybrid when a Static cluster has a cloud provider or a Cloud cluster has static nodes.
 */
export function clusterType(input: {
  override?: PricingClusterType;
  configured?: string;
  cloudProvider: string;
  staticNodes: number;
}): PricingClusterType {
  if (input.override) return input.override;
  const configured = input.configured === 'Static' ? 'Static' : 'Cloud';
  if (configured === 'Static') return input.cloudProvider !== '' && input.cloudProvider !== 'none' ? 'Hybrid' : 'Static';
  return input.staticNodes > 0 ? 'Hybrid' : 'Cloud';
}

/** Compares Kubernetes versions such as `v1.30.14`, numerically by part. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .replace(/^v/, '')
      .split(/[.+-]/)
      .slice(0, 3)
      .map((p) => Number.parseInt(p, 10) || 0);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
