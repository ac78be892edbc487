import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { summariseHeapSnapshot } from './heap-summary';

const MB = 2 ** 20;

/** Two objects of one constructor, a string and compiled code: the shape V8 writes, four fields a node. */
const snapshot = {
  snapshot: { meta: { node_fields: ['type', 'name', 'id', 'self_size'], node_types: [['object', 'string', 'code']] } },
  nodes: [0, 0, 1, MB, 0, 0, 2, MB, 1, 1, 3, 2 * MB, 2, 2, 4, MB / 2],
  strings: ['Order', 'a long source text', 'compiled'],
};

describe('summariseHeapSnapshot', () => {
  it('adds self sizes by type and by constructor, strings and code under their type', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'heap-')), 'one.heapsnapshot');
    writeFileSync(file, JSON.stringify(snapshot));
    const summary = summariseHeapSnapshot(file);
    expect(summary.totalMb).toBe(4.5);
    expect(summary.byTypeMb).toEqual({ object: 2, string: 2, code: 0.5 });
    expect(summary.topConstructors).toEqual([
      { name: 'Order', mb: 2, count: 2 },
      { name: '(string)', mb: 2, count: 1 },
      { name: '(code)', mb: 0.5, count: 1 },
    ]);
  });

  it("reads V8's own snapshots", () => {
    const file = writeHeapSnapshot(join(mkdtempSync(join(tmpdir(), 'heap-')), 'real.heapsnapshot'));
    const summary = summariseHeapSnapshot(file, 5);
    expect(summary.totalMb).toBeGreaterThan(1);
    expect(summary.topConstructors).toHaveLength(5);
  });
});
