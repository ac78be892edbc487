import { spawn } from 'node:child_process';
import { accessSync, chmodSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * An executable that stands in for Prisma's schema-engine binary, which cannot be downloaded here. `prisma
 * generate` only checks that it exists; any command that would really run it fails loudly.
 */
export const SCHEMA_ENGINE_PLACEHOLDER = path.resolve(__dirname, '..', 'bin', 'schema-engine-unavailable');

/** What {@link runPrismaGenerate} needs. */
export interface PrismaGenerateOptions {
  /** The service folder; `prisma generate` finds `prisma/schema.prisma` there. */
  cwd: string;
  /** Extra arguments for `prisma generate`, e.g. `['--schema', 'other.prisma']`. */
  args?: string[];
  /** The environment to run Prisma in (the CLI passes its own). */
  env: NodeJS.ProcessEnv;
  /** `inherit` (default) shows Prisma's output; `pipe` captures it into the result. */
  stdio?: 'inherit' | 'pipe';
}

/** How `prisma generate` ended. */
export interface PrismaGenerateResult {
  exitCode: number;
  /** Combined stdout and stderr when `stdio` is `pipe`. */
  output: string;
}

/**
 * Runs the `prisma generate` of the installed `prisma` package (resolved from `cwd`) with
 * `PRISMA_SCHEMA_ENGINE_BINARY` pointing at {@link SCHEMA_ENGINE_PLACEHOLDER} unless already set, and
 * `PRISMA_HIDE_UPDATE_MESSAGE=1`.
 */
export function runPrismaGenerate(options: PrismaGenerateOptions): Promise<PrismaGenerateResult> {
  const { cwd, env, args = [], stdio = 'inherit' } = options;
  const cli = require.resolve('prisma/build/index.js', { paths: [cwd, __dirname] });
  const childEnv: NodeJS.ProcessEnv = { ...env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
  if (!childEnv.PRISMA_SCHEMA_ENGINE_BINARY) childEnv.PRISMA_SCHEMA_ENGINE_BINARY = placeholder();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'generate', ...args], {
      cwd,
      env: childEnv,
      stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), output }));
  });
}

/** The placeholder path, made executable if a copy lost its mode bits. */
function placeholder(): string {
  try {
    accessSync(SCHEMA_ENGINE_PLACEHOLDER, constants.X_OK);
  } catch {
    try {
      chmodSync(SCHEMA_ENGINE_PLACEHOLDER, 0o755);
    } catch {
      // Read-only install: `prisma generate` only needs the file to exist.
    }
  }
  return SCHEMA_ENGINE_PLACEHOLDER;
}
