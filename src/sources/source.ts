/**
 * What every kind of source provides, given a DuckDB session and the table's config. The stages
 * ask the registry for a table's source and never branch on its kind.
 */
import type { FileTableConfig, SourceSpec, TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';
import type { MissingKeys } from '../workflows/backfill';

export interface SourceFile {
  path: string;
  size: number;
  /**
   * A local file's SHA-256 of the bytes: a corrected file is re-read whatever its size and mtime,
   * and the same bytes written again (a file exported anew, a table extracted anew) are the same
   * batch. An S3 object's `etag:"…"`: S3 gives the object a new ETag when it is written again,
   * so an unchanged object is recognised without downloading it.
   */
  checksum: string;
  /**
   * A local file's last modification (ms), to tell a file still being written; not part of what
   * the batch is. An S3 object has none: its download asks for the listed ETag.
   */
  modifiedMs?: number;
}

/** The files the hash stage reads, with a table config that says how to read them. */
export interface SourceBatch {
  table: FileTableConfig;
  files: SourceFile[];
}

export interface ExtractRequest {
  businessDate: string;
  /** Delta runs: only rows whose watermark is above this; null reads everything. */
  since: string | null;
  /** Identifies the run: a retry of the same run resumes its chunks, another run starts afresh. */
  runId: string;
  /** A keys-only dump: only rows with these keys (key values as text, in key column order). */
  keys?: string[][];
}

/** A finished chunk, as checkpointed in heartbeat details and in the manifest. */
export interface ChunkCheckpoint {
  chunk: number;
  rows: number;
  /** PostgreSQL's text of each key column of the chunk's end (its last row's key); empty for the last chunk. */
  lastKey: string[];
  /** Rows of every chunk so far, this one included. */
  rowsRead: number;
}

export interface ExtractResult extends MissingKeys {
  /** Folder of the chunk files (what the hash stage reads). */
  folder: string;
  chunks: number;
  rows: number;
  /** The watermark to commit with the run: the next delta reads rows above it (null without one). */
  watermark: string | null;
  /** Chunks kept from an earlier attempt of the same run (0 when it started afresh). */
  resumedChunks: number;
}

/** A business date the source holds a batch for, and one of its files. */
export interface DatedBatch {
  businessDate: string;
  file: string;
}

export interface Source<S extends SourceSpec = SourceSpec> {
  /** The batch for a business date, as files the hash stage reads. */
  batch(session: Session, table: TableConfig<S>, businessDate: string): Promise<SourceBatch>;
  /**
   * Sources whose batches are dated (a `{date}` path): the dates strictly between `after` and
   * `before` that have a batch, oldest first. A delta run checks that none was left out.
   */
  batchesBetween?(session: Session, table: TableConfig<S>, after: string, before: string): Promise<DatedBatch[]>;
  /**
   * Sources that are not files: copies the batch out to files first (the extract stage),
   * calling `checkpoint` after each durable chunk. Absent for sources read in place.
   */
  extract?(session: Session, table: TableConfig<S>, request: ExtractRequest, checkpoint: (done: ChunkCheckpoint) => void | Promise<void>): Promise<ExtractResult>;
}
