import { DatabaseUrlError } from './errors';

/** Where a service's tables live: one PostgreSQL database, one schema, one role. */
export interface DbConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  /** The PostgreSQL schema the service owns (`?schema=` in the URL); `public` when the URL names none. */
  schema: string;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Throws a {@link DatabaseUrlError} unless `schema` is a plain identifier (letters, digits, `_`, at most 63
 * characters), so it can be quoted safely into `search_path` and lock keys.
 */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new DatabaseUrlError(
      `Invalid schema name ${JSON.stringify(schema)}: use letters, digits and "_" (at most 63, not starting with a digit)`,
    );
  }
}

/** `url` with its password replaced by `***`, for error messages and logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, '$1:***@');
}

/**
 * Parses `postgresql://user:password@host:port/database?schema=name` (or `postgres://`) into a
 * {@link DbConnection}. User and password may be percent-encoded; the port defaults to 5432 and the schema to
 * `public`. Other query parameters are ignored.
 *
 * @throws DatabaseUrlError when the URL is malformed or misses the user, host or database.
 */
export function parseDatabaseUrl(url: string): DbConnection {
  const shown = redactDatabaseUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError(`DATABASE_URL is not a valid URL: ${JSON.stringify(shown)}`);
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new DatabaseUrlError(
      `DATABASE_URL must start with postgresql:// (or postgres://), got ${JSON.stringify(parsed.protocol)} in ${shown}`,
    );
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new DatabaseUrlError(`DATABASE_URL has no host: ${shown}`);
  const user = decode(parsed.username, 'user', shown);
  if (user === '') throw new DatabaseUrlError(`DATABASE_URL has no user: ${shown}`);
  const database = decode(parsed.pathname.replace(/^\//, ''), 'database', shown);
  if (database === '' || database.includes('/')) {
    throw new DatabaseUrlError(
      `DATABASE_URL must name one database, as in postgresql://user@host:5432/flashsale: ${shown}`,
    );
  }
  const port = parsed.port === '' ? 5432 : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DatabaseUrlError(`DATABASE_URL has an invalid port: ${shown}`);
  }
  const schema = parsed.searchParams.get('schema') ?? 'public';
  assertSchemaName(schema);
  const connection: DbConnection = { host, port, user, database, schema };
  if (parsed.password !== '') connection.password = decode(parsed.password, 'password', shown);
  return connection;
}

function decode(value: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new DatabaseUrlError(`DATABASE_URL has a badly percent-encoded ${what}: ${shown}`);
  }
}
