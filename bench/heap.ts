/**
 * What a V8 heap snapshot holds, by kind: the self size of every node summed by its
 * constructor (objects and native objects) or by its type in parentheses (compiled code,
 * strings, arrays, closures...), as the Summary view of Chrome's DevTools groups them.
 * `node dist/bench/heap.js FILE.heapsnapshot [top]` prints the largest groups.
 */
import { readFileSync } from 'node:fs';

/** The parts of the snapshot format (`.heapsnapshot`, JSON) read here. */
interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly unknown[] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

/** One group of the summary. */
export interface HeapGroup {
  readonly name: string;
  readonly count: number;
  readonly bytes: number;
}

/** Sums self sizes by group, largest first; the total of every node beside them. */
export function summarise(s: Snapshot): { total: number; groups: HeapGroup[] } {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0] as readonly string[];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const groups = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const type = types[s.nodes[i + typeAt] ?? 0] ?? '?';
    const size = s.nodes[i + sizeAt] ?? 0;
    const name = type === 'object' || type === 'native' ? (s.strings[s.nodes[i + nameAt] ?? 0] ?? '?') : `(${type})`;
    const g = groups.get(name) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += size;
    groups.set(name, g);
    total += size;
  }
  return { total, groups: [...groups].map(([name, g]) => ({ name, ...g })).sort((a, b) => b.bytes - a.bytes) };
}

/** The summary of a snapshot file as text lines, the `top` largest groups. */
export function heapSummary(file: string, top = 12): string[] {
  const { total, groups } = summarise(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  return [
    `${mib(total)} MiB in the heap snapshot (self sizes)`,
    ...groups.slice(0, top).map((g) => `  ${mib(g.bytes).padStart(6)} MiB  ${String(g.count).padStart(8)}  ${g.name.slice(0, 80)}`),
  ];
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: node dist/bench/heap.js FILE.heapsnapshot [top]');
  process.stdout.write(`${heapSummary(file, Number(top ?? 12)).join('\n')}\n`);
}
