/**
 * Brings one sink of a table up to a committed business date: every committed date up to it
 * that the sink's markers do not name with its commit is applied, oldest first, one
 * transaction per date (so a sink that fell behind catches up in date order). The changes are
 * read from the DuckLake catalog in one read transaction and staged as local Parquet files
 * first, so the catalog is never held while the sink is slow.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { SinkSpec, TableConfig } from '../config/types';
import type { Engine, Session } from '../engine/duckdb';
import { lakeTables, withCatalog } from '../warehouse/catalog';
import { readCommitLog } from '../warehouse/commits';
import { sinkOf } from './registry';
import {
  appliedDatesSql,
  applyDateSql,
  clearSinkSql,
  createSinkTablesSql,
  type DateToApply,
  exportChangesSql,
  exportStateSql,
  sinkTableDefinitions,
  type SinkTarget,
} from './sink-sql';

export interface SinkDateReport {
  businessDate: string;
  commitId: string;
  inserts: number;
  updates: number;
  deletes: number;
  /**
   * The sink held the date already and its tables were rebuilt: from the state (the sink held
   * another commit of the date), or from the first date on (a sink table had gone missing).
   */
  rebuilt: boolean;
}

export interface SinkReport {
  sink: string;
  type: SinkSpec['type'];
  /** Dates applied by this call, oldest first; empty when the sink was up to date. */
  applied: SinkDateReport[];
  /** The latest date the sink holds after this call. */
  lastApplied: string | null;
}

async function inTransaction(session: Session, statements: readonly string[]): Promise<void> {
  await session.run('BEGIN TRANSACTION');
  try {
    for (const sql of statements) await session.run(sql);
    await session.run('COMMIT');
  } catch (err) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The error of a table (or its schema) that does not exist in the sink. */
export const MISSING_TABLE = /Catalog Error: (Table|Schema) with name .* does not exist/;

/** The sink's applied dates of the table: business date → commit id. */
export async function appliedDates(session: Session, table: TableConfig, target: SinkTarget): Promise<Map<string, string>> {
  const rows = await session.rows<{ business_date: string; commit_id: string }>(appliedDatesSql(table, target));
  return new Map(rows.map((r) => [r.business_date, r.commit_id]));
}

/** Whether the table exists in the attached database. */
async function exists(session: Session, table: string): Promise<boolean> {
  try {
    await session.rows(`DESCRIBE ${table}`);
    return true;
  } catch (err) {
    if (MISSING_TABLE.test((err as Error).message)) return false;
    throw err;
  }
}

/**
 * Creates the sink's tables where missing and returns the dates they hold. The markers vouch
 * for the tables only while all of them are there: a table dropped by hand (and created again
 * empty here) while markers name dates, or markers gone beside filled tables, would leave the
 * sink incomplete for good. Then the tables are emptied and the markers removed, in the same
 * transaction, so that every date is applied again from the first, as into a new sink.
 */
async function prepareTables(session: Session, table: TableConfig, target: SinkTarget): Promise<{ applied: Map<string, string>; cleared: Map<string, string> }> {
  const definitions = sinkTableDefinitions(table, target);
  const found = new Map<string, boolean>();
  for (const d of definitions) found.set(d.table, await exists(session, d.table));
  const marker = definitions.find((d) => !d.data)!;
  const applied = found.get(marker.table) ? await appliedDates(session, table, target) : new Map<string, string>();
  const lost = definitions.some((d) => d.data && !found.get(d.table));
  const clear = applied.size === 0 || lost;
  await inTransaction(session, [...createSinkTablesSql(table, target), ...(clear ? clearSinkSql(table, target) : [])]);
  return clear ? { applied: new Map(), cleared: applied } : { applied, cleared: new Map() };
}

export function applySinkChanges(engine: Engine, session: Session, table: TableConfig, sink: SinkSpec, businessDate: string): Promise<SinkReport> {
  const kind = sinkOf(sink);
  return kind.withTarget(session, sink, table, async (db) => {
    const target = { db, schema: sink.schema, native: kind.native };
    const { applied, cleared } = await prepareTables(session, table, target);
    const dir = await mkdtemp(path.join(tmpdir(), 'cdcflow-sink-'));
    try {
      const pending = await stageChanges(engine, table, applied, businessDate, dir);
      for (const d of pending) await inTransaction(session, applyDateSql(table, target, d, randomBytes(6).toString('hex')));
      const dates = [...applied.keys(), ...pending.map((d) => d.businessDate)].sort();
      return {
        sink: sink.name,
        type: sink.type,
        applied: pending.map((d) => ({
          businessDate: d.businessDate,
          commitId: d.commitId,
          inserts: d.counts.I,
          updates: d.counts.U,
          deletes: d.counts.D,
          rebuilt: d.state !== null || cleared.has(d.businessDate),
        })),
        lastApplied: dates.at(-1) ?? null,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

/** The dates to apply, each with its changes written to Parquet files in `dir`. */
function stageChanges(engine: Engine, table: TableConfig, applied: ReadonlyMap<string, string>, businessDate: string, dir: string): Promise<DateToApply[]> {
  return withCatalog(engine, table.warehouse, async (session, alias) => {
    const lake = lakeTables(alias, table.dataset, table.name);
    // One read transaction: the log and the rows it describes come from one snapshot.
    await session.run('BEGIN TRANSACTION');
    try {
      const log = await readCommitLog(session, lake);
      const latest = log.at(-1);
      const pending = log.filter((c) => c.businessDate <= businessDate && applied.get(c.businessDate) !== c.commitId);
      const staged: DateToApply[] = [];
      let statePath: string | null = null;
      for (const c of pending) {
        const changes = path.join(dir, `changes-${c.businessDate}.parquet`);
        // Ignored columns change on N rows without a history row: the latest date refreshes them.
        const withUnchanged = c === latest && c === pending.at(-1) && table.ignore.length > 0;
        await session.run(exportChangesSql(lake, c.businessDate, withUnchanged, changes));
        let state: string[] | null = null;
        if (applied.has(c.businessDate)) {
          if (!statePath) {
            statePath = path.join(dir, 'state.parquet');
            await session.run(exportStateSql(lake, statePath));
          }
          state = [statePath];
        }
        staged.push({ businessDate: c.businessDate, commitId: c.commitId, counts: c.counts, changes: [changes], state });
      }
      return staged;
    } finally {
      await session.run('ROLLBACK').catch(() => undefined);
    }
  });
}
