/**
 * The logging surface `@flash-sale/db` writes to. A pino logger fits it as it is; the default is silent.
 */
export interface DbLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** A logger that drops everything: the default when the caller passes none. */
export const silentLogger: DbLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
