/**
 * Before the stages: which committed state the run diffs against, pinned as a DuckLake snapshot
 * so that every stage reads the same base. The latest committed date may be run again (its
 * base is the commit before it); an older date would rewrite what later dates built on.
 * Exports a crash left behind are rolled forward first.
 */
import type { TableConfig } from '../config/types';
import { StateError } from '../errors';
import { catalogAlias, lakeTables, withCatalog } from '../warehouse/catalog';
import { type CommitRecord, commitSnapshots } from '../warehouse/commits';
import { tableLayout } from '../warehouse/layout';
import { publishExports } from '../warehouse/publish';
import type { Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { hashShape } from './fingerprint';
import { type ActivityDeps, runStage } from './stage-runner';
import type { BaseRef, PlanResult, StageInput } from './types';

export function planTableRun(deps: ActivityDeps) {
  return ({ table, businessDate }: StageInput): Promise<PlanResult> =>
    runStage(deps, 'plan', async () => {
      const lake = lakeTables(catalogAlias(table.warehouse, deps.engine.catalogUrl), table.dataset, table.name);
      const log = await publishExports(deps.engine, { table, lake, layout: tableLayout(table.warehouse, table.dataset, table.name) });
      const latest = log.at(-1) ?? null;
      const context = { dataset: table.dataset, table: table.name, businessDate };
      if (latest && businessDate < latest.businessDate) {
        throw new StateError(
          `business date ${businessDate} is older than the latest committed date ${latest.businessDate}; only the latest date can be ` +
            `run again. To rebuild from ${businessDate}, run the table into a new warehouse from its first date, ` +
            `or run ${latest.businessDate} again with the corrected input`,
          { ...context, latestCommitted: latest.businessDate },
        );
      }
      const baseCommit = log.filter((c) => c.businessDate < businessDate).at(-1);
      return withCatalog(deps.engine, table.warehouse, async (session, alias) => {
        await session.run(`CREATE SCHEMA IF NOT EXISTS ${lake.schema}`);
        return {
          base: baseCommit ? await baseRef(session, alias, table, baseCommit, context) : null,
          head: latest?.commitId ?? null,
          latestCommitted: latest?.businessDate ?? null,
        };
      });
    });
}

async function baseRef(session: Session, alias: string, table: TableConfig, commit: CommitRecord, context: Record<string, string>): Promise<BaseRef> {
  if (commit.shape !== hashShape(table)) {
    throw new StateError(
      `the table's keys, columns, types or ignore list changed since ${commit.businessDate}, so stored hashes no longer compare; ` +
        'restore the config or start a new warehouse',
      { ...context, baseDate: commit.businessDate },
    );
  }
  const snapshot = (await commitSnapshots(session, alias)).find((s) => s.tag.commit === commit.commitId)?.snapshot;
  if (snapshot === undefined) {
    throw new StateError(`the snapshot of ${commit.businessDate} was expired by retention; raise retention.keepDates to re-run older dates`, {
      ...context,
      baseDate: commit.businessDate,
    });
  }
  return {
    date: commit.businessDate,
    fingerprint: commit.fingerprint,
    commitId: commit.commitId,
    snapshot,
    files: await stateFiles(session, alias, table, snapshot),
    watermark: commit.watermark,
    ...(table.mode === 'changes' ? { orderFiles: await stateFiles(session, alias, table, snapshot, 'order') } : {}),
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

