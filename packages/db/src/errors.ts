/** A `DATABASE_URL` (or connection object) that cannot be used; the message never contains the password. */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

/**
 * A migration run that failed. `migrationName` is the migration whose SQL failed, when one did (it is then recorded
 * as failed in `_prisma_migrations`, and the earlier ones stay applied).
 */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    message: string,
    readonly migrationName: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The message of anything thrown. Checks the shape, not `instanceof Error`: the schema engine's errors come from
 * another JavaScript realm under Jest.
 */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
