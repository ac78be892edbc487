/**
 * `npm run bench:model -- [report ...] [--buyers 1000000] [--seconds 10] [--units 100000]`: sizes a sale from the
 * CPU costs the bench measured (docs/performance.md "Sizing a sale: the cost model"). Reports are
 * bench/results/<date>.json files or a <date>-median.json (its runs are read); each process's cost is the median over
 * them. Without reports: the latest median.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sizeSale, type MeasuredCosts } from './lib/cost-model';
import type { Report } from './lib/report';
import { root } from './lib/processes';
import { median } from './lib/targets';

const dir = join(root, 'bench', 'results');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    buyers: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '10' },
    units: { type: 'string', default: '100000' },
  },
});

function reports(files: string[]): Report[] {
  const latest = readdirSync(dir)
    .filter((name) => name.endsWith('-median.json'))
    .sort()
    .at(-1);
  const chosen = files.length ? files : latest ? [join(dir, latest)] : [];
  if (!chosen.length) throw new Error('no bench reports: run npm run bench first, or name report files');
  return chosen.flatMap((file) => {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Report | { runs: string[] };
    if ('runs' in data)
      return data.runs.map((run) => JSON.parse(readFileSync(join(dir, `${run}.json`), 'utf8')) as Report);
    return [data];
  });
}

/** Each process's median cost over the runs that measured it. */
function medians(runs: Record<string, number>[]): Record<string, number> {
  const names = [...new Set(runs.flatMap((run) => Object.keys(run)))];
  return Object.fromEntries(names.map((name) => [name, median(runs.flatMap((run) => run[name] ?? []))!]));
}

const runs = reports(positionals);
const costs: MeasuredCosts = {
  purchase: medians(runs.map((run) => run.cpuMsPerPurchase)),
  refusal: medians(runs.flatMap((run) => (run.cpuMsPerRefusal ? [run.cpuMsPerRefusal] : []))),
  reservesPerRedisCore: median(runs.map((run) => run.ceilings.rawEvalsha.perSecond))!,
};
const sale = { buyers: Number(values.buyers), seconds: Number(values.seconds), units: Number(values.units) };
const sizing = sizeSale(sale, costs);
console.log(`${runs.length} runs; costs (median ms per purchase / per refusal):`);
for (const name of Object.keys(sizing.cores)) {
  console.log(`  ${name}: ${costs.purchase[name] ?? '-'} / ${costs.refusal[name] ?? '-'}`);
}
console.log(`reserve scripts per Redis core: ${costs.reservesPerRedisCore}`);
console.log(JSON.stringify({ sale, ...sizing }, null, 2));
