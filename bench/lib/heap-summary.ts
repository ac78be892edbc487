import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 100) / 100;

/**
 * A V8 heap snapshot's self sizes by node type and by constructor (the largest `top`), in MB: enough to tell the
 * compiled code and source strings of the loaded modules from the objects the libraries keep.
 */
export function summariseHeapSnapshot(file: string, top = 25) {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const byType = new Map<string, number>();
  const byName = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt!]!]!;
    const size = heap.nodes[i + sizeAt!]!;
    total += size;
    byType.set(type, (byType.get(type) ?? 0) + size);
    // Strings and code are grouped by type; their names are their contents.
    const name = type === 'object' || type === 'closure' ? heap.strings[heap.nodes[i + nameAt!]!]! : `(${type})`;
    const one = byName.get(name) ?? { bytes: 0, count: 0 };
    one.bytes += size;
    one.count += 1;
    byName.set(name, one);
  }
  return {
    totalMb: mb(total),
    byTypeMb: Object.fromEntries([...byType].sort((a, b) => b[1] - a[1]).map(([type, bytes]) => [type, mb(bytes)])),
    topConstructors: [...byName]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([name, one]) => ({ name, mb: mb(one.bytes), count: one.count })),
  };
}
