// Sums a V8 heap snapshot's self sizes by node type and by constructor: where the live heap goes.
// A snapshot of a forwarder process: run it with --heapsnapshot-signal=SIGUSR2 (BENCH_NODE_FLAGS), send
// it SIGUSR2 at steady state (V8 collects garbage first, so the snapshot holds only live objects),
// then: node bench/heap-summary.mjs Heap.*.heapsnapshot
import { readFileSync } from 'node:fs';
const snap = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { node_fields, node_types } = snap.snapshot.meta;
const F = node_fields.length;
const typeIdx = node_fields.indexOf('type'), nameIdx = node_fields.indexOf('name'), sizeIdx = node_fields.indexOf('self_size');
const types = node_types[0];
const nodes = snap.nodes, strings = snap.strings;
const byType = new Map(), byName = new Map();
let total = 0;
for (let i = 0; i < nodes.length; i += F) {
  const type = types[nodes[i + typeIdx]];
  const size = nodes[i + sizeIdx];
  total += size;
  byType.set(type, (byType.get(type) ?? 0) + size);
  let name = strings[nodes[i + nameIdx]];
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
  if (type === 'code') name = '(code) ' + (name.length > 40 ? '' : name);
  if (type === 'closure') name = '(closure)';
  const key = `${type}: ${name.slice(0, 80)}`;
  const e = byName.get(key) ?? { size: 0, count: 0 };
  e.size += size; e.count += 1; byName.set(key, e);
}
const mb = (b) => (b / 2 ** 20).toFixed(1);
console.log('total self size', mb(total), 'MB');
console.log([...byType].sort((a, b) => b[1] - a[1]).map(([t, s]) => `${t}\t${mb(s)}`).join('\n'));
console.log('---');
console.log([...byName].sort((a, b) => b[1].size - a[1].size).slice(0, 40).map(([k, e]) => `${mb(e.size)}\t${e.count}\t${k}`).join('\n'));
