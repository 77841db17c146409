/**
 * Before the stages: which committed state the run diffs against, pinned as a DuckLake snapshot
 * so that every stage reads the same base. The latest committed date may be run again (its
 * base is the commit before it); an older date would rewrite what later dates built on.
 * Exports a crash left behind are rolled forward first.
 *
 * The head and base commits come from the tags of the table's commit snapshots (one catalog
 * read, shared by the plans that wait for the catalog together); the commit log is read only
 * for a table without commits yet, or commits of older versions whose tags lack the commit record.
 */
import type { TableConfig } from '../config/types';
import { namedDates } from '../config/iso-date';
import { StateError } from '../errors';
import { catalogAlias, type LakeTables, lakeTables, withCatalog } from '../warehouse/catalog';
import { type CommitRecord, type CommitTag, commitSnapshots, type HeadAndBase, headAndBase, type PlannedCommit, sharedCommitSnapshots, tableSnapshots } from '../warehouse/commits';
import { type TableLayout, tableLayout } from '../warehouse/layout';
import { exportsAtHead, publishExports } from '../warehouse/publish';
import type { Engine, Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { hashShape } from './fingerprint';
import { appendedColumns, type CommittedShape, shapeChangedError } from './shape-change';
import { sourceOf } from '../sources/registry';
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
    runStage(deps, 'plan', async (session) => {
      const lake = lakeTables(catalogAlias(table.warehouse, deps.engine.catalogUrl), table.dataset, table.name);
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const planning: Planning = { table, businessDate, context: { dataset: table.dataset, table: table.name, businessDate } };
      // A read of the snapshots serves the plans that wait for the catalog together.
      const tagged = await sharedCommitSnapshots(deps.engine, table.warehouse);
      const snapshots = tableSnapshots(tagged, table.dataset, table.name);
      refuseRespelledName(snapshots.at(-1)?.tag, planning);
      const pinned = headAndBase(snapshots, businessDate);
      const plan = pinned
        ? await planFromTags((work) => withCatalog(deps.engine, table.warehouse, work), lake, pinned, planning)
        : await planFromLog(deps.engine, lake, layout, planning);
      // Only a crash between a commit and its exports leaves them behind the head.
      if (pinned && !(await exportsAtHead({ table, lake, layout }, pinned.latest))) await publishExports(deps.engine, { table, lake, layout });
      await refuseLeftOutBatches(session, planning, plan);
      return plan;
    });
}

/**
 * The catalog takes the dataset's and the table's names in any case, the published folders, the
 * workflow IDs and the sinks' tables by their spelling: a table committed as `Orders` and run as
 * `orders` would diff against its commits but publish beside its exports, and lose its base.
 */
function refuseRespelledName(latest: CommitTag | undefined, { table, context }: Planning): void {
  if (!latest || (latest.dataset === table.dataset && latest.table === table.name)) return;
  const committed = `${latest.dataset}.${latest.table}`;
  throw new StateError(
    `the table was committed as ${committed} (latest ${latest.date}) and is now spelled ${table.dataset}.${table.name}: ` +
      'names match the catalog in any case, but the published folders and the sinks take the spelling, so nothing was run. ' +
      `Restore the spelling ${committed}, or run the table under the new name from its first date into a new warehouse`,
    { ...context, latestCommitted: latest.date, committedAs: committed },
  );
}

/**
 * A delta or change-record run applies its date's batch on top of its base. A dated batch
 * between the two that was never committed (its run failed, or a schedule skipped it) would
 * be left out for good: once a later date is committed, an earlier one is refused. On a run of
 * the latest date again, the batch came after that date was committed, and can no longer be run.
 * A table's first date has no base: every earlier batch would be left out.
 */
async function refuseLeftOutBatches(session: Session, { table, businessDate, context }: Planning, { base, latestCommitted }: Pick<PlanResult, 'base' | 'latestCommitted'>): Promise<void> {
  if (table.mode === 'full') return;
  const leftOut = (await sourceOf(table).batchesBetween?.(session, table, base?.date ?? '', businessDate)) ?? [];
  if (leftOut.length === 0) return;
  const dates = leftOut.map((b) => b.businessDate);
  const named = namedDates(dates);
  const remedy =
    businessDate === latestCommitted
      ? `It can no longer be run, since ${businessDate} is committed: move its files out of the source path to run ${businessDate} again, ` +
        'or run the table from its first date into a new warehouse to apply them'
      : `Run ${dates[0]} first (cdcflow run --date ${dates[0]}), or move its files out of the source path if they must not be applied`;
  const after = base ? `after the latest committed date before ${businessDate} (${base.date})` : `before ${businessDate}, and the table has no commit before it`;
  throw new StateError(
    `the source has a batch for ${named} (${leftOut[0].file}), ${after}, ` +
      `that was never committed: a ${table.mode} run of ${businessDate} would leave its changes out for good, since an earlier date ` +
      `cannot be run once a later one is committed. ${remedy}`,
    { ...context, ...(base ? { baseDate: base.date } : {}), leftOutDate: dates[0], file: leftOut[0].file },
  );
}

/** Runs catalog work: on a catalog session the caller holds already, or on one taken only when needed. */
type OnCatalog = <T>(work: (session: Session, alias: string, metadata: string) => Promise<T>) => Promise<T>;

/** The plan from the table's commit snapshots (see headAndBase); the catalog is asked only what older tags lack. */
async function planFromTags(onCatalog: OnCatalog, lake: LakeTables, { latest, base }: HeadAndBase, p: Planning): Promise<PlanResult> {
  refuseOlderDate(latest, p);
  const added = await shapeChange(onCatalog, lake, latest, p);
  if (base && 'expired' in base) throw expiredBase(base.expired, p);
  return {
    base: base && (await baseRef(onCatalog, p, base.commit, base.snapshot)),
    head: latest.commitId,
    latestCommitted: latest.businessDate,
    ...(added ? { addedColumns: added } : {}),
  };
}

/** The plan from the commit log, which the roll-forward of the exports reads. */
async function planFromLog(engine: Engine, lake: LakeTables, layout: TableLayout, p: Planning): Promise<PlanResult> {
  const log = await publishExports(engine, { table: p.table, lake, layout });
  const latest = log.at(-1) ?? null;
  if (latest) refuseOlderDate(latest, p);
  const baseCommit = log.filter((c) => c.businessDate < p.businessDate).at(-1);
  return withCatalog(engine, p.table.warehouse, async (session, alias, metadata) => {
    const onCatalog: OnCatalog = (work) => work(session, alias, metadata);
    const added = latest ? await shapeChange(onCatalog, lake, latest, p) : undefined;
    await session.run(`CREATE SCHEMA IF NOT EXISTS ${lake.schema}`);
    const snapshot = baseCommit && (await commitSnapshots(session, metadata)).find((s) => s.tag.commit === baseCommit.commitId)?.snapshot;
    return {
      base: baseCommit ? await baseRef(onCatalog, p, baseCommit, snapshot) : null,
      head: latest?.commitId ?? null,
      latestCommitted: latest?.businessDate ?? null,
      ...(added ? { addedColumns: added } : {}),
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
 * (even of the table's only date, which has no base to compare with) is refused before any work,
 * unless the config only appends non-key columns (see appendedColumns): their names, which the
 * commit adds to the catalog tables.
 */
async function shapeChange(onCatalog: OnCatalog, lake: LakeTables, latest: Pick<CommitRecord, 'businessDate' | 'shape'>, p: Planning): Promise<string[] | undefined> {
  if (latest.shape === hashShape(p.table)) return undefined;
  const committed = await onCatalog((session, _alias, metadata) => committedShape(session, metadata, lake, p.table));
  const appended = appendedColumns(p.table, committed, latest.shape);
  if (!appended) throw shapeChangedError(p.table, latest.businessDate, committed, p.context);
  return appended.map((c) => c.name);
}

/** The shape of the table's committed state, as the catalog holds it. */
async function committedShape(session: Session, metadata: string, lake: LakeTables, table: TableConfig): Promise<CommittedShape> {
  const described = await session.rows<{ column_name: string; column_type: string }>(`DESCRIBE ${lake.current}`);
  // Only change-record tables have an ordering state. Asked of the catalog's own tables: DuckDB's
  // listings, and its lookup of a missing table, read every catalog the worker has attached and
  // fail on one moved away.
  const [order] = await session.rows<{ n: number }>(
    `SELECT count(*)::INT AS n FROM ${metadata}.ducklake_table t JOIN ${metadata}.ducklake_schema s USING (schema_id) ` +
      `WHERE s.schema_name = ${quoteLiteral(table.dataset)} AND t.table_name = ${quoteLiteral(`${table.name}__order`)} ` +
      'AND s.end_snapshot IS NULL AND t.end_snapshot IS NULL',
  );
  return { columns: described.map((c) => ({ name: c.column_name, type: c.column_type })), changeRecords: order.n > 0 };
}

function expiredBase(baseDate: string, { context }: Planning): StateError {
  return new StateError(`the snapshot of ${baseDate} was expired by retention; raise retention.keepDates to re-run older dates`, { ...context, baseDate });
}

/** The base at its commit's snapshot (undefined: expired by retention). */
async function baseRef(onCatalog: OnCatalog, p: Planning, commit: PlannedCommit, snapshot: number | undefined): Promise<BaseRef> {
  const { table } = p;
  if (snapshot === undefined) throw expiredBase(commit.businessDate, p);
  return {
    date: commit.businessDate,
    fingerprint: commit.fingerprint,
    commitId: commit.commitId,
    snapshot,
    // Listed in the commit's tag since this version: no catalog transaction needed to list them.
    files: commit.files ? [...commit.files.current] : await onCatalog((session, alias) => stateFiles(session, alias, table, snapshot)),
    watermark: baseWatermark(table, commit),
    ...(table.mode === 'changes'
      ? { orderFiles: commit.files?.order ? [...commit.files.order] : await onCatalog((session, alias) => stateFiles(session, alias, table, snapshot, 'order')) }
      : {}),
  };
}

/**
 * The Parquet files that hold the current state as of a snapshot (the latest without one). Every commit replaces the
 * whole state and rows are never inlined, so these files are exactly the state, with no
 * delete files; the diff stages read them without touching the catalog.
 */
export async function stateFiles(session: Session, alias: string, table: TableConfig, snapshot?: number, suffix = 'current'): Promise<string[]> {
  const at = snapshot === undefined ? '' : `, snapshot_version => ${snapshot}`;
  const rows = await session.rows<{ data_file: string; delete_file: string | null }>(
    `SELECT data_file, delete_file FROM ducklake_list_files(${quoteLiteral(alias)}, ${quoteLiteral(`${table.name}__${suffix}`)}, ` +
      `schema => ${quoteLiteral(table.dataset)}${at}) ORDER BY data_file`,
  );
  if (rows.some((r) => r.delete_file)) throw new Error(`the state of ${table.dataset}.${table.name} at snapshot ${snapshot ?? '(latest)'} has delete files`);
  return rows.map((r) => r.data_file);
}
