/**
 * Before the stages: which committed state the run diffs against, pinned as a DuckLake snapshot
 * so that every stage reads the same base. The latest committed date may be run again (its
 * base is the commit before it); an older date would rewrite what later dates built on.
 * Exports a crash left behind are rolled forward first.
 *
 * The head and base commits come from the tags of the table's commit snapshots (one catalog
 * read); the commit log is read only for a table without commits yet, or commits of older
 * versions whose tags lack the commit record.
 */
import type { TableConfig } from '../config/types';
import { StateError } from '../errors';
import { catalogAlias, type LakeTables, lakeTables, withCatalog } from '../warehouse/catalog';
import { type CommitRecord, commitSnapshots, headAndBase, type PlannedCommit, tableSnapshots } from '../warehouse/commits';
import { type TableLayout, tableLayout } from '../warehouse/layout';
import { exportsAtHead, publishExports } from '../warehouse/publish';
import type { Engine, Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { hashShape } from './fingerprint';
import { type CommittedShape, shapeChangedError } from './shape-change';
import { baseWatermark } from './watermark';
import { type ActivityDeps, runStage } from './stage-runner';
import type { BaseRef, PlanResult, StageInput } from './types';

interface Planning {
  table: TableConfig;
  businessDate: string;
  context: Record<string, string>;
}

export function planTableRun(deps: ActivityDeps) {
  return ({ table, businessDate }: StageInput): Promise<PlanResult> =>
    runStage(deps, 'plan', async () => {
      const lake = lakeTables(catalogAlias(table.warehouse, deps.engine.catalogUrl), table.dataset, table.name);
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const planning: Planning = { table, businessDate, context: { dataset: table.dataset, table: table.name, businessDate } };
      const fromTags = await withCatalog(deps.engine, table.warehouse, (session, alias, metadata) => planFromTags(session, alias, metadata, planning));
      if (!fromTags) return planFromLog(deps.engine, lake, layout, planning);
      // Only a crash between a commit and its exports leaves them behind the head.
      if (!(await exportsAtHead({ table, lake, layout }, fromTags.latest))) await publishExports(deps.engine, { table, lake, layout });
      return fromTags.plan;
    });
}

/** The plan from the table's commit snapshots alone; undefined when they cannot tell (see headAndBase). */
async function planFromTags(session: Session, alias: string, metadata: string, p: Planning): Promise<{ plan: PlanResult; latest: PlannedCommit } | undefined> {
  const pinned = headAndBase(tableSnapshots(await commitSnapshots(session, metadata), p.table.dataset, p.table.name), p.businessDate);
  if (!pinned) return undefined;
  const { latest, base } = pinned;
  refuseOlderDate(latest, p);
  await refuseChangedShape(session, metadata, lakeTables(alias, p.table.dataset, p.table.name), latest, p);
  if (base && 'expired' in base) throw expiredBase(base.expired, p);
  return {
    plan: { base: base && (await baseRef(session, alias, p, base.commit, base.snapshot)), head: latest.commitId, latestCommitted: latest.businessDate },
    latest,
  };
}

/** The plan from the commit log, which the roll-forward of the exports reads. */
async function planFromLog(engine: Engine, lake: LakeTables, layout: TableLayout, p: Planning): Promise<PlanResult> {
  const log = await publishExports(engine, { table: p.table, lake, layout });
  const latest = log.at(-1) ?? null;
  if (latest) refuseOlderDate(latest, p);
  const baseCommit = log.filter((c) => c.businessDate < p.businessDate).at(-1);
  return withCatalog(engine, p.table.warehouse, async (session, alias, metadata) => {
    if (latest) await refuseChangedShape(session, metadata, lake, latest, p);
    await session.run(`CREATE SCHEMA IF NOT EXISTS ${lake.schema}`);
    const snapshot = baseCommit && (await commitSnapshots(session, metadata)).find((s) => s.tag.commit === baseCommit.commitId)?.snapshot;
    return {
      base: baseCommit ? await baseRef(session, alias, p, baseCommit, snapshot) : null,
      head: latest?.commitId ?? null,
      latestCommitted: latest?.businessDate ?? null,
    };
  });
}

function refuseOlderDate(latest: Pick<CommitRecord, 'businessDate'>, { businessDate, context }: Planning): void {
  if (businessDate >= latest.businessDate) return;
  throw new StateError(
    `business date ${businessDate} is older than the latest committed date ${latest.businessDate}; only the latest date can be ` +
      `run again. To rebuild from ${businessDate}, run the table into a new warehouse from its first date, ` +
      `or run ${latest.businessDate} again with the corrected input`,
    { ...context, latestCommitted: latest.businessDate },
  );
}

/**
 * The latest commit's shape is the catalog tables' and the stored hashes': a run with another
 * (even of the table's only date, which has no base to compare with) is refused before any work.
 */
async function refuseChangedShape(session: Session, metadata: string, lake: LakeTables, latest: Pick<CommitRecord, 'businessDate' | 'shape'>, p: Planning): Promise<void> {
  if (latest.shape === hashShape(p.table)) return;
  const described = await session.rows<{ column_name: string; column_type: string }>(`DESCRIBE ${lake.current}`);
  // Only change-record tables have an ordering state. Asked of the catalog's own tables: DuckDB's
  // listings, and its lookup of a missing table, read every catalog the worker has attached and
  // fail on one moved away.
  const [order] = await session.rows<{ n: number }>(
    `SELECT count(*)::INT AS n FROM ${metadata}.ducklake_table t JOIN ${metadata}.ducklake_schema s USING (schema_id) ` +
      `WHERE s.schema_name = ${quoteLiteral(p.table.dataset)} AND t.table_name = ${quoteLiteral(`${p.table.name}__order`)} ` +
      'AND s.end_snapshot IS NULL AND t.end_snapshot IS NULL',
  );
  const committed: CommittedShape = { columns: described.map((c) => ({ name: c.column_name, type: c.column_type })), changeRecords: order.n > 0 };
  throw shapeChangedError(p.table, latest.businessDate, committed, p.context);
}

function expiredBase(baseDate: string, { context }: Planning): StateError {
  return new StateError(`the snapshot of ${baseDate} was expired by retention; raise retention.keepDates to re-run older dates`, { ...context, baseDate });
}

/** The base at its commit's snapshot (undefined: expired by retention). */
async function baseRef(session: Session, alias: string, p: Planning, commit: PlannedCommit, snapshot: number | undefined): Promise<BaseRef> {
  const { table } = p;
  if (snapshot === undefined) throw expiredBase(commit.businessDate, p);
  return {
    date: commit.businessDate,
    fingerprint: commit.fingerprint,
    commitId: commit.commitId,
    snapshot,
    // Listed in the commit's tag since this version: no catalog transaction needed to list them.
    files: commit.files ? [...commit.files.current] : await stateFiles(session, alias, table, snapshot),
    watermark: baseWatermark(table, commit),
    ...(table.mode === 'changes' ? { orderFiles: commit.files?.order ? [...commit.files.order] : await stateFiles(session, alias, table, snapshot, 'order') } : {}),
  };
}

/**
 * The Parquet files that hold the current state as of a snapshot. Every commit replaces the
 * whole state and rows are never inlined, so these files are exactly the state, with no
 * delete files; the diff stages read them without touching the catalog.
 */
async function stateFiles(session: Session, alias: string, table: TableConfig, snapshot: number, suffix = 'current'): Promise<string[]> {
  const rows = await session.rows<{ data_file: string; delete_file: string | null }>(
    `SELECT data_file, delete_file FROM ducklake_list_files(${quoteLiteral(alias)}, ${quoteLiteral(`${table.name}__${suffix}`)}, ` +
      `schema => ${quoteLiteral(table.dataset)}, snapshot_version => ${snapshot}) ORDER BY data_file`,
  );
  if (rows.some((r) => r.delete_file)) throw new Error(`the state of ${table.dataset}.${table.name} at snapshot ${snapshot} has delete files`);
  return rows.map((r) => r.data_file);
}
