import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueSuffix, waitFor, type WaitOptions } from './index';

const root = join(__dirname, '..', '..', '..');
/** The rules file the local Prometheus and the chart share. */
export const PROMETHEUS_RULES = join(root, 'deploy/helm/flash-sale/files/prometheus/rules.yaml');

export interface ScrapeTarget {
  /** host:port */
  address: string;
  /** Target labels, e.g. `service`; `__metrics_path__` changes the path from /metrics. */
  labels?: Record<string, string>;
}

/** One series of an instant query's answer. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** Stops scraping: deletes the target file. `job` is the label every target of the file carries. */
export type Scrape = (() => Promise<void>) & { job: string };

export interface Prometheus {
  url: string;
  /**
   * Writes a target file of its own (file service discovery) naming `targets`, all with the job label
   * `<name>-<random>`, so that nothing else scraped shares it; the returned function deletes the file again.
   */
  scrape(name: string, targets: ScrapeTarget[]): Promise<Scrape>;
  /** An instant query, now. */
  query(expr: string): Promise<Sample[]>;
  /** Queries `expr` until `predicate` holds for its answer; returns that answer. */
  waitFor(expr: string, predicate: (samples: Sample[]) => boolean, options?: WaitOptions): Promise<Sample[]>;
}

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

function client(url: string, targetsDir: () => Promise<string>): Prometheus {
  const query = async (expr: string): Promise<Sample[]> => {
    const reply = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const answer = (await reply.json()) as QueryAnswer;
    if (answer.status !== 'success' || !answer.data) throw new Error(`query ${expr}: ${answer.error ?? reply.status}`);
    const { resultType, result } = answer.data;
    if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
    if (resultType !== 'vector') throw new Error(`query ${expr}: a ${resultType}, not an instant vector`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((series) => ({
      metric: series.metric,
      value: Number(series.value[1]),
    }));
  };
  return {
    url,
    query,
    async scrape(name, targets) {
      const job = `${name}-${uniqueSuffix()}`;
      const dir = await targetsDir();
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${job}.json`);
      const groups = targets.map(({ address, labels = {} }) => ({ targets: [address], labels: { ...labels, job } }));
      // Written aside, then renamed: Prometheus never reads half a file (it only watches *.json).
      writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 2));
      renameSync(`${file}.tmp`, file);
      return Object.assign(async () => rmSync(file, { force: true }), { job });
    },
    waitFor: (expr, predicate, options = {}) =>
      waitFor(
        async () => {
          const samples = await query(expr);
          return predicate(samples) ? samples : undefined;
        },
        { intervalMs: 500, what: `Prometheus to answer ${expr} as expected`, ...options },
      ),
  };
}

/**
 * Where the Prometheus at `url` reads its targets: the folder of its file service discovery (asked from its own
 * configuration, so tests follow whichever checkout started it), else this checkout's .infra/prometheus/targets.
 */
async function discoverTargetsDir(url: string): Promise<string> {
  try {
    const answer = (await (await fetch(`${url}/api/v1/status/config`)).json()) as { data?: { yaml?: string } };
    const pattern = /files:\s*\n\s*-\s*["']?([^\s"']+)\/\*\.json/.exec(answer.data?.yaml ?? '');
    if (pattern) return pattern[1]!;
  } catch {
    // Not running yet: the tests' own waits say so.
  }
  return join(root, '.infra', 'prometheus', 'targets');
}

const sharedUrl = process.env.PROMETHEUS_URL ?? `http://127.0.0.1:${process.env.PROMETHEUS_PORT ?? 9091}`;
let sharedTargets: Promise<string> | undefined;

/**
 * The local Prometheus `scripts/infra.sh up` starts (PROMETHEUS_URL, else 127.0.0.1:PROMETHEUS_PORT, 9091): scrapes
 * and evaluates the shipped rules every second. Shared by every test and `npm start`: give targets unique names.
 */
export const prometheus: Prometheus = client(sharedUrl, () => (sharedTargets ??= discoverTargetsDir(sharedUrl)));

export interface PrivatePrometheusOptions {
  /** A rules file to evaluate (e.g. PROMETHEUS_RULES); none by default. */
  rules?: string;
  /**
   * Replaces the `for:` of every alert in `rules` (e.g. `2s`), the only change made to the file, so an alert can
   * fire within a test.
   */
  alertsFor?: string;
}

export interface PrivatePrometheus extends Prometheus {
  /** Stops the process and deletes its data. */
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * A Prometheus of the test's own (Debian's binary, a free port, data in a temporary folder), scraping and evaluating
 * every second: what it sees comes only from the targets the test names, and rules changed for the test never reach
 * the shared one.
 */
export async function startPrometheus(options: PrivatePrometheusOptions = {}): Promise<PrivatePrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const targets = join(dir, 'targets');
  mkdirSync(targets);
  let ruleFiles = '';
  if (options.rules) {
    let text = readFileSync(options.rules, 'utf8');
    if (options.alertsFor) text = text.replace(/^(\s+)for: \S+$/gm, `$1for: ${options.alertsFor}`);
    writeFileSync(join(dir, 'rules.yaml'), text);
    ruleFiles = `rule_files: ['${join(dir, 'rules.yaml')}']\n`;
  }
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }\n${ruleFiles}` +
      `scrape_configs:\n  - job_name: test\n    honor_labels: true\n` +
      `    file_sd_configs: [{ files: ['${targets}/*.json'], refresh_interval: 1s }]\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${log}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      { what: `a private Prometheus on ${url}`, timeoutMs: 20_000, intervalMs: 100 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { ...client(url, async () => targets), stop };
}
