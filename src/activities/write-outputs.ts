/**
 * Stage 5: commit the date in one DuckLake transaction that registers the state and history
 * files the diff wrote (with the commit log and head), then publish the exports and remove the
 * run's stage files (retention follows once per dataset run: expire-snapshots.ts). The catalog's one connection per process is held only for
 * the metadata. A retry after the commit finds the date committed with the same fingerprint and
 * only completes what follows it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, rmdir, utimes } from 'node:fs/promises';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import { committedChangeCounts, prepareChangeCommit } from '../changes/commit-changes';
import type { ChangeCounts } from '../changes/counts';
import type { TableConfig } from '../config/types';
import type { Engine } from '../engine/duckdb';
import type { Bucket } from '../engine/key-buckets';
import { isRemotePath } from '../engine/s3';
import { publishCurrentSql, readOwnParquet } from '../engine/stage-sql';
import { linkOrCopy } from '../warehouse/atomic';
import { catalogAlias, lakeDataFile, lakeTables, withCatalog } from '../warehouse/catalog';
import { type CommitFiles, commitDate, replacesByDrop } from '../warehouse/commit';
import { type CommitRecord, commitTag, readCommitLog, sharedCommitSnapshots, tableSnapshots } from '../warehouse/commits';
import { type TableLayout, tableLayout } from '../warehouse/layout';
import { publishCommit, publishExports, type StepHook } from '../warehouse/publish';
import { tableBuckets } from '../workflows/buckets';
import { hashShape, runFingerprint } from './fingerprint';
import { watermarkColumnOf } from './watermark';
import { type ActivityDeps, runStage } from './stage-runner';
import type { OperationCounts, WriteInput, WriteResult } from './types';
import { bucketFiles, diffOf } from './diff-batch';

export function writeOutputs(deps: ActivityDeps) {
  return (input: WriteInput): Promise<WriteResult> =>
    runStage(deps, 'write', async () => {
      const { table, businessDate, base, head, hashFingerprint, watermark } = input;
      const layout = tableLayout(table.warehouse, table.dataset, table.name);
      const step: StepHook = async (name) => deps.atStep?.(name);
      const fingerprint = runFingerprint(hashFingerprint, table, businessDate, base);
      const lake = lakeTables(catalogAlias(table.warehouse, deps.engine.catalogUrl), table.dataset, table.name);
      // Only a retry, or a run of the date the plan found committed last, can find its date committed already.
      const mayBeCommitted = Context.current().info.attempt > 1 || input.headDate === undefined || input.headDate === businessDate;
      const { committed, committedChanges } = mayBeCommitted
        ? await withCatalog(deps.engine, table.warehouse, async (s) => {
            const committed = (await readCommitLog(s, lake)).find((c) => c.businessDate === businessDate);
            const done = committed?.fingerprint === fingerprint && table.mode === 'changes';
            return { committed, committedChanges: done ? await committedChangeCounts(s, lake, table.name, businessDate) : undefined };
          })
        : { committed: undefined, committedChanges: undefined };
      const skipped = committed?.fingerprint === fingerprint;
      let commit = committed;
      let changes: ChangeCounts | undefined = committedChanges;
      // The files this attempt committed: its exports are published from them.
      let files: CommitFiles | undefined;
      if (!commit || !skipped) {
        const buckets = tableBuckets(input.buckets ?? 1);
        const diffs = await Promise.all(buckets.map((b) => diffOf(layout, table, businessDate, fingerprint, b)));
        if (diffs.some((d) => !d)) throw new Error(`the diff of ${table.dataset}.${table.name} ${businessDate} is missing: run the table again`);
        const counts: OperationCounts = { I: 0, U: 0, D: 0, X: 0, N: 0 };
        for (const d of diffs) for (const [op, n] of Object.entries(d!.counts) as [keyof OperationCounts, number][]) counts[op] += n;
        const record: CommitRecord = {
          businessDate,
          commitId: randomUUID(),
          baseDate: base?.date ?? null,
          fingerprint,
          shape: hashShape(table),
          counts,
          currentRows: counts.I + counts.U + counts.N + counts.X,
          historyRows: counts.I + counts.U + counts.D,
          watermark: watermark ?? null,
          watermarkColumn: watermark == null ? null : watermarkColumnOf(table),
        };
        const registered = await commitFiles(deps.engine, table, layout, buckets, record);
        const orderFile = table.mode === 'changes' ? lakeDataFile(table.warehouse, deps.engine.dataPath, table.dataset, table.name, 'order', record) : undefined;
        if (orderFile) await placeInLake(deps.engine, layout.stageFile(businessDate, 'order'), orderFile);
        const change = orderFile ? await prepareChangeCommit(lake, input, diffs[0]!.stale ?? 0, orderFile, replacesByDrop(record, head)) : undefined;
        changes = change?.counts;
        const tag = commitTag(table, record, { current: registered.current, ...(orderFile ? { order: [orderFile] } : {}) });
        await step('commit');
        try {
          await commitDate(deps.engine, table.warehouse, {
            table,
            lake,
            files: registered,
            commit: record,
            tag,
            expectedHead: head,
            expectedHeadDate: input.headDate,
            step,
            extraStatements: change?.statements,
            addedColumns: table.columns.filter((c) => input.addedColumns?.includes(c.name)),
            stopped: Context.current().cancellationSignal,
          });
        } catch (err) {
          // Not registered, so nobody reads them (a crash, or S3, leaves them to `cdcflow vacuum`).
          const placed = [...registered.current, ...registered.history, ...(orderFile ? [orderFile] : [])];
          await Promise.all(placed.filter((f) => !isRemotePath(f)).map((f) => rm(f, { force: true })));
          throw err;
        }
        commit = record;
        files = registered;
      }
      await step('publish');
      const publish = { table, lake, layout, step };
      if (files) await publishCommit(deps.engine, { ...publish, commit, replacedHead: head, files });
      else await publishExports(deps.engine, publish);
      // A commit that followed this one may have been published first: roll forward to it.
      const tagged = await sharedCommitSnapshots(deps.engine, table.warehouse);
      if (tableSnapshots(tagged, table.dataset, table.name).at(-1)?.tag.commit !== commit.commitId) await publishExports(deps.engine, publish);
      await rm(layout.workDir(businessDate), { recursive: true, force: true });
      // The folders go too once no other date is in progress.
      for (const dir of [layout.publishTmp, layout.tableWork]) await rmdir(dir).catch(() => undefined);
      return {
        counts: commit.counts,
        commitId: commit.commitId,
        currentPath: layout.current,
        historyPath: layout.history(businessDate),
        currentRows: commit.currentRows,
        historyRows: commit.historyRows,
        skipped,
        ...(changes ? { changes } : {}),
      };
    });
}

/**
 * The commit's files, in the catalog's data folder under names no other commit uses: the files
 * each bucket's diff wrote, linked in (copied, in KEY_HASH order, to a remote data path).
 */
async function commitFiles(
  engine: Engine,
  table: TableConfig,
  layout: TableLayout,
  buckets: readonly (Bucket | undefined)[],
  commit: Pick<CommitRecord, 'commitId' | 'businessDate'>,
): Promise<CommitFiles> {
  const files: { current: string[]; history: string[] } = { current: [], history: [] };
  for (const bucket of buckets) {
    const written = bucketFiles(layout, commit.businessDate, bucket);
    for (const part of ['current', 'history'] as const) {
      const file = lakeDataFile(table.warehouse, engine.dataPath, table.dataset, table.name, part, commit, bucket);
      await placeInLake(engine, written[part], file);
      files[part].push(file);
    }
  }
  return files;
}

/** Puts a stage file in the catalog's data folder: a link, or a copy in KEY_HASH order to a remote data path. */
async function placeInLake(engine: Engine, written: string, file: string): Promise<void> {
  if (isRemotePath(file)) {
    await engine.withExportSession((s, keepsOrder) => s.run(publishCurrentSql(readOwnParquet(written), file, '*', keepsOrder ? 'as-read' : 'sort')));
  } else {
    await mkdir(path.dirname(file), { recursive: true });
    await linkOrCopy(written, file);
    // A link keeps the stage file's time, which may be days old (a run resumed late), and vacuum's
    // orphan sweep takes an uncommitted file by its age: until the commit, this one must be young.
    const now = new Date();
    await utimes(file, now, now);
  }
}
