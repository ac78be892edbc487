import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nodeOptions } from '@flash-sale/observability';

const root = join(__dirname, '..', '..', '..');

export interface ServiceProcess {
  readonly pid: number;
  /** Its JSON log, one line per event. */
  readonly logPath: string;
  /** The port the service reported once it listened. */
  readonly port: number;
  /** Sends a signal (SIGKILL to crash it, SIGTERM to stop it gracefully) and waits until the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface ServiceProcessOptions {
  timeoutMs?: number;
  /** The log message that says the process listens (its line carries `port`); gRPC services by default. */
  listening?: string;
  /** Modules loaded before the entry, as `node --require` does (e.g. OpenTelemetry's register). */
  preload?: string[];
  /** Its LOG_LEVEL; `info` by default, whatever the environment says (tests read the lines it logs). */
  logLevel?: 'info' | 'debug';
}

/**
 * Starts a service in its own process, straight from its TypeScript sources (tsx with tsconfig.source.json), and
 * resolves once it logs that its gRPC server listens. Its JSON logs go to `.cache/test-logs/<name>-<pid>.log`.
 * For tests that kill a service: an in-process service cannot be SIGKILLed.
 */
export async function startServiceProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const { timeoutMs = 60_000, listening = 'grpc server listening', preload = [], logLevel = 'info' } = options;
  const logs = join(root, '.cache', 'test-logs');
  mkdirSync(logs, { recursive: true });
  // tsx's CommonJS hook first, so that the preloaded modules and the entry may be TypeScript.
  const requires = [require.resolve('tsx/cjs'), ...preload].flatMap((module) => ['--require', module]);
  const child = spawn(process.execPath, [...requires, entry], {
    cwd: root,
    env: {
      ...process.env,
      // The node flags the images run with (ahead of the test's own NODE_OPTIONS, which win).
      NODE_OPTIONS: nodeOptions(process.env),
      ...env,
      LOG_LEVEL: logLevel,
      TSX_TSCONFIG_PATH: join(root, 'tsconfig.source.json'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logs, `${name}-${child.pid}.log`));
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it listened; see ${log.path}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.write(`${line}\n`);
      if (!line.includes(listening)) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return {
    pid: child.pid!,
    logPath: String(log.path),
    port,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      log.end();
    },
  };
}
