import { describe, expect, it } from 'vitest';
import { billingType, clusterType, compareVersions, worstStatus } from './rules.js';

describe('billingType: first match wins', () => {
  it.each<[string, string | undefined, string | undefined, string | undefined, string, boolean]>([
    ['annotation Ephemeral', 'Ephemeral', 'Static', undefined, 'ephemeral', false],
    ['annotation VM over a Static group', 'VM', 'Static', undefined, 'vm', false],
    ['annotation Hard over a cloud group', 'Hard', 'CloudEphemeral', undefined, 'hard', false],
    ['annotation Special', 'Special', 'CloudPermanent', undefined, 'special', false],
    ['annotation in lower case', 'vm', 'Static', undefined, 'vm', false],
    ['annotation in upper case with spaces', ' HARD ', 'CloudEphemeral', undefined, 'hard', false],
    ['unknown annotation: by its group, and counted as invalid', 'Bare-metal', 'CloudEphemeral', undefined, 'ephemeral', true],
    ['CloudEphemeral', undefined, 'CloudEphemeral', undefined, 'ephemeral', false],
    ['CloudPermanent', undefined, 'CloudPermanent', undefined, 'vm', false],
    ['CloudStatic', undefined, 'CloudStatic', undefined, 'vm', false],
    ['Static with real virtualization', undefined, 'Static', 'kvm', 'vm', false],
    ['Static with virtualization unknown', undefined, 'Static', 'unknown', 'hard', false],
    ['Static without virtualization', undefined, 'Static', undefined, 'hard', false],
    ['a group type nobody knows', undefined, 'Martian', undefined, 'hard', false],
  ])('%s', (_name, annotation, groupType, virtualization, type, invalid) => {
    expect(billingType(annotation, groupType, virtualization)).toEqual({ type, invalidAnnotation: invalid });
  });
});

describe('worstStatus', () => {
  it.each<[string, string[], string]>([
    ['no metric at all', [], 'missing'],
    ['all ok', ['ok', 'ok'], 'ok'],
    ['changed beats ok', ['ok', 'changed'], 'changed'],
    ['the full order', ['ok', 'changed', 'absent', 'abandoned', 'destructively_changed', 'error'], 'error'],
    ['absent beats changed', ['changed', 'absent'], 'absent'],
    ['an unknown status counts as missing', ['ok', 'exploded'], 'missing'],
  ])('%s', (_name, statuses, worst) => {
    expect(worstStatus(statuses)).toBe(worst);
  });
});

describe('clusterType', () => {
  it.each<[string, Parameters<typeof clusterType>[0], string]>([
    ['the override wins', { override: 'Static', configured: 'Cloud', cloudProvider: 'openstack', staticNodes: 3 }, 'Static'],
    ['Cloud by default', { cloudProvider: 'openstack', staticNodes: 0 }, 'Cloud'],
    ['Cloud with static nodes is Hybrid', { configured: 'Cloud', cloudProvider: 'openstack', staticNodes: 1 }, 'Hybrid'],
    ['Static', { configured: 'Static', cloudProvider: 'none', staticNodes: 5 }, 'Static'],
    ['Static with a cloud provider is Hybrid', { configured: 'Static', cloudProvider: 'vsphere', staticNodes: 5 }, 'Hybrid'],
  ])('%s', (_name, input, type) => {
    expect(clusterType(input)).toBe(type);
  });
});

describe('compareVersions', () => {
  it('orders by number, not text', () => {
    expect(['v1.30.2', 'v1.9.11', 'v1.30.10'].sort(compareVersions)).toEqual(['v1.9.11', 'v1.30.2', 'v1.30.10']);
  });
});
