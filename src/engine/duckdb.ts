/**
 * DuckDB lifecycle: one in-memory instance per process (data lives in Parquet files), one
 * connection per activity execution, closed in `finally`. Connections are never shared:
 * a connection runs one statement at a time.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ConfigError } from '../errors';
import { isRemotePath, type S3Settings, s3SecretSql, s3TimeoutSql } from './s3';
import { ownSpillFolder } from './spill-folder';

export interface EngineSettings {
  /** e.g. '4GB'; DuckDB spills to `tempDirectory` beyond it. */
  memoryLimit?: string;
  threads?: number;
  /** The folder each engine spills into a folder of its own in (spill-folder.ts). */
  tempDirectory?: string;
  /**
   * DuckDB's extension folder (ducklake, sqlite, postgres), laid out by
   * scripts/install-duckdb-extensions.sh from the PyPI wheels; DuckDB autoloads from it.
   */
  extensionDirectory?: string;
  /**
   * A PostgreSQL connection string for the DuckLake catalog (from CDCFLOW_CATALOG_URL), when
   * machines share the warehouse; absent: a SQLite file in the warehouse.
   */
  catalogUrl?: string;
  /**
   * Where DuckLake writes data files (CDCFLOW_DATA_PATH), e.g. s3://bucket/prefix; each warehouse
   * gets a folder of its own below it. Absent: the warehouse's `_lake/`.
   */
  dataPath?: string;
  /** S3 credentials and endpoint for an s3:// data path (from the environment). */
  s3?: S3Settings;
}

export interface Session {
  /** Runs a statement that returns nothing of interest. */
  run(sql: string): Promise<void>;
  /** Runs a query with a small result (counts, names) and returns plain JSON rows. */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Fraction (0..100) of the running statement done, -1 when unknown. */
  progress(): number;
  /** Stops the running statement, and those of the siblings open at the time. */
  interrupt(): void;
  /**
   * Runs `fn` on another connection of the same instance (same attached databases), for
   * statements that run beside this session's; closed when `fn` settles.
   */
  withSibling<T>(fn: (sibling: Session) => Promise<T>): Promise<T>;
}

/** Runs a COPY and returns the rows it wrote (DuckDB reports them), sparing a count over the file. */
export async function copyRows(session: Session, copySql: string): Promise<number> {
  const [written] = await session.rows<{ Count: string | number }>(copySql);
  return Number(written.Count);
}

/** The units DuckDB takes in a memory setting, each in its every spelling (`4G`, `4GB`, `4 gigabytes` are alike). */
const UNITS: Record<string, number> = {
  ...spellings(1, 'b', 'byte'),
  ...spellings(1e3, 'k', 'kb', 'kilobyte'),
  ...spellings(1e6, 'm', 'mb', 'megabyte'),
  ...spellings(1e9, 'g', 'gb', 'gigabyte'),
  ...spellings(1e12, 't', 'tb', 'terabyte'),
  ...spellings(2 ** 10, 'kib'),
  ...spellings(2 ** 20, 'mib'),
  ...spellings(2 ** 30, 'gib'),
  ...spellings(2 ** 40, 'tib'),
};

function spellings(bytes: number, ...names: string[]): Record<string, number> {
  // A word unit takes its plural too.
  return Object.fromEntries(names.flatMap((n) => (n.length > 3 ? [n, `${n}s`] : [n])).map((n) => [n, bytes]));
}

/** Bytes of a DuckDB memory setting such as '2GB', '4G' or '512MiB' (undefined if not of that form). */
export function memoryBytes(setting: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(setting);
  const unit = UNITS[(m?.[2] || 'b').toLowerCase()];
  return m && unit ? Number(m[1]) * unit : undefined;
}

/** Below this, an order-keeping copy runs slower than a sort, or runs out of memory. */
const MIN_ORDERED_BYTES = 256 * 2 ** 20;

/**
 * The order-keeping instance's buffers (see withExportSession): a quarter of the main limit,
 * 1 GB without one; none (exports sort on the main instance) when a quarter is under 256 MiB.
 */
export function orderedMemoryLimit(memoryLimit?: string): string | undefined {
  const bytes = memoryLimit ? memoryBytes(memoryLimit) : undefined;
  if (!bytes) return '1GB';
  return bytes / 4 >= MIN_ORDERED_BYTES ? `${Math.floor(bytes / 4 / 2 ** 20)}MiB` : undefined;
}

export class Engine {
  private catalogConnection?: Promise<DuckDBConnection>;
  private catalogQueue: Promise<unknown> = Promise.resolve();
  private ordered?: Promise<DuckDBInstance>;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly settings: EngineSettings,
    readonly catalogUrl?: string,
    readonly dataPath?: string,
  ) {}

  static async create(configured: EngineSettings = {}): Promise<Engine> {
    // Never share a spill folder with another process (spill-folder.ts).
    const settings = configured.tempDirectory ? { ...configured, tempDirectory: ownSpillFolder(configured.tempDirectory) } : configured;
    // Row order is set explicitly (ORDER BY) wherever it matters; this lets DuckDB stream.
    const instance = await createInstance(settings, { preserve_insertion_order: 'false' });
    return new Engine(instance, settings, settings.catalogUrl, settings.dataPath);
  }

  async withSession<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    return withConnection(this.instance, fn);
  }

  /**
   * A session for writing exports of files that are each sorted and read in order. Where the
   * memory limit allows, it is on a second, small instance that keeps the order rows are read
   * in (DuckDB's setting is per instance), so the export comes out sorted without sorting again
   * (`keepsOrder`); otherwise on the main instance, and the export sorts.
   */
  async withExportSession<T>(fn: (session: Session, keepsOrder: boolean) => Promise<T>): Promise<T> {
    const memoryLimit = orderedMemoryLimit(this.settings.memoryLimit);
    if (!memoryLimit) return this.withSession((s) => fn(s, false));
    // Its own spill folder: two instances must not share temporary file names.
    const tempDirectory = this.settings.tempDirectory && path.join(this.settings.tempDirectory, 'ordered');
    this.ordered ??= createInstance({ ...this.settings, memoryLimit, tempDirectory }, { preserve_insertion_order: 'true' });
    return withConnection(await this.ordered, (s) => fn(s, true));
  }

  /**
   * Runs `fn` on the engine's one connection for the DuckLake catalogs, one call at a time.
   * Two connections of one process in one SQLite catalog can wait on each other's SQLite lock
   * until its busy timeout (seen as a stall under concurrent runs), so all catalog work of a
   * process goes through this connection; stage work keeps its own connections.
   */
  withCatalogSession<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    const run = async () => {
      this.catalogConnection ??= this.instance.connect();
      return fn(sessionOf(this.instance, await this.catalogConnection));
    };
    const result = this.catalogQueue.then(run, run);
    this.catalogQueue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.catalogQueue;
    (await this.catalogConnection)?.closeSync();
    (await this.ordered)?.closeSync();
    this.instance.closeSync();
    if (this.settings.tempDirectory) rmSync(this.settings.tempDirectory, { recursive: true, force: true });
  }
}

async function createInstance(settings: EngineSettings, base: Record<string, string>): Promise<DuckDBInstance> {
  const options = { ...base };
  if (settings.memoryLimit) options.memory_limit = settings.memoryLimit;
  if (settings.threads) options.threads = String(settings.threads);
  if (settings.tempDirectory) {
    mkdirSync(settings.tempDirectory, { recursive: true });
    options.temp_directory = settings.tempDirectory;
  }
  if (settings.extensionDirectory) options.extension_directory = settings.extensionDirectory;
  // DuckDB's cache of file blocks takes a file for unchanged while its modification time is: a
  // stage file or chunk written again at its path within the same second was read stale, now and
  // then (the earlier file's rows). Local files are in the OS's page cache anyway.
  options.enable_external_file_cache = 'false';
  const instance = await DuckDBInstance.create(':memory:', options).catch(async (err: unknown) => {
    throw await namingRefusedMemoryLimit(err, settings.memoryLimit);
  });
  // timestamptz text without an offset means UTC, on every machine.
  const connection = await instance.connect();
  await connection.run(`SET GLOBAL TimeZone = 'UTC'`);
  if (settings.dataPath && isRemotePath(settings.dataPath)) {
    await connection.run('LOAD httpfs');
    if (settings.s3) {
      await connection.run(s3SecretSql(settings.s3));
      await connection.run(s3TimeoutSql(settings.s3));
    }
  }
  connection.closeSync();
  return instance;
}

/** DuckDB refuses a setting with no more than "Failed to set config": say so when it is the memory limit it refused. */
async function namingRefusedMemoryLimit(err: unknown, memoryLimit: string | undefined): Promise<unknown> {
  if (memoryLimit === undefined) return err;
  const refused = await DuckDBInstance.create(':memory:', { memory_limit: memoryLimit }).then(
    (probe) => (probe.closeSync(), false),
    () => true,
  );
  if (!refused) return err;
  return new ConfigError(`CDCFLOW_DUCKDB_MEMORY_LIMIT=${memoryLimit} is not an amount of memory DuckDB takes (such as 4GB or 512MiB)`, {}, { cause: err });
}

async function withConnection<T>(instance: DuckDBInstance, fn: (session: Session) => Promise<T>): Promise<T> {
  const connection = await instance.connect();
  try {
    return await fn(sessionOf(instance, connection));
  } finally {
    connection.closeSync();
  }
}

function sessionOf(instance: DuckDBInstance, connection: DuckDBConnection): Session {
  const siblings = new Set<Session>();
  return {
    async run(sql) {
      await connection.run(sql);
    },
    async rows<T>(sql: string) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as T[];
    },
    progress() {
      return connection.progress.percentage;
    },
    interrupt() {
      connection.interrupt();
      for (const sibling of siblings) sibling.interrupt();
    },
    withSibling(fn) {
      return withConnection(instance, async (sibling) => {
        siblings.add(sibling);
        try {
          return await fn(sibling);
        } finally {
          siblings.delete(sibling);
        }
      });
    },
  };
}
