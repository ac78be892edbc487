/**
 * `node --expose-gc bench/module-cost.js <module>...`: what requiring each module (in order) adds to the V8 heap,
 * external memory and RSS of a fresh process, after a full GC; the libraries a service loads, one by one.
 * Prints one JSON line per module. Figures, not a test.
 */
'use strict';
const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
const measure = () => {
  global.gc();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external };
};
let before = measure();
for (const name of process.argv.slice(2)) {
  const start = process.hrtime.bigint();
  require(require.resolve(name, { paths: [process.cwd()] }));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const after = measure();
  const delta = Object.fromEntries(Object.keys(after).map((key) => [key, mb(after[key] - before[key])]));
  console.log(JSON.stringify({ module: name, requireMs: Math.round(ms), addsMb: delta, totalRssMb: mb(after.rss) }));
  before = after;
}
