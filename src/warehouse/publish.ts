/**
 * The published exports for plain Parquet readers (current.parquet and the Hive-partitioned
 * history), written from the catalog after a commit by roll-forward: each export whose commit
 * differs from what `_published.json` records is written again (to a temporary file outside
 * the readers' folders, then renamed), so a retry or the next run completes what a crash left.
 * current.parquet is a link to the state file the commit registered; history partitions are
 * exported from the catalog. Both are sorted by KEY_HASH, so the same commit always gives the
 * same bytes.
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { isRemotePath } from '../engine/s3';
import { quoteLiteral } from '../engine/sql';
import { publishCurrentSql, publishHistorySql } from '../engine/stage-sql';
import { linkOrCopy, readJsonIfExists, writeAtomically, writeJsonAtomically } from './atomic';
import type { LakeTables } from './catalog';
import { type CommitRecord, readCommitLog } from './commits';
import type { TableLayout } from './layout';
import { publishSensitiveCurrentSql, publishSensitiveHistorySql, sensitiveLayout, sensitiveNames, withoutSensitiveSql } from './sensitive';

export interface PublishedManifest {
  /** Commit id of the state in current.parquet. */
  current: string | null;
  /** Commit id of each published history partition, by business date. */
  history: Record<string, string>;
  /** The sensitive columns split off when these were written (absent: none). */
  sensitive?: string[];
}

/** A named point of the commit and publish, for crash-point tests. */
export type StepHook = (step: string) => void | Promise<void>;

const ROUNDS = 5;

/**
 * Brings the exports up to the catalog's latest commit. Another run may publish at the same
 * time: after writing, the log is read again and the round repeats until nothing changed, so
 * whichever publisher finishes last leaves the latest state. Returns the commit log it last
 * read (the plan builds on it instead of reading it again).
 */
export async function publishExports(
  session: Session,
  opts: { table: Pick<TableConfig, 'keys' | 'columns' | 'warehouse' | 'dataset' | 'name'>; lake: LakeTables; layout: TableLayout; step?: StepHook },
): Promise<CommitRecord[]> {
  const { layout, lake } = opts;
  const sensitive = sensitiveLayout(opts.table.warehouse, opts.table.dataset, opts.table.name);
  let log: CommitRecord[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    log = await readCommitLog(session, lake);
    const split = sensitiveNames(opts.table);
    const manifest = (await readJsonIfExists<PublishedManifest>(layout.publishManifest)) ?? { current: null, history: {} };
    // Exports written with other sensitive columns split off are all written again.
    const sameSplit = JSON.stringify(manifest.sensitive ?? []) === JSON.stringify(split);
    const published = sameSplit ? manifest : { current: null, history: Object.fromEntries(Object.keys(manifest.history).map((d) => [d, ''])) };
    if (upToDate(published, log)) return log;
    if (!sameSplit) await rm(sensitive.root, { recursive: true, force: true });

    const next: PublishedManifest = { current: published.current, history: {}, ...(split.length ? { sensitive: split } : {}) };
    for (const commit of log) {
      if (published.history[commit.businessDate] !== commit.commitId) {
        await opts.step?.(`publish:history:${commit.businessDate}`);
        await writeAtomically(
          layout.history(commit.businessDate),
          (tmp) => session.run(publishHistorySql(opts.table, lake.history, commit.businessDate, tmp)),
          layout.publishTmp,
        );
        if (split.length) {
          await writeAtomically(
            sensitive.history(commit.businessDate),
            (tmp) => session.run(publishSensitiveHistorySql(opts.table, lake.history, commit.businessDate, tmp)),
            layout.publishTmp,
          );
        }
      }
      next.history[commit.businessDate] = commit.commitId;
    }
    for (const date of Object.keys(published.history).filter((d) => !next.history[d])) {
      await rm(path.dirname(layout.history(date)), { recursive: true, force: true });
      await rm(path.dirname(sensitive.history(date)), { recursive: true, force: true });
    }
    const latest = log.at(-1);
    if (latest && published.current !== latest.commitId) {
      await opts.step?.('publish:current');
      // The commit's own state file is current.parquet as it is, unless columns are split off.
      const stateFile = split.length ? undefined : await commitStateFile(session, lake, latest.commitId);
      await writeAtomically(
        layout.current,
        (tmp) => (stateFile ? linkOrCopy(stateFile, tmp) : session.run(publishCurrentSql(lake.current, tmp, withoutSensitiveSql(opts.table)))),
        layout.publishTmp,
      );
      if (split.length) {
        await writeAtomically(sensitive.current, (tmp) => session.run(publishSensitiveCurrentSql(opts.table, lake.current, tmp)), layout.publishTmp);
      }
      next.current = latest.commitId;
    }
    await opts.step?.('publish:manifest');
    await writeJsonAtomically(layout.publishManifest, next, layout.publishTmp);
  }
  return log;
}

/**
 * The state file the commit registered (see stateFileSql), if it is the table's whole current
 * state and local: not so for an empty state (DuckLake lists no file) or one the catalog
 * wrote itself.
 */
async function commitStateFile(session: Session, lake: LakeTables, commitId: string): Promise<string | undefined> {
  const { catalog, schema, current } = lake.names;
  const files = await session.rows<{ data_file: string }>(
    `SELECT data_file FROM ducklake_list_files(${quoteLiteral(catalog)}, ${quoteLiteral(current)}, schema => ${quoteLiteral(schema)})`,
  );
  const [file] = files.map((f) => f.data_file);
  // A file on S3 (a shared data path) cannot be linked to: the export is written from the catalog.
  return files.length === 1 && !isRemotePath(file) && path.basename(file) === `cdcflow-${commitId}.parquet` ? file : undefined;
}

function upToDate(published: PublishedManifest, log: readonly CommitRecord[]): boolean {
  const dates = Object.keys(published.history);
  return (
    published.current === (log.at(-1)?.commitId ?? null) &&
    dates.length === log.length &&
    log.every((c) => published.history[c.businessDate] === c.commitId)
  );
}
