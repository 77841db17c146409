/**
 * The DuckLake catalog that holds every table's committed state: one per warehouse, a SQLite
 * file that the worker processes of one machine share (DuckLake's documented choice for
 * several local clients; in WAL mode, see sqlite-catalog.ts), or a PostgreSQL database
 * (CDCFLOW_CATALOG_URL) when machines share the warehouse; data files under the warehouse's
 * `_lake/`. Each dataset is a schema;
 * each configured table is four DuckLake tables:
 *
 *   <table>__current   the current state (what later dates diff against, by time travel;
 *                      a large one is replaced by dropping and creating the table, see DROP_STATE_ROWS)
 *   <table>__history   the net changes of every committed date (EFF_START_DATE = the date)
 *   <table>__commits   the commit log: one row per committed business date
 *   <table>__head      one row, replaced by every commit: it makes two commits on one base
 *                      always conflict, even when both only insert
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Engine, Session } from '../engine/duckdb';
import { type Bucket, bucketLabel } from '../engine/key-buckets';
import { isRemotePath } from '../engine/s3';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { ConfigError } from '../errors';
import { type CatalogDatabase, type CatalogIdentity, checkCatalogIdentity } from './catalog-identity';
import { catalogConnection, holdingCatalog, queuedForCatalog } from './catalog-waits';
import { claimDataFolder } from './data-folder';
import { assertIsoDate, assertPathName, isIsoDate } from './layout';
import { createWalCatalog } from './sqlite-catalog';

export interface LakeTables {
  /** The attached catalog's alias (quoted, as are the names below). */
  alias: string;
  /** The same names unquoted, as DuckLake's table functions take them. */
  names: { catalog: string; schema: string; current: string; history: string };
  schema: string;
  current: string;
  history: string;
  commits: string;
  head: string;
}

export function catalogAlias(warehouse: string, catalogUrl?: string): string {
  return `lake_${createHash('sha256').update(JSON.stringify([warehouse, catalogUrl ?? null])).digest('hex').slice(0, 12)}`;
}

/**
 * The schema that holds a warehouse's catalog tables in a PostgreSQL catalog database: one per
 * warehouse path, so one database can serve several warehouses (every worker must then see a
 * warehouse at the same path).
 */
function postgresMetadataSchema(warehouse: string): string {
  return `cdcflow_${createHash('sha256').update(warehouse).digest('hex').slice(0, 12)}`;
}

function catalogPath(warehouse: string): string {
  return path.join(warehouse, 'catalog.sqlite');
}

/** The warehouse's `_lake/`, or its own folder under a shared data path (CDCFLOW_DATA_PATH, e.g. on S3). */
function dataPath(warehouse: string, base?: string): string {
  if (!base) return path.join(warehouse, '_lake') + path.sep;
  return `${base.replace(/\/+$/, '')}/${postgresMetadataSchema(warehouse)}/`;
}

/**
 * Where a commit's own files go: in the catalog's data folder (`base`: the shared data path, if
 * any), where DuckLake keeps the table's files, so that vacuum's orphan sweep also removes the
 * files of a commit that failed. A run of several key-hash buckets has one file per bucket.
 * History files go in their date's folder (historyLakeFolder).
 */
export function lakeDataFile(
  warehouse: string,
  base: string | undefined,
  dataset: string,
  table: string,
  part: 'current' | 'history' | 'order',
  commit: { commitId: string; businessDate: string },
  bucket?: Bucket,
): string {
  const folder = `${dataPath(warehouse, base)}${assertPathName(dataset)}/${assertPathName(table)}__${part}/`;
  return `${folder}${part === 'history' ? `${historyLakeFolder(commit.businessDate)}/` : ''}${commitFileName(commit.commitId, bucket)}`;
}

const HISTORY_FOLDER_PREFIX = 'EFF_START_DATE=';

/**
 * The folder of a date's history files: a Hive partition of EFF_START_DATE, from which
 * `ducklake_add_data_files` takes the column's value, so the files need not hold it.
 */
export function historyLakeFolder(businessDate: string): string {
  return `${HISTORY_FOLDER_PREFIX}${assertIsoDate(businessDate)}`;
}

/** Whether a folder's name is a date's history folder (historyLakeFolder). */
export function isHistoryLakeFolder(name: string): boolean {
  return name.startsWith(HISTORY_FOLDER_PREFIX) && isIsoDate(name.slice(HISTORY_FOLDER_PREFIX.length));
}

/** The name of a commit's own data file: `cdcflow-<commit>.parquet`, or `cdcflow-<commit>-<k>of<n>.parquet` for bucket k of n. */
function commitFileName(commitId: string, bucket?: Bucket): string {
  return `cdcflow-${commitId}${bucket && bucket.count > 1 ? `-${bucketLabel(bucket)}` : ''}.parquet`;
}

/** The bucket number k in the name of a commit's own file (commitFileName; 0: its only file), undefined for any other name. */
export function commitFileBucket(name: string, commitId: string): number | undefined {
  const match = new RegExp(`^cdcflow-${commitId.replace(/[^0-9a-f-]/gi, '')}(?:-(\\d+)of\\d+)?\\.parquet$`).exec(name);
  return match ? Number(match[1] ?? 0) : undefined;
}

/** `connection`: the PostgreSQL catalog's connection string as attached (catalogConnection), none for SQLite. */
function attachCatalogSql(engine: Engine, warehouse: string, connection: string | undefined): string {
  const { catalogUrl, dataPath: base } = engine;
  const metadata = connection ? `postgres:${connection}` : `sqlite:${catalogPath(warehouse)}`;
  const schema = catalogUrl ? `METADATA_SCHEMA ${quoteLiteral(postgresMetadataSchema(warehouse))}, ` : '';
  return (
    `ATTACH IF NOT EXISTS ${quoteLiteral(`ducklake:${metadata}`)} AS ${quoteIdent(catalogAlias(warehouse, catalogUrl))} (${schema}` +
    // No inlined rows: every committed row is in a Parquet file, which the diff stages read directly.
    `DATA_PATH ${quoteLiteral(dataPath(warehouse, base))}, DATA_INLINING_ROW_LIMIT 0)`
  );
}

/**
 * The catalogs attached to each engine's instance, by alias, with the file of a SQLite catalog:
 * attaching again is a statement saved per catalog session.
 */
const attached = new WeakMap<Engine, Map<string, string | undefined>>();

/**
 * Detaches SQLite catalogs whose file is gone (their warehouse was deleted or moved while the
 * worker ran). DuckDB looks a name up in every attached catalog when it is not found where asked,
 * so one vanished catalog turned the "no such table" of every other warehouse's new table into
 * "Unable to open database <the vanished file>", retried until the run failed.
 */
async function detachVanishedCatalogs(session: Session, aliases: Map<string, string | undefined>): Promise<void> {
  for (const [alias, file] of aliases) {
    if (file === undefined || existsSync(file)) continue;
    await session.run(`DETACH DATABASE IF EXISTS ${quoteIdent(alias)}`);
    aliases.delete(alias);
  }
}

/** Attaches the warehouse's catalog to the engine's DuckDB instance, once; `existing`: never a new SQLite catalog, nor a record of one. */
async function attachCatalog(engine: Engine, session: Session, warehouse: string, existing: boolean): Promise<string> {
  const { catalogUrl, dataPath: base } = engine;
  const alias = catalogAlias(warehouse, catalogUrl);
  const aliases = attached.get(engine) ?? new Map<string, string | undefined>();
  attached.set(engine, aliases);
  await detachVanishedCatalogs(session, aliases);
  if (aliases.has(alias)) return alias;
  // A file where the warehouse should be fails here with ENOTDIR, a ConfigError (stage-runner.ts).
  mkdirSync(base && isRemotePath(base) ? warehouse : dataPath(warehouse, base), { recursive: true });
  const connection = catalogUrl ? catalogConnection(engine, catalogUrl, warehouse) : undefined;
  const found = connection ? await probePostgresCatalog(session, connection, postgresMetadataSchema(warehouse)) : undefined;
  const identity: CatalogIdentity = found
    ? { catalog: 'postgres', schema: postgresMetadataSchema(warehouse), warehouse, database: found.database }
    : { catalog: 'sqlite', warehouse };
  await checkCatalogIdentity(warehouse, identity, { sqliteCatalog: catalogPath(warehouse), record: !existing, holdsCommits: found ? found.holdsCommits : existsSync(catalogPath(warehouse)) });
  if (!catalogUrl && existing && !existsSync(catalogPath(warehouse))) {
    throw new ConfigError(`${catalogPath(warehouse)} does not exist: warehouse ${warehouse} has no catalog there, and none is created for this`, { warehouse });
  }
  if (!catalogUrl) await createWalCatalog(catalogPath(warehouse));
  await session.run(attachCatalogSql(engine, warehouse, connection)).catch((err: unknown) => {
    throw movedDataError(err, warehouse);
  });
  // After the attach, which refuses a changed data path first; attaching writes no data file.
  if (base) await claimDataFolder(session, warehouse, dataPath(warehouse, base));
  aliases.set(alias, catalogUrl ? undefined : catalogPath(warehouse));
  return alias;
}

/**
 * Which database CDCFLOW_CATALOG_URL names, and whether the warehouse's schema there holds data
 * files (every commit writes some: its commit log row at least). Read on a plain connection of
 * the same string before DuckLake attaches it, which would create an empty catalog in a database
 * that is not the warehouse's.
 */
async function probePostgresCatalog(session: Session, connection: string, schema: string): Promise<{ database: CatalogDatabase; holdsCommits: boolean }> {
  const probe = `probe_${schema}`;
  await session.run(`ATTACH IF NOT EXISTS ${quoteLiteral(connection)} AS ${quoteIdent(probe)} (TYPE postgres, READ_ONLY)`);
  try {
    const dataFiles = `${quoteIdent(schema)}.ducklake_data_file`;
    const ask = <T>(sql: string) => session.rows<T>(`SELECT * FROM postgres_query(${quoteLiteral(probe)}, ${quoteLiteral(sql)})`);
    const [row] = await ask<{ name: string; has_catalog: boolean }>(
      `SELECT current_database()::text AS name, to_regclass(${quoteLiteral(dataFiles)}) IS NOT NULL AS has_catalog`,
    );
    // A service that withholds pg_control_system() leaves the database told by its name alone.
    const [server] = await ask<{ system_identifier: string }>('SELECT system_identifier::text AS system_identifier FROM pg_control_system()').catch(() => []);
    const holdsCommits = row.has_catalog && (await session.rows(`SELECT 1 FROM ${quoteIdent(probe)}.${dataFiles} LIMIT 1`)).length > 0;
    return { database: { name: row.name, ...(server ? { systemIdentifier: server.system_identifier } : {}) }, holdsCommits };
  } finally {
    await session.run(`DETACH DATABASE IF EXISTS ${quoteIdent(probe)}`);
  }
}

/**
 * DuckLake refuses a data path other than the one its catalog was created with: the warehouse
 * folder was moved, or CDCFLOW_DATA_PATH changed. The commits name their files at the old place,
 * so this is a setup to put back, not a failure to retry.
 */
function movedDataError(err: unknown, warehouse: string): unknown {
  const match = /DATA_PATH parameter "(.*)" does not match existing data path in the catalog "(.*)"/.exec((err as Error)?.message ?? '');
  if (!match) return err;
  const [, asked, kept] = match;
  return new ConfigError(
    `the catalog of warehouse ${warehouse} keeps its data files in ${kept}, not ${asked}: a warehouse cannot be moved, nor its ` +
      'CDCFLOW_DATA_PATH changed, since its commits name their files where they were written. Move the warehouse back (or set ' +
      'CDCFLOW_DATA_PATH as it was), or run the dataset from its first date into a new warehouse',
    { warehouse, dataPath: kept },
    { cause: err },
  );
}

/**
 * Where DuckLake keeps the catalog's own tables (ducklake_snapshot and the others of its
 * specification): the database it attaches beside the catalog. Reading them directly costs a
 * fraction of DuckLake's table functions, which open a catalog transaction first.
 */
function metadataSchema(warehouse: string, catalogUrl?: string): string {
  return `${quoteIdent(metadataDatabase(catalogAlias(warehouse, catalogUrl)))}.${quoteIdent(catalogUrl ? postgresMetadataSchema(warehouse) : 'main')}`;
}

/** The database DuckLake attaches beside the catalog `alias` for its own tables. */
function metadataDatabase(alias: string): string {
  return `__ducklake_metadata_${alias}`;
}

/** The catalog's connection string is a secret: never in an error message. */
function withoutSecret(err: unknown, catalogUrl?: string): unknown {
  if (!catalogUrl || !(err instanceof Error) || !err.message.includes(catalogUrl)) return err;
  return new Error(err.message.split(catalogUrl).join('$CDCFLOW_CATALOG_URL'));
}

const LOCKED_RETRIES = 30;

/**
 * What another process's catalog work makes this one fail on for a moment, and what an attempt
 * again a moment later gets past: SQLite's lock of a writer, and DuckLake's creation of a new
 * PostgreSQL catalog by another worker at the same moment (which wins: this one's CREATE SCHEMA
 * then waits for that transaction and fails on the schema it committed; attached again, the
 * catalog is there).
 */
function isPassingContention(err: unknown): boolean {
  const message = (err as Error)?.message ?? '';
  return /database is locked/i.test(message) || (/Failed to initialize DuckLake/.test(message) && /duplicate key value violates unique constraint/.test(message));
}

/**
 * Runs `work` on the engine's catalog connection (one at a time per process, see
 * Engine.withCatalogSession) with the warehouse's catalog attached (`alias`; `metadata`: the
 * schema of its metadata tables). The SQLite catalog takes one
 * writer at a time and DuckLake does not wait for its lock: a transaction that overlaps
 * another process's commit fails with "database is locked". That is waited out here (a few
 * seconds at most) before the error goes to Temporal's retries, as is a new PostgreSQL catalog
 * that another worker creates at the same moment (isPassingContention). `work` must be safe to run again.
 * What a PostgreSQL catalog keeps the connection waiting on is told to the stages (catalog-waits.ts).
 */
export function withCatalog<T>(
  engine: Engine,
  warehouse: string,
  work: (session: Session, alias: string, metadata: string) => Promise<T>,
  { existing = false }: { existing?: boolean } = {},
): Promise<T> {
  return queuedForCatalog(engine, (started) =>
    engine.withCatalogSession(async (session) => {
      started();
      const metadata = engine.catalogUrl ? metadataDatabase(catalogAlias(warehouse, engine.catalogUrl)) : undefined;
      return holdingCatalog(engine, session, metadata, warehouse, () => workOnCatalog(engine, session, warehouse, existing, work));
    }),
  );
}

async function workOnCatalog<T>(
  engine: Engine,
  session: Session,
  warehouse: string,
  existing: boolean,
  work: (session: Session, alias: string, metadata: string) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(session, await attachCatalog(engine, session, warehouse, existing), metadataSchema(warehouse, engine.catalogUrl));
    } catch (err) {
      if (!isPassingContention(err) || attempt >= LOCKED_RETRIES) throw withoutSecret(err, engine.catalogUrl);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  }
}

/** Per engine, warehouse and kind of work: the shared run that has not started yet (withSharedCatalog). */
const unstarted = new WeakMap<Engine, Map<string, Promise<unknown>>>();

/**
 * Like withCatalog, for work that any one run does for every caller (a read of the catalog, a
 * global clean-up): requests of the same `kind` made before a run has started join it, instead
 * of each queueing for the catalog's connection. A request made once the run started gets the
 * next run, so every caller's result reflects the catalog as of after its request.
 */
export function withSharedCatalog<T>(engine: Engine, warehouse: string, kind: string, work: (session: Session, alias: string, metadata: string) => Promise<T>): Promise<T> {
  const byKey = unstarted.get(engine) ?? new Map<string, Promise<unknown>>();
  unstarted.set(engine, byKey);
  const key = JSON.stringify([warehouse, kind]);
  const queued = byKey.get(key) as Promise<T> | undefined;
  // Joined, it waits on what that run waits on.
  if (queued) return queuedForCatalog(engine, () => queued);
  const leave = () => byKey.get(key) === run && byKey.delete(key);
  const run: Promise<T> = withCatalog(engine, warehouse, (session, alias, metadata) => {
    leave();
    return work(session, alias, metadata);
  }).finally(leave);
  byKey.set(key, run);
  return run;
}

/** The DuckLake tables of a configured table, in the catalog attached as `catalogAlias`. */
export function lakeTables(catalogAlias: string, dataset: string, table: string): LakeTables {
  const alias = quoteIdent(catalogAlias);
  const schema = `${alias}.${quoteIdent(assertPathName(dataset))}`;
  const name = (suffix: string) => `${schema}.${quoteIdent(`${assertPathName(table)}__${suffix}`)}`;
  return {
    alias,
    names: { catalog: catalogAlias, schema: dataset, current: `${table}__current`, history: `${table}__history` },
    schema,
    current: name('current'),
    history: name('history'),
    commits: name('commits'),
    head: name('head'),
  };
}
