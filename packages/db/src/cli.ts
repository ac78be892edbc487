#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { applyMigrations } from './apply-migrations';
import { parseDatabaseUrl, type DbConnection } from './connection';
import { runPrismaGenerate } from './generate';
import type { DbLogger } from './logger';
import { createMigration, MIGRATIONS_DIR, SCHEMA_FILE } from './new-migration';
import { resolveMigration } from './resolve-migration';

const USAGE = `Usage (run in a service folder, e.g. services/order):
  flash-db generate [prisma generate options]   generate the Prisma client, no engine download needed
  flash-db migrate                              apply prisma/migrations to DATABASE_URL (with ?schema=;
                                                DATABASE_PASSWORD, when set, is its password)
  flash-db new-migration [service] <name>       write prisma/migrations/<timestamp>_<name>/migration.sql
                                                from the change of prisma/schema.prisma since git HEAD
  flash-db resolve --rolled-back|--applied <migration>
                                                mark a failed migration, like prisma migrate resolve
Set FLASH_DB_DEBUG=1 to see the schema engine's own log.`;

/** Writes one line a message to stderr, with its fields as key=value. */
const consoleLogger: DbLogger = {
  debug: (fields, message) => {
    if (process.env.FLASH_DB_DEBUG) print(message, fields);
  },
  info: (fields, message) => print(message, fields),
  warn: (fields, message) => print(`warning: ${message}`, fields),
};

function print(message: string, fields: object): void {
  const pairs = Object.entries(fields).map(
    ([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  process.stderr.write(`flash-db: ${message}${pairs.length ? ` (${pairs.join(', ')})` : ''}\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const cwd = process.cwd();
  switch (command) {
    case 'generate':
      return (await runPrismaGenerate({ cwd, args: rest, env: process.env })).exitCode;
    case 'migrate': {
      const { applied } = await applyMigrations({
        migrationsDir: path.join(cwd, MIGRATIONS_DIR),
        connection: databaseConnection(),
        logger: consoleLogger,
      });
      for (const name of applied) process.stdout.write(`${name}\n`);
      return 0;
    }
    case 'new-migration': {
      if (rest.length < 1 || rest.length > 2) return usage('new-migration needs a name');
      const [service, name] = rest.length === 2 ? rest : [undefined, rest[0]];
      const { migrationDir } = await createMigration({
        serviceDir: service === undefined ? cwd : serviceFolder(cwd, service),
        name: name ?? '',
        logger: consoleLogger,
      });
      process.stdout.write(
        migrationDir === null ? 'no changes\n' : `${path.relative(cwd, migrationDir) || migrationDir}\n`,
      );
      return 0;
    }
    case 'resolve': {
      const [flag, migrationName] = rest;
      if ((flag !== '--rolled-back' && flag !== '--applied') || !migrationName) {
        return usage('resolve needs --rolled-back <migration> or --applied <migration>');
      }
      await resolveMigration({
        migrationsDir: path.join(cwd, MIGRATIONS_DIR),
        connection: databaseConnection(),
        migrationName,
        as: flag === '--applied' ? 'applied' : 'rolled-back',
        logger: consoleLogger,
      });
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      return usage(`unknown command ${JSON.stringify(command)}`);
  }
}

/** `service` as a folder: a path holding prisma/schema.prisma, else services/<service> of the git work tree. */
function serviceFolder(cwd: string, service: string): string {
  const direct = path.resolve(cwd, service);
  if (existsSync(path.join(direct, SCHEMA_FILE))) return direct;
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8' }).trim();
  const candidate = path.join(root, 'services', service);
  if (existsSync(path.join(candidate, SCHEMA_FILE))) return candidate;
  throw new Error(`No ${SCHEMA_FILE} in ${direct} or ${candidate}`);
}

/** DATABASE_URL's connection, with DATABASE_PASSWORD as its password when set (as the services read them). */
function databaseConnection(): DbConnection {
  const connection = parseDatabaseUrl(requireEnv('DATABASE_URL'));
  const password = process.env.DATABASE_PASSWORD;
  return password ? { ...connection, password } : connection;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function usage(problem: string): number {
  process.stderr.write(`flash-db: ${problem}\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`flash-db: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
