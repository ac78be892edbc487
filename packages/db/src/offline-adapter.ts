import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  SqlResultSet,
} from '@prisma/driver-adapter-utils';

/** The PostgreSQL version the offline engine claims (the oldest the project runs on). */
const CLAIMED_VERSION = { text: 'PostgreSQL 15.0', number: 150000 };

/**
 * A driver-adapter factory with no database behind it, for diffing two schema files. The wasm engine insists on
 * connecting at start-up and asks for the server version; that one question is answered here, and anything else
 * fails loudly (a schema-to-schema diff needs nothing else).
 */
export class OfflineAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@flash-sale/db-offline';

  connect(): Promise<SqlDriverAdapter> {
    return Promise.resolve(offlineAdapter());
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return Promise.resolve(offlineAdapter());
  }
}

function offlineAdapter(): SqlDriverAdapter {
  const refuse = (what: string) => Promise.reject(new Error(`offline schema engine: no database for ${what}`));
  return {
    provider: 'postgres',
    adapterName: '@flash-sale/db-offline',
    queryRaw(query: SqlQuery): Promise<SqlResultSet> {
      if (query.sql.includes('server_version_num')) {
        return Promise.resolve({
          columnNames: ['exists', 'version', 'numeric_version'],
          columnTypes: [5, 7, 0], // Boolean, Text, Int32
          rows: [[true, CLAIMED_VERSION.text, CLAIMED_VERSION.number]],
        });
      }
      return refuse(query.sql);
    },
    executeRaw: (query: SqlQuery) => refuse(query.sql),
    executeScript: () => refuse('a script'),
    startTransaction: () => refuse('a transaction'),
    getConnectionInfo: () => ({ supportsRelationJoins: true }),
    dispose: () => Promise.resolve(),
  };
}
