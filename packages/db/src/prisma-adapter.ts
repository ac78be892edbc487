import { PrismaPg } from '@prisma/adapter-pg';
import { parseDatabaseUrl } from './connection';
import { toPgConfig } from './pg-config';

/** Pool settings for {@link createPrismaAdapter}. */
export interface PrismaAdapterOptions {
  /** Most connections the pool opens (node-postgres default: 10). */
  max?: number;
  /** Shown in `pg_stat_activity.application_name`, e.g. the service name. */
  applicationName?: string;
}

/**
 * The driver adapter a service gives its generated client: `new PrismaClient({ adapter })`. It connects with the
 * host, port, user, password and database of `databaseUrl` and works in the URL's `?schema=` (queries name it, and
 * `search_path` is set to it for raw SQL).
 *
 * @throws DatabaseUrlError when the URL is unusable.
 */
export function createPrismaAdapter(databaseUrl: string, options: PrismaAdapterOptions = {}): PrismaPg {
  const connection = parseDatabaseUrl(databaseUrl);
  const config = toPgConfig(connection);
  if (options.max !== undefined) config.max = options.max;
  if (options.applicationName !== undefined) config.application_name = options.applicationName;
  return new PrismaPg(config, { schema: connection.schema });
}
