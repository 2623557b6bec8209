import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kwokConfiguration } from './controlplane.js';

/** The parts of a kwok Stage these tests read. */
interface StageSpec {
  resourceRef: unknown;
  selector: { matchExpressions: { operator: string }[] };
  delay?: unknown;
  next: { statusTemplate: string };
}

/** The documents of a configuration, parsed. */
function documents(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Record<string, unknown>;
  });
}

describe('kwokConfiguration', () => {
  it('sets the three parallelism options and no stage when no status period is given', () => {
    const docs = documents(kwokConfiguration(32, undefined));
    expect(docs).toEqual([
      {
        apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
        kind: 'KwokConfiguration',
        options: { podPlayStageParallelism: 32, nodePlayStageParallelism: 32, nodeLeaseParallelism: 32 },
      },
    ]);
  });

  it('replaces kwok node stages by a start stage and a refresh every status period', () => {
    const docs = documents(kwokConfiguration(undefined, 300));
    expect(docs.map((d) => [d.kind, (d.metadata as { name: string }).name])).toEqual([
      ['Stage', 'node-up'],
      ['Stage', 'node-status-refresh'],
    ]);
    const [up, refresh] = docs.map((d) => d.spec as StageSpec);
    expect(up!.resourceRef).toEqual({ apiGroup: 'v1', kind: 'Node' });
    expect(up!.selector.matchExpressions[0]?.operator).toBe('NotIn');
    expect(up!.delay).toBeUndefined();
    expect(refresh!.selector.matchExpressions[0]?.operator).toBe('In');
    expect(refresh!.delay).toEqual({ durationMilliseconds: 300_000, jitterDurationMilliseconds: 330_000 });
    // The templates are Go templates kwok renders; each must name the fields a Ready node needs.
    expect(up!.next.statusTemplate).toMatch(/phase: Running/);
    expect(up!.next.statusTemplate).toMatch(/range NodeConditions/);
    expect(refresh!.next.statusTemplate).toMatch(/lastHeartbeatTime: \{\{ Now \| Quote \}\}/);
  });
});
