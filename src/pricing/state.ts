/**
 * The exporter's node counts, kept incrementally: a Node event replaces that node's
 * contribution, a NodeGroup event re-reads only the nodes of that group; nothing is
 * recomputed over all nodes. A scrape reads the current numbers.
 */
import { parseQuantity } from './quantity.js';
import {
  billingType,
  billingTypes,
  compareVersions,
  controlPlaneTaints,
  masterGroup,
  nodeGroupLabel,
  nodeTypeAnnotation,
  nodeTypeLabel,
  virtualizationAnnotation,
  type BillingType,
} from './rules.js';

/** A Node as the informer holds it (only what the exporter reads). */
export interface NodeObject {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { taints?: Array<{ key: string; value?: string; effect?: string }> };
  status?: { capacity?: Record<string, string>; allocatable?: Record<string, string>; nodeInfo?: { kubeletVersion?: string } };
}

/** A NodeGroup as the informer holds it. */
export interface NodeGroupObject {
  metadata?: { name?: string };
  spec?: { nodeType?: string; nodeTemplate?: { taints?: Array<{ key: string; value?: string }> } };
  status?: { nodes?: number; upToDate?: number };
}

/** What one counted node adds to the totals. */
interface Contribution {
  readonly group: string;
  readonly type: BillingType;
  readonly master: boolean;
  readonly tainted: boolean;
  /** CPU capacity in millicores and memory in bytes, as exact integers: sums of them never drift. */
  readonly milliCPU: bigint;
  readonly bytes: bigint;
}

/** What a node brings, whether or not its group exists. */
interface NodeInput {
  readonly group: string;
  readonly annotation?: string;
  readonly virtualization?: string;
  readonly tainted: boolean;
  readonly cpu: number;
  readonly memory: number;
  readonly allocatableCPU: number;
  readonly allocatableMemory: number;
  readonly kubelet: string;
  readonly isStatic: boolean;
}

/** The `is_*` flags of a NodeGroup, from its `dedicated.deckhouse.io` template taints. */
export interface GroupFlags {
  readonly is_master: boolean;
  readonly is_system: boolean;
  readonly is_monitoring: boolean;
  readonly is_frontend: boolean;
}

interface GroupInput {
  readonly nodeType?: string;
  readonly flags: GroupFlags;
  readonly upToDate: boolean;
}

const dedicatedTaint = 'dedicated.deckhouse.io';

function counts(): Record<BillingType, number> {
  return { ephemeral: 0, vm: 0, hard: 0, special: 0 };
}

/** The exporter's counts. */
export class PricingState {
  readonly nodes = counts();
  readonly controlPlane = counts();
  readonly controlPlaneTainted = counts();
  /** Exact sums of node capacity per NodeGroup (millicores, bytes): a node leaving takes back exactly what it added. */
  private readonly capacity = new Map<string, { milliCPU: bigint; bytes: bigint }>();

  /** Sum of node capacity per NodeGroup: cores and bytes. */
  get groupCapacity(): ReadonlyMap<string, { cpu: number; memory: number }> {
    return new Map([...this.capacity].map(([group, c]) => [group, { cpu: Number(c.milliCPU) / 1000, memory: Number(c.bytes) }]));
  }
  /** How many times a node annotation could not be read. */
  invalidAnnotations = 0;
  private inputs = new Map<string, NodeInput>();
  private counted = new Map<string, Contribution>();
  private members = new Map<string, Set<string>>();
  private groups = new Map<string, GroupInput>();
  private kubelets = new Map<string, number>();
  private staticNodeCount = 0;
  private masters = new Set<string>();

  /** A node was added or changed. */
  upsertNode(node: NodeObject): void {
    const name = node.metadata?.name ?? '';
    const input = nodeInput(node);
    const old = this.inputs.get(name);
    this.forgetNode(name);
    if (!input) return;
    if (input.annotation !== old?.annotation && billingType(input.annotation, undefined, undefined).invalidAnnotation) this.invalidAnnotations++;
    this.inputs.set(name, input);
    this.adjust(this.kubelets, input.kubelet, 1);
    if (input.isStatic) this.staticNodeCount++;
    let group = this.members.get(input.group);
    if (!group) this.members.set(input.group, (group = new Set()));
    group.add(name);
    this.count(name);
  }

  /** A node was deleted. */
  deleteNode(name: string): void {
    this.forgetNode(name);
  }

  /** A NodeGroup was added or changed: its nodes are counted again. */
  upsertGroup(ng: NodeGroupObject): void {
    const name = ng.metadata?.name ?? '';
    const taints = ng.spec?.nodeTemplate?.taints ?? [];
    const dedicated = (value: string) => taints.some((t) => t.key === dedicatedTaint && t.value === value);
    const flags = {
      is_master: dedicated('master'),
      is_system: dedicated('system'),
      is_monitoring: dedicated('monitoring'),
      is_frontend: dedicated('frontend'),
    };
    const upToDate = (ng.status?.nodes ?? 0) === (ng.status?.upToDate ?? 0);
    this.groups.set(name, { nodeType: ng.spec?.nodeType, flags, upToDate });
    this.recount(name);
  }

  /** A NodeGroup was deleted: its nodes are no longer counted. */
  deleteGroup(name: string): void {
    this.groups.delete(name);
    this.recount(name);
  }

  /** Every NodeGroup is gone (its CRD was removed). */
  clearGroups(): void {
    for (const name of [...this.groups.keys()]) this.deleteGroup(name);
  }

  /** NodeGroups known, with their flags. */
  groupFlags(): ReadonlyMap<string, GroupFlags> {
    return new Map([...this.groups].map(([name, g]) => [name, g.flags]));
  }

  /** NodeGroup types, by name. */
  groupTypes(): ReadonlyMap<string, string | undefined> {
    return new Map([...this.groups].map(([name, g]) => [name, g.nodeType]));
  }

  /** True when every NodeGroup has `status.nodes == status.upToDate`. */
  allUpToDate(): boolean {
    return [...this.groups.values()].every((g) => g.upToDate);
  }

  /** The lowest kubelet version over all nodes, or empty. */
  minimalKubeletVersion(): string {
    return [...this.kubelets.keys()].filter(Boolean).sort(compareVersions)[0] ?? '';
  }

  /** Nodes labelled `node.deckhouse.io/type=Static`. */
  staticNodes(): number {
    return this.staticNodeCount;
  }

  /** Master facts: how many, the smallest allocatable CPU (cores, rounded up) and memory (bytes), and whether all are tainted. */
  masterFacts(): { count: number; minCPU: number; minMemory: number; dedicated: boolean } {
    const masters = [...this.masters].map((n) => this.inputs.get(n)).filter((n): n is NodeInput => n !== undefined);
    if (masters.length === 0) return { count: 0, minCPU: 0, minMemory: 0, dedicated: false };
    return {
      count: masters.length,
      minCPU: Math.ceil(Math.min(...masters.map((m) => m.allocatableCPU))),
      minMemory: Math.min(...masters.map((m) => m.allocatableMemory)),
      dedicated: masters.every((m) => m.tainted),
    };
  }

  private recount(group: string): void {
    for (const name of this.members.get(group) ?? []) {
      this.uncount(name);
      this.count(name);
    }
  }

  /** Adds the node's contribution when its NodeGroup exists. */
  private count(name: string): void {
    const input = this.inputs.get(name);
    const group = input && this.groups.get(input.group);
    if (!input || !group) return;
    const { type } = billingType(input.annotation, group.nodeType, input.virtualization);
    const c: Contribution = {
      group: input.group,
      type,
      master: input.group === masterGroup,
      tainted: input.tainted,
      milliCPU: wholeAmount(input.cpu * 1000),
      bytes: wholeAmount(input.memory),
    };
    this.counted.set(name, c);
    this.apply(c, 1);
    if (c.master) this.masters.add(name);
  }

  private uncount(name: string): void {
    const c = this.counted.get(name);
    if (!c) return;
    this.counted.delete(name);
    this.apply(c, -1);
    this.masters.delete(name);
  }

  private apply(c: Contribution, sign: 1 | -1): void {
    this.nodes[c.type] += sign;
    if (c.master) this.controlPlane[c.type] += sign;
    if (c.master && c.tainted) this.controlPlaneTainted[c.type] += sign;
    const cap = this.capacity.get(c.group) ?? { milliCPU: 0n, bytes: 0n };
    cap.milliCPU += BigInt(sign) * c.milliCPU;
    cap.bytes += BigInt(sign) * c.bytes;
    this.capacity.set(c.group, cap);
  }

  private forgetNode(name: string): void {
    const old = this.inputs.get(name);
    if (!old) return;
    this.uncount(name);
    this.inputs.delete(name);
    this.adjust(this.kubelets, old.kubelet, -1);
    if (old.isStatic) this.staticNodeCount--;
    const group = this.members.get(old.group);
    group?.delete(name);
    if (group?.size === 0) this.members.delete(old.group);
  }

  private adjust(map: Map<string, number>, key: string, by: number): void {
    const next = (map.get(key) ?? 0) + by;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  }
}

/** What a node brings, or undefined when it has no NodeGroup label (not counted at all). */
/** Picks `keys` of `record` that it has; undefined when it has none. */
function pick(record: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> | undefined {
  const picked = Object.fromEntries(keys.filter((k) => record?.[k] !== undefined).map((k) => [k, record?.[k] ?? '']));
  return Object.keys(picked).length > 0 ? picked : undefined;
}

/**
 * What the exporter's node cache keeps of a Node: the fields {@link nodeInput} reads, and the
 * name and resourceVersion the informer keys and compares by. A Node as served carries its
 * managedFields, images, conditions and every label (tens of kilobytes on a real kubelet's);
 * the cache of 5,000 of them would otherwise hold it all.
 */
export function nodeFields<T extends NodeObject & { metadata?: { resourceVersion?: string } }>(node: T): T {
  const { metadata, spec, status } = node;
  const quantities = ['cpu', 'memory'];
  return {
    metadata: {
      name: metadata?.name,
      resourceVersion: metadata?.resourceVersion,
      labels: pick(metadata?.labels, [nodeGroupLabel, nodeTypeLabel]),
      annotations: pick(metadata?.annotations, [nodeTypeAnnotation, virtualizationAnnotation]),
    },
    spec: { taints: spec?.taints?.map(({ key, value, effect }) => ({ key, value, effect })) },
    status: {
      capacity: pick(status?.capacity, quantities),
      allocatable: pick(status?.allocatable, quantities),
      nodeInfo: { kubeletVersion: status?.nodeInfo?.kubeletVersion },
    },
  } as T;
}

function nodeInput(node: NodeObject): NodeInput | undefined {
  const group = node.metadata?.labels?.[nodeGroupLabel];
  if (!group) return undefined;
  const annotations = node.metadata?.annotations ?? {};
  const taints = node.spec?.taints ?? [];
  return {
    group,
    annotation: annotations[nodeTypeAnnotation],
    virtualization: annotations[virtualizationAnnotation],
    tainted: taints.some((t) => (controlPlaneTaints as readonly string[]).includes(t.key)),
    cpu: parseQuantity(node.status?.capacity?.cpu),
    memory: parseQuantity(node.status?.capacity?.memory),
    allocatableCPU: parseQuantity(node.status?.allocatable?.cpu),
    allocatableMemory: parseQuantity(node.status?.allocatable?.memory),
    kubelet: node.status?.nodeInfo?.kubeletVersion ?? '',
    isStatic: node.metadata?.labels?.[nodeTypeLabel] === 'Static',
  };
}

/** Every billing type with a count, in export order. */
export function byType(values: Record<BillingType, number>): Array<[BillingType, number]> {
  return billingTypes.map((t) => [t, values[t]]);
}

/**
 * The largest capacity one node is counted with (2^60: an exbibyte of memory, or 10^15 cores in
 * millicores). A node reporting more (a hostile or broken kubelet: `9e307`) counts as 0: it
 * cannot swell a sum, nor leave `Infinity` behind when it goes.
 */
const maxNodeAmount = 2 ** 60;

/** `value` rounded to a whole number, as an exact integer; 0 when it is not finite, negative or absurd. */
function wholeAmount(value: number): bigint {
  return Number.isFinite(value) && value >= 0 && value <= maxNodeAmount ? BigInt(Math.round(value)) : 0n;
}
