/**
 * The DuckLake catalog that holds every table's committed state: one per warehouse, a SQLite
 * file that the worker processes of one machine share (DuckLake's documented choice for
 * several local clients), data files under the warehouse's `_lake/`. Each dataset is a schema;
 * each configured table is four DuckLake tables:
 *
 *   <table>__current   the current state (what later dates diff against, by time travel)
 *   <table>__history   the net changes of every committed date (EFF_START_DATE = the date)
 *   <table>__commits   the commit log: one row per committed business date
 *   <table>__head      one row, replaced by every commit: it makes two commits on one base
 *                      always conflict, even when both only insert
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Session } from '../engine/duckdb';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import { assertPathName } from './layout';

export interface LakeTables {
  /** The attached catalog's alias. */
  alias: string;
  schema: string;
  current: string;
  history: string;
  commits: string;
  head: string;
}

export function catalogAlias(warehouse: string): string {
  return `lake_${createHash('sha256').update(warehouse).digest('hex').slice(0, 12)}`;
}

export function catalogPath(warehouse: string): string {
  return path.join(warehouse, 'catalog.sqlite');
}

export function attachCatalogSql(warehouse: string): string {
  const dataPath = path.join(warehouse, '_lake') + path.sep;
  return (
    `ATTACH IF NOT EXISTS ${quoteLiteral(`ducklake:sqlite:${catalogPath(warehouse)}`)} AS ${quoteIdent(catalogAlias(warehouse))} ` +
    // No inlined rows: every committed row is in a Parquet file, which the diff stages read directly.
    `(DATA_PATH ${quoteLiteral(dataPath)}, DATA_INLINING_ROW_LIMIT 0)`
  );
}

const queues = new Map<string, Promise<unknown>>();
const LOCKED_RETRIES = 30;

/**
 * Runs `work` with exclusive use of the catalog within this process. The SQLite catalog takes
 * one writer at a time and DuckLake does not wait for its lock: a transaction that overlaps
 * another's commit fails with "database is locked". So this process's catalog work goes one
 * at a time, and a lock held by another process is waited out here (a few seconds at most)
 * before the error goes to Temporal's retries. `work` must be safe to run again.
 */
export function withCatalog<T>(warehouse: string, work: () => Promise<T>): Promise<T> {
  const key = catalogAlias(warehouse);
  const run = async (): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (!/database is locked/i.test((err as Error).message) || attempt >= LOCKED_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
      }
    }
  };
  const result = (queues.get(key) ?? Promise.resolve()).then(run, run);
  const tail = result.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
}

/** Attaches the warehouse's catalog to the session's DuckDB instance (once; later calls are cheap). */
export async function attachCatalog(session: Session, warehouse: string): Promise<string> {
  mkdirSync(warehouse, { recursive: true });
  try {
    await session.run(attachCatalogSql(warehouse));
  } catch (err) {
    // Two connections of one process attaching at the same instant: the other one won.
    if (!/already (attached|exists)/i.test((err as Error).message)) throw err;
  }
  return catalogAlias(warehouse);
}

export function lakeTables(warehouse: string, dataset: string, table: string): LakeTables {
  const alias = quoteIdent(catalogAlias(warehouse));
  const schema = `${alias}.${quoteIdent(assertPathName(dataset))}`;
  const name = (suffix: string) => `${schema}.${quoteIdent(`${assertPathName(table)}__${suffix}`)}`;
  return { alias, schema, current: name('current'), history: name('history'), commits: name('commits'), head: name('head') };
}

/** A DuckLake table as of a snapshot (time travel). */
export function atSnapshot(tableName: string, snapshot: number): string {
  if (!Number.isSafeInteger(snapshot) || snapshot < 0) throw new Error(`not a snapshot id: ${snapshot}`);
  return `${tableName} AT (VERSION => ${snapshot})`;
}
