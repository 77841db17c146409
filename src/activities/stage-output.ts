/**
 * Committing a stage's Parquet output: written under a temporary name, checked, renamed, then
 * described by a manifest (written last) that records the fingerprint it was made from. A
 * stage whose manifest carries the same fingerprint is already done and is skipped.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Session } from '../engine/duckdb';
import { countByOperationSql } from '../engine/stage-sql';
import { readJsonIfExists, writeAtomically, writeJsonAtomically } from '../warehouse/atomic';
import type { OperationCounts } from '../warehouse/commits';

export interface StageManifest<R> {
  fingerprint: string;
  result: R;
}

/**
 * The committed result of a stage with this fingerprint, if there is one: its manifest, and every
 * file it wrote (a stage folder removed file by file, by a vacuum killed inside it, say, may have lost one).
 */
export async function committedStage<R>(outputPaths: string | readonly string[], manifestPath: string, fingerprint: string): Promise<R | undefined> {
  const manifest = await readJsonIfExists<StageManifest<R>>(manifestPath);
  return manifest?.fingerprint === fingerprint && [outputPaths].flat().every((f) => existsSync(f)) ? manifest.result : undefined;
}

/**
 * Produces `outputPath` with `write(tmp)`, lets `check(tmp)` reject it before it is committed,
 * and records `result(...)` in the manifest.
 */
export async function commitStage<R>(opts: {
  outputPath: string;
  manifestPath: string;
  fingerprint: string;
  write: (tmpPath: string) => Promise<void>;
  result: (tmpPath: string) => Promise<R>;
}): Promise<R> {
  await rm(opts.manifestPath, { force: true });
  let result: R | undefined;
  await writeAtomically(opts.outputPath, async (tmp) => {
    await opts.write(tmp);
    result = await opts.result(tmp);
  });
  await writeJsonAtomically(opts.manifestPath, { fingerprint: opts.fingerprint, result } satisfies StageManifest<R | undefined>);
  return result as R;
}

/** Rows per OPERATION of a relation. */
export async function countOperations(session: Session, relation: string): Promise<Partial<OperationCounts>> {
  const rows = await session.rows<{ op: keyof OperationCounts; n: string | number }>(countByOperationSql(relation));
  return Object.fromEntries(rows.map((r) => [r.op, Number(r.n)]));
}
