/**
 * Terraform state of docs/architecture.md section 4, from the candi_converge_* statuses: pure.
 */
import type { Sample } from './prometheus.js';
import { masterGroup, worstStatus, type TerraformStatus } from './rules.js';

/** What the terraform state is computed from. */
export interface TerraformInput {
  /** terraform-manager is in use (a cloud cluster); else every status is `none`. */
  readonly inUse: boolean;
  /** Answers of the three queries; undefined when a query never answered (counts as no metric). */
  readonly cluster?: readonly Sample[];
  readonly nodes?: readonly Sample[];
  readonly templates?: readonly Sample[];
  /** NodeGroup types by name. */
  readonly groups: ReadonlyMap<string, string | undefined>;
}

/** `flant_pricing_terraform_state` labels and the per-NodeGroup statuses. */
export interface TerraformState {
  readonly cluster: TerraformStatus;
  readonly master: TerraformStatus;
  readonly terranode: TerraformStatus;
  readonly nodeGroups: ReadonlyArray<readonly [string, TerraformStatus]>;
}

/** NodeGroups terraform manages besides the master: the CloudPermanent ones. */
function terraformGroups(groups: ReadonlyMap<string, string | undefined>): string[] {
  return [...groups]
    .filter(([name, type]) => name !== masterGroup && type === 'CloudPermanent')
    .map(([name]) => name)
    .sort();
}

/** The terraform state. */
export function terraformState(input: TerraformInput): TerraformState {
  const others = terraformGroups(input.groups);
  if (!input.inUse) {
    return { cluster: 'none', master: 'none', terranode: 'none', nodeGroups: [masterGroup, ...others].map((g) => [g, 'none'] as const) };
  }
  const groupStatus = (group: string) =>
    worstStatus([
      ...(input.nodes ?? []).filter((s) => s.labels.node_group === group).map((s) => s.labels.status ?? ''),
      ...(input.templates ?? []).filter((s) => s.labels.name === group).map((s) => s.labels.status ?? ''),
    ]);
  const nodeGroups = [masterGroup, ...others].map((g) => [g, groupStatus(g)] as const);
  return {
    cluster: worstStatus((input.cluster ?? []).map((s) => s.labels.status ?? '')),
    master: groupStatus(masterGroup),
    terranode: others.length === 0 ? 'none' : worstStatus(nodeGroups.slice(1).map(([, s]) => s)),
    nodeGroups,
  };
}
