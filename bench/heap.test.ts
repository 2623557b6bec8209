import { describe, expect, it } from 'vitest';
import { summarise } from './heap.js';

describe('heap snapshot summary', () => {
  it('sums self sizes by constructor for objects and by type for the rest, largest first', () => {
    const fields = ['type', 'name', 'id', 'self_size', 'edge_count'];
    const types = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'native'];
    const strings = ['', 'Informer', 'Map', 'source text'];
    const node = (type: string, name: number, size: number) => [types.indexOf(type), name, 0, size, 0];
    const snapshot = {
      snapshot: { meta: { node_fields: fields, node_types: [types] } },
      strings,
      nodes: [
        ...node('object', 1, 100),
        ...node('object', 1, 50),
        ...node('object', 2, 400),
        ...node('code', 0, 300),
        ...node('string', 3, 120),
        ...node('string', 3, 80),
      ],
    };
    const { total, groups } = summarise(snapshot);
    expect(total).toBe(1050);
    expect(groups).toEqual([
      { name: 'Map', count: 1, bytes: 400 },
      { name: '(code)', count: 1, bytes: 300 },
      { name: '(string)', count: 2, bytes: 200 },
      { name: 'Informer', count: 2, bytes: 150 },
    ]);
  });
});
