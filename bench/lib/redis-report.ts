/** The Markdown page of `bench/redis-latency.ts`: one row per phase, then each phase's slowest commands. */
export interface Phase {
  name: string;
  wallMs: number;
  client: Record<string, unknown>;
  worstUs: number;
  slowlog: { us: number; command: string }[];
  latency: { latest: { event: string; maxMs: number }[]; history: Record<string, [number, number][]> };
}

interface Report {
  at: string;
  machine: unknown;
  redis?: string;
  lazyfreeLazyExpire?: string;
  reservations: number;
  slowlogThresholdUs: number;
  worst: { phase: string; ms: number; command?: string };
  phases: Phase[];
}

const fmt = (us: number) => (us / 1000).toFixed(2);

export function markdown(r: Report): string {
  const lines = [
    `# Redis latency at ${r.reservations.toLocaleString('en')} reservations (${r.at})`,
    '',
    `Redis ${r.redis}, lazyfree-lazy-expire ${r.lazyfreeLazyExpire}, slow log from ${r.slowlogThresholdUs} µs, latency monitor from 1 ms.`,
    `Machine: \`${JSON.stringify(r.machine)}\``,
    '',
    `**Worst: ${r.worst.ms} ms**, ${r.worst.phase}: \`${r.worst.command ?? '(no command)'}\``,
    '',
    '| phase | worst in Redis (ms) | latency events (max ms) | client round trips | wall ms |',
    '|---|---|---|---|---|',
    ...r.phases.map(
      (p) =>
        `| ${p.name} | ${fmt(p.worstUs)} | ${p.latency.latest.map((e) => `${e.event} ${e.maxMs}`).join(', ') || '-'} | \`${JSON.stringify(p.client)}\` | ${p.wallMs} |`,
    ),
    '',
    '## Slowest commands per phase (SLOWLOG)',
    '',
  ];
  for (const p of r.phases.filter((x) => x.slowlog.length > 0)) {
    lines.push(`- ${p.name}: ${p.slowlog.map((s) => `${fmt(s.us)} ms \`${s.command}\``).join('; ')}`);
  }
  return lines.join('\n') + '\n';
}
