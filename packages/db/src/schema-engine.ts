import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm' with { 'resolution-mode': 'import' };
import { errorMessage } from './errors';
import type { DbLogger } from './logger';

type SchemaEngineBindings = typeof import('@prisma/schema-engine-wasm/schema_engine_bg', {
  with: { 'resolution-mode': 'import' },
});
type AdapterUtils = typeof import('@prisma/driver-adapter-utils');

/** The engine's JS glue, and the binder that must come from the same JavaScript realm (see {@link nodeLoader}). */
interface Loaded {
  bg: SchemaEngineBindings;
  bindMigrationAwareSqlAdapterFactory: AdapterUtils['bindMigrationAwareSqlAdapterFactory'];
}

/** The empty filter: this project keeps no externally managed tables or enums. */
export const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** The part of the WebAssembly global used here (this project's `lib` settings do not declare it). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: object } }>;
}

let loaded: Promise<Loaded> | undefined;

/** Where the instantiation is remembered: on the engine class itself, which exists once per process. */
const INSTANTIATED = Symbol.for('@flash-sale/db: schema engine wasm instantiated');

/**
 * Loads `@prisma/schema-engine-wasm` once per process. The wasm module keeps one global instance, so it must never
 * be instantiated twice: instantiating it again would hand callbacks of the old instance (its timers) to the new
 * one. The promise is kept on the glue module's `SchemaEngine` class rather than in this module, because test
 * runners may evaluate this module several times in one process while Node keeps one glue module.
 */
function load(): Promise<Loaded> {
  loaded ??= (async () => {
    const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const loadModule = nodeLoader(bgPath);
    const bg = loadModule(bgPath) as SchemaEngineBindings;
    const { bindMigrationAwareSqlAdapterFactory } = loadModule(
      require.resolve('@prisma/driver-adapter-utils'),
    ) as AdapterUtils;
    const holder = bg.SchemaEngine as unknown as { [INSTANTIATED]?: Promise<void> };
    holder[INSTANTIATED] ??= instantiate(bg, bgPath).catch((error: unknown) => {
      delete holder[INSTANTIATED];
      throw error;
    });
    await holder[INSTANTIATED];
    return { bg, bindMigrationAwareSqlAdapterFactory };
  })();
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

async function instantiate(bg: SchemaEngineBindings, bgPath: string): Promise<void> {
  const bytes = await readFile(path.join(path.dirname(bgPath), 'schema_engine_bg.wasm'));
  const { WebAssembly } = globalThis as unknown as { WebAssembly: WasmApi };
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': withUnrefTimers(bg) });
  const exports = instance.exports as { __wbindgen_start?: () => void };
  bg.__wbg_set_wasm(exports);
  exports.__wbindgen_start?.();
}

/**
 * How to load the engine's ES module glue synchronously. Node >= 20.19 `require`s ESM without top-level await, so
 * in production that is plain `require`. Jest's sandbox replaces `require` (and `module.createRequire`) with its
 * own, which refuse ESM (and `import()` there needs `--experimental-vm-modules`); Node's own loader,
 * `Module._load`, still works there. The glue then lives in Node's realm, not the sandbox's, and checks
 * `x instanceof Promise` against that realm: the driver-adapter binder, whose async wrappers produce the promises
 * the engine receives, is loaded the same way for that reason.
 */
function nodeLoader(probe: string): (file: string) => unknown {
  try {
    require(probe);
    return (file) => require(file) as unknown;
  } catch (error) {
    const { _load } = process.getBuiltinModule('node:module') as unknown as {
      _load?: (request: string, parent: null, isMain: boolean) => unknown;
    };
    if (typeof _load !== 'function') throw error;
    return (file) => _load(file, null, false);
  }
}

/**
 * The engine arms `setTimeout`s it never clears (they would hold a finished CLI process open for ~10 s). Its
 * timers are unref'd here; {@link withSchemaEngine} keeps the process alive while a call runs instead.
 */
function withUnrefTimers(bg: SchemaEngineBindings): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...bg };
  for (const [name, value] of Object.entries(bg)) {
    if (name.startsWith('__wbg_setTimeout_') && typeof value === 'function') {
      const original = value as (...args: unknown[]) => unknown;
      imports[name] = (...args: unknown[]) => {
        const timer = original(...args);
        (timer as { unref?: () => void } | undefined)?.unref?.();
        return timer;
      };
    }
  }
  return imports;
}

/**
 * Runs `work` with a fresh wasm schema engine on top of `factory`, then frees the engine. Errors the adapter threw
 * (which the engine only knows as "External error id#N") are put back into the thrown error's message.
 */
export async function withSchemaEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  logger: DbLogger,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { bg, bindMigrationAwareSqlAdapterFactory } = await load();
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  const keepAlive = setInterval(() => undefined, 60_000);
  let engine: SchemaEngine | undefined;
  try {
    engine = await bg.SchemaEngine.new({ datamodels: undefined }, (line: string) => forwardLog(logger, line), bound);
    return await work(engine);
  } catch (error) {
    throw restoreExternalError(error, bound.errorRegistry);
  } finally {
    engine?.free();
    clearInterval(keepAlive);
  }
}

function restoreExternalError(error: unknown, registry: { consumeError(id: number): { error: unknown } | undefined }) {
  const message = errorMessage(error);
  const match = /External error id#(\d+)/.exec(message);
  const original = match ? registry.consumeError(Number(match[1]))?.error : undefined;
  if (original === undefined) return error;
  return new Error(message.replace(/External error id#\d+/, errorMessage(original)), { cause: original });
}

interface EngineLogLine {
  level?: string;
  fields?: { message?: string; script?: string } & Record<string, unknown>;
  span?: Record<string, unknown>;
}

function forwardLog(logger: DbLogger, line: string): void {
  let parsed: EngineLogLine;
  try {
    parsed = JSON.parse(line) as EngineLogLine;
  } catch {
    logger.debug({ engine: line.trim() }, 'schema engine');
    return;
  }
  const { message = 'schema engine', script: _script, ...fields } = parsed.fields ?? {};
  const entry = { ...fields, ...(parsed.span ? { span: parsed.span } : {}) };
  if (parsed.level === 'WARN' || parsed.level === 'ERROR') logger.warn(entry, message);
  else logger.debug(entry, message);
}
