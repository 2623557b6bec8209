import { describe, expect, it } from 'vitest';
import type { Sample } from './prometheus.js';
import { terraformState } from './terraform.js';

const s = (labels: Record<string, string>): Sample => ({ labels, value: 1 });
const groups = new Map([
  ['master', 'CloudPermanent'],
  ['workers', 'CloudPermanent'],
  ['front', 'CloudPermanent'],
  ['spot', 'CloudEphemeral'],
]);

describe('terraformState', () => {
  it('is none everywhere when terraform-manager is not in use', () => {
    expect(terraformState({ inUse: false, groups, cluster: [s({ status: 'error' })] })).toEqual({
      cluster: 'none',
      master: 'none',
      terranode: 'none',
      nodeGroups: [
        ['master', 'none'],
        ['front', 'none'],
        ['workers', 'none'],
      ],
    });
  });

  it('is missing where no metric answered', () => {
    expect(terraformState({ inUse: true, groups })).toMatchObject({ cluster: 'missing', master: 'missing', terranode: 'missing' });
  });

  it('takes the worst status per group, nodes and templates alike, and the worst non-master group as terranode', () => {
    const state = terraformState({
      inUse: true,
      groups,
      cluster: [s({ status: 'ok' }), s({ status: 'changed' })],
      nodes: [
        s({ name: 'm-0', node_group: 'master', status: 'ok' }),
        s({ name: 'w-0', node_group: 'workers', status: 'ok' }),
        s({ name: 'f-0', node_group: 'front', status: 'ok' }),
      ],
      templates: [s({ name: 'master', status: 'ok' }), s({ name: 'workers', status: 'absent' }), s({ name: 'front', status: 'weird' })],
    });
    expect(state).toEqual({
      cluster: 'changed',
      master: 'ok',
      terranode: 'missing',
      nodeGroups: [
        ['master', 'ok'],
        ['front', 'missing'],
        ['workers', 'absent'],
      ],
    });
  });

  it('says none for terranode when there is no terraform group but the master', () => {
    expect(
      terraformState({ inUse: true, groups: new Map([['master', 'CloudPermanent']]), nodes: [s({ node_group: 'master', status: 'ok' })] }).terranode,
    ).toBe('none');
  });
});
