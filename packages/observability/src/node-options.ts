import { setFlagsFromString } from 'node:v8';

/**
 * The node flags every mesh process runs with, defined here once (docs/adr/0020-node-flags-and-the-tracer-provider.md).
 *
 * Heap sizes must be known before V8 starts, so they travel in `NODE_OPTIONS`: the images set this same value in
 * their environment (deploy/test checks the Dockerfile against it), the chart's `config.nodeOptions` replaces it in
 * pods, and the local launchers (`npm start`, the benchmarks, the tests' service processes) pass it to their children
 * ahead of the environment's own `NODE_OPTIONS`, whose flags then win. Fixed sizes, rather than V8's defaults, because
 * V8 sizes the heap from the host's memory, or in a pod from its memory limit: a 24 GiB host gets 64 MB semi-spaces
 * and a 4 GB old generation that is seldom collected, a pod limited to 512 Mi far smaller semi-spaces by V8's rules
 * (docs/performance.md, "Where the memory goes").
 */
export const NODE_OPTIONS = '--max-semi-space-size=16 --max-old-space-size=256';

/**
 * V8 flags node refuses in `NODE_OPTIONS`, set by `@flash-sale/observability/register` before the service is loaded
 * (V8 reads them at each garbage collection, so setting them then has the effect of the command-line flag).
 * `--no-flush-bytecode`: keep the purchase path's compiled code through the quiet minutes before a sale.
 */
export const V8_RUNTIME_FLAGS = ['--no-flush-bytecode'];

/** The `NODE_OPTIONS` of a child process: the mesh's, then whatever the environment already asks for. */
export function nodeOptions(environment: NodeJS.ProcessEnv): string {
  return [NODE_OPTIONS, environment.NODE_OPTIONS?.trim()].filter(Boolean).join(' ');
}

/** Sets V8_RUNTIME_FLAGS, except those the process's own command line sets either way (`--flush-bytecode`). */
export function applyV8RuntimeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const name = (flag: string) =>
    flag
      .replace(/^--(no-)?/, '')
      .replace(/_/g, '-')
      .split('=')[0];
  const given = new Set(execArgv.filter((arg) => arg.startsWith('--')).map(name));
  const applied = V8_RUNTIME_FLAGS.filter((flag) => !given.has(name(flag)));
  for (const flag of applied) setFlagsFromString(flag);
  return applied;
}
