/** Around every hash stage's reading: the batch, its fingerprint, an earlier attempt's output reused, the commit of the new one. */
import type { FileTableConfig, TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import { assertFilesUnchanged } from '../sources/file-source';
import { sourceOf } from '../sources/registry';
import { type LocalFile, readLocalCopies } from '../sources/source-copies';
import { tableLayout } from '../warehouse/layout';
import { hashFingerprint } from './fingerprint';
import { commitStage, committedStage } from './stage-output';
import type { HashResult } from './types';

/** A batch to hash: the table config that reads its files, and the files as local files. */
export interface BatchToHash {
  table: FileTableConfig;
  copies: LocalFile[];
}

/** How a hash stage writes its output (to a temporary file, checking it), and what it wrote. */
export interface HashWork {
  write(tmp: string): Promise<void>;
  result(): Omit<HashResult, 'fingerprint' | 'skipped'>;
}

/**
 * The committed output of the batch's fingerprint if there is one (nothing read or downloaded),
 * else the output `hash` writes, committed. `output` names what the stage writes when it is not
 * the hashed rows.
 */
export async function hashOnce(
  session: Session,
  configured: TableConfig,
  businessDate: string,
  output: string | undefined,
  hash: (batch: BatchToHash) => Promise<HashWork>,
): Promise<HashResult> {
  // From here on, `table` reads the batch's files (an extracted source's are Parquet).
  const { table, files } = await sourceOf(configured).batch(session, configured, businessDate);
  const layout = tableLayout(table.warehouse, table.dataset, table.name);
  const fingerprint = hashFingerprint(table, files, output);
  const outputPath = layout.stageFile(businessDate, 'hashed');
  const manifestPath = layout.stageManifest(businessDate, 'hashed');
  const done = await committedStage<HashResult>(outputPath, manifestPath, fingerprint);
  if (done) return { ...done, skipped: true };
  return readLocalCopies(files, layout.sourceCopies(businessDate), async (copies) => {
    const work = await hash({ table, copies });
    const write = async (tmp: string) => {
      await work.write(tmp);
      await assertFilesUnchanged(table, files);
    };
    return commitStage<HashResult>({ outputPath, manifestPath, fingerprint, write, result: async () => ({ ...work.result(), fingerprint, skipped: false }) });
  });
}
