import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INFRA_DIR } from './processes';

/** The folder the local Prometheus (scripts/infra.sh) reads its targets from (file service discovery). */
const TARGETS = join(INFRA_DIR, 'prometheus', 'targets');

/**
 * Has the local Prometheus scrape `targets` (service name -> host:port) for as long as the run lasts, as Prometheus
 * scrapes a shipped mesh, so the CPU of serving /metrics (and Prometheus's own) is in the figures. Returns the
 * function that stops it, or undefined when no local Prometheus runs.
 */
export function scrapeWhileRunning(job: string, targets: Record<string, string>): (() => void) | undefined {
  if (!existsSync(TARGETS)) return undefined;
  const file = join(TARGETS, `${job}.json`);
  const groups = Object.entries(targets).map(([service, address]) => ({
    targets: [address],
    labels: { job, service },
  }));
  // Written aside, then renamed: Prometheus only reads *.json, so never half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 2));
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}
