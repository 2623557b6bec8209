import { describe, expect, it } from 'vitest';
import { nodeFields, PricingState, type NodeGroupObject, type NodeObject } from './state.js';

function node(
  name: string,
  group: string | undefined,
  extra: {
    annotations?: Record<string, string>;
    taints?: string[];
    cpu?: string;
    memory?: string;
    kubelet?: string;
    labels?: Record<string, string>;
  } = {},
): NodeObject {
  return {
    metadata: { name, labels: { ...(group ? { 'node.deckhouse.io/group': group } : {}), ...extra.labels }, annotations: extra.annotations ?? {} },
    spec: { taints: (extra.taints ?? []).map((key) => ({ key, effect: 'NoSchedule' })) },
    status: {
      capacity: { cpu: extra.cpu ?? '4', memory: extra.memory ?? '8Gi' },
      allocatable: { cpu: extra.cpu === '3500m' ? '3400m' : (extra.cpu ?? '4'), memory: extra.memory ?? '8Gi' },
      nodeInfo: { kubeletVersion: extra.kubelet ?? 'v1.30.14' },
    },
  };
}
function group(name: string, nodeType: string, extra: { dedicated?: string; nodes?: number; upToDate?: number } = {}): NodeGroupObject {
  return {
    metadata: { name },
    spec: { nodeType, nodeTemplate: { taints: extra.dedicated ? [{ key: 'dedicated.deckhouse.io', value: extra.dedicated }] : [] } },
    status: { nodes: extra.nodes ?? 1, upToDate: extra.upToDate ?? 1 },
  };
}

describe('PricingState capacity sums', () => {
  it('cannot be poisoned for good: two nodes reporting 9e307 count as 0, and nothing stays behind when they go', () => {
    const s = new PricingState();
    s.upsertGroup(group('a', 'Static'));
    s.upsertNode(node('fine', 'a', { cpu: '4', memory: '8Gi' }));
    s.upsertNode(node('huge1', 'a', { cpu: '9e307', memory: '9e307' }));
    s.upsertNode(node('huge2', 'a', { cpu: '9e307', memory: '9e307' }));
    expect(s.groupCapacity.get('a')).toEqual({ cpu: 4, memory: 8 * 2 ** 30 });
    s.deleteNode('huge1');
    s.deleteNode('huge2');
    s.deleteNode('fine');
    expect(s.groupCapacity.get('a')).toEqual({ cpu: 0, memory: 0 });
  });

  it('does not drift with fractional CPUs coming and going', () => {
    const s = new PricingState();
    s.upsertGroup(group('a', 'Static'));
    for (let i = 0; i < 1000; i++) s.upsertNode(node(`n${i}`, 'a', { cpu: '100m', memory: '1' }));
    expect(s.groupCapacity.get('a')).toEqual({ cpu: 100, memory: 1000 });
    for (let i = 0; i < 1000; i++) s.upsertNode(node(`n${i}`, 'a', { cpu: '300m', memory: '1' }));
    for (let i = 1; i < 1000; i++) s.deleteNode(`n${i}`);
    expect(s.groupCapacity.get('a')).toEqual({ cpu: 0.3, memory: 1 });
  });
});

describe('PricingState', () => {
  it("counts every rule's inputs, all four types always present", () => {
    const s = new PricingState();
    for (const g of [
      group('master', 'CloudPermanent'),
      group('ephemeral', 'CloudEphemeral'),
      group('static', 'Static'),
      group('cloudstatic', 'CloudStatic'),
    ])
      s.upsertGroup(g);
    s.upsertNode(node('m1', 'master', { taints: ['node-role.kubernetes.io/control-plane'] }));
    s.upsertNode(node('m2', 'master', { taints: ['node-role.kubernetes.io/master'] }));
    s.upsertNode(node('m3', 'master'));
    s.upsertNode(node('e1', 'ephemeral'));
    s.upsertNode(node('e2', 'ephemeral', { annotations: { 'pricing.flant.com/nodeType': 'special' } }));
    s.upsertNode(node('s1', 'static'));
    s.upsertNode(node('s2', 'static', { annotations: { 'node.deckhouse.io/virtualization': 'kvm' } }));
    s.upsertNode(node('s3', 'static', { annotations: { 'node.deckhouse.io/virtualization': 'unknown' } }));
    s.upsertNode(node('s4', 'static', { annotations: { 'pricing.flant.com/nodeType': 'Bogus' } }));
    s.upsertNode(node('c1', 'cloudstatic'));
    s.upsertNode(node('ghost', 'no-such-group'));
    s.upsertNode(node('ungrouped', undefined));
    expect(s.nodes).toEqual({ ephemeral: 1, vm: 5, hard: 3, special: 1 });
    expect(s.controlPlane).toEqual({ ephemeral: 0, vm: 3, hard: 0, special: 0 });
    expect(s.controlPlaneTainted).toEqual({ ephemeral: 0, vm: 2, hard: 0, special: 0 });
    expect(s.invalidAnnotations).toBe(1);
    expect(s.groupCapacity.get('static')).toEqual({ cpu: 16, memory: 4 * 8 * 2 ** 30 });
  });

  it('moves a node between counts when its group, annotation or taints change, and on delete', () => {
    const s = new PricingState();
    s.upsertGroup(group('a', 'CloudEphemeral'));
    s.upsertGroup(group('b', 'Static'));
    s.upsertNode(node('n', 'a'));
    expect(s.nodes.ephemeral).toBe(1);
    s.upsertNode(node('n', 'b'));
    expect(s.nodes).toMatchObject({ ephemeral: 0, hard: 1 });
    expect(s.groupCapacity.get('a')).toEqual({ cpu: 0, memory: 0 });
    s.upsertNode(node('n', 'b', { annotations: { 'node.deckhouse.io/virtualization': 'hyperv' } }));
    expect(s.nodes).toMatchObject({ vm: 1, hard: 0 });
    s.upsertNode(node('n', 'b', { annotations: { 'pricing.flant.com/nodeType': 'Special' } }));
    expect(s.nodes).toMatchObject({ vm: 0, special: 1 });
    s.deleteNode('n');
    expect(s.nodes).toEqual({ ephemeral: 0, vm: 0, hard: 0, special: 0 });
  });

  it('re-reads only the nodes of a group whose type changes, counts a ghost group once it exists, and forgets a deleted group', () => {
    const s = new PricingState();
    s.upsertNode(node('n1', 'late'));
    s.upsertNode(node('n2', 'late'));
    expect(s.nodes).toEqual({ ephemeral: 0, vm: 0, hard: 0, special: 0 });
    s.upsertGroup(group('late', 'CloudEphemeral'));
    expect(s.nodes.ephemeral).toBe(2);
    s.upsertGroup(group('late', 'CloudPermanent'));
    expect(s.nodes).toMatchObject({ ephemeral: 0, vm: 2 });
    s.deleteGroup('late');
    expect(s.nodes.vm).toBe(0);
  });

  it('counts an invalid annotation once per value, not once per event', () => {
    const s = new PricingState();
    s.upsertGroup(group('a', 'Static'));
    s.upsertNode(node('n', 'a', { annotations: { 'pricing.flant.com/nodeType': 'x' } }));
    s.upsertNode(node('n', 'a', { annotations: { 'pricing.flant.com/nodeType': 'x' }, cpu: '8' }));
    expect(s.invalidAnnotations).toBe(1);
    s.upsertNode(node('n', 'a', { annotations: { 'pricing.flant.com/nodeType': 'y' } }));
    expect(s.invalidAnnotations).toBe(2);
  });

  it('knows the master facts, the lowest kubelet, static nodes and whether groups are up to date', () => {
    const s = new PricingState();
    s.upsertGroup(group('master', 'CloudPermanent', { nodes: 3, upToDate: 3 }));
    s.upsertGroup(group('w', 'Static', { dedicated: 'frontend', nodes: 2, upToDate: 1 }));
    s.upsertNode(node('m1', 'master', { cpu: '3500m', memory: '4Gi', taints: ['node-role.kubernetes.io/control-plane'], kubelet: 'v1.30.2' }));
    s.upsertNode(node('m2', 'master', { cpu: '8', memory: '16Gi', taints: ['node-role.kubernetes.io/control-plane'], kubelet: 'v1.29.10' }));
    s.upsertNode(node('w1', 'w', { labels: { 'node.deckhouse.io/type': 'Static' }, kubelet: 'v1.30.10' }));
    expect(s.masterFacts()).toEqual({ count: 2, minCPU: 4, minMemory: 4 * 2 ** 30, dedicated: true });
    expect(s.minimalKubeletVersion()).toBe('v1.29.10');
    expect(s.staticNodes()).toBe(1);
    expect(s.allUpToDate()).toBe(false);
    expect(s.groupFlags().get('w')).toEqual({ is_master: false, is_system: false, is_monitoring: false, is_frontend: true });
    s.deleteNode('m2');
    expect(s.minimalKubeletVersion()).toBe('v1.30.2');
  });
});

describe('nodeFields (what the node cache keeps)', () => {
  /** A Node as a kubelet serves it: everything pricing ignores too. */
  function served(name: string, groupName: string, extra: Parameters<typeof node>[2] = {}): NodeObject {
    const n = node(name, groupName, { ...extra, labels: { 'kubernetes.io/hostname': name, 'node.deckhouse.io/type': 'Static', ...extra.labels } });
    const whole = {
      ...n,
      metadata: {
        ...n.metadata,
        resourceVersion: '42',
        uid: 'u',
        managedFields: [{ manager: 'kubelet', fieldsV1: { 'f:status': {} } }],
        annotations: { ...n.metadata?.annotations, 'node.alpha.kubernetes.io/ttl': '0' },
      },
      status: {
        ...n.status,
        capacity: { ...n.status?.capacity, pods: '110', 'ephemeral-storage': '100Gi' },
        conditions: [{ type: 'Ready', status: 'True' }],
        images: [{ names: ['registry.example/app:1'], sizeBytes: 1 }],
      },
    };
    return whole;
  }

  it('counts every node exactly as the whole object does', () => {
    const nodes = [
      served('m', 'master', { taints: ['node-role.kubernetes.io/control-plane'], kubelet: 'v1.29.1' }),
      served('w', 'workers', { annotations: { 'pricing.flant.com/nodeType': 'VM', 'node.deckhouse.io/virtualization': 'kvm' }, cpu: '3500m' }),
      served('s', 'workers', { annotations: { 'pricing.flant.com/nodeType': 'bogus' }, memory: '9e307' }),
    ];
    const whole = new PricingState();
    const kept = new PricingState();
    for (const s of [whole, kept]) {
      s.upsertGroup(group('master', 'CloudPermanent'));
      s.upsertGroup(group('workers', 'Static'));
    }
    for (const n of nodes) {
      whole.upsertNode(n);
      kept.upsertNode(nodeFields(n));
    }
    expect(kept).toEqual(whole);
  });

  it('keeps the name, resourceVersion and read fields, and drops managedFields, images, conditions and other labels', () => {
    const kept = nodeFields(served('w', 'workers', { annotations: { 'pricing.flant.com/nodeType': 'VM' }, taints: ['x'] }));
    expect(kept).toEqual({
      metadata: {
        name: 'w',
        resourceVersion: '42',
        labels: { 'node.deckhouse.io/group': 'workers', 'node.deckhouse.io/type': 'Static' },
        annotations: { 'pricing.flant.com/nodeType': 'VM' },
      },
      spec: { taints: [{ key: 'x', value: undefined, effect: 'NoSchedule' }] },
      status: { capacity: { cpu: '4', memory: '8Gi' }, allocatable: { cpu: '4', memory: '8Gi' }, nodeInfo: { kubeletVersion: 'v1.30.14' } },
    });
  });
});
