/** Inputs and results of the stage activities: references and counts, never rows. */
import type { TableConfig } from '../config/types';
import type { Bucket } from '../engine/key-buckets';
import type { ChangeCounts, EventCounts } from '../changes/counts';
import type { DumpLink } from '../workflows/backfill';
import type { OperationCounts } from '../warehouse/commits';

export type { OperationCounts };

export interface StageInput {
  table: TableConfig;
  businessDate: string;
}

export interface ExtractInput extends StageInput {
  /** Delta by watermark: read only rows above this (a result's `watermark`); null reads all. */
  since: string | null;
  /** A dump's extract: reports chunks to the dataset's queue, honours a pause, reads only given keys. */
  dump?: DumpLink;
}

export type { ExtractResult } from '../sources/source';

/** The committed date a run diffs against: its fingerprint, commit and DuckLake snapshot. */
export interface BaseRef {
  date: string;
  fingerprint: string;
  commitId: string;
  snapshot: number;
  /** The Parquet files holding the state at that snapshot (what the diff stages read). */
  files: string[];
  /** Change-record tables: the files of the ordering state (per-key ordering values and tombstones) at that snapshot. */
  orderFiles?: string[];
  /** The source watermark committed with it (null: none). */
  watermark: string | null;
}

export interface PlanResult {
  base: BaseRef | null;
  /** The table's latest commit when planned; the write refuses to commit if it moved. */
  head: string | null;
  latestCommitted: string | null;
  /** Non-key columns the config appends to the latest commit's shape: the commit adds them to the catalog tables. */
  addedColumns?: string[];
}

export interface HashResult {
  rows: number;
  files: number;
  fingerprint: string;
  skipped: boolean;
  /** Change-record tables: the batch's events by kind, and duplicate deliveries. */
  events?: EventCounts;
}

export interface DiffInput extends StageInput {
  base: BaseRef | null;
  head: string | null;
  /** The business date of `head` (null: no commit yet; absent: not known, from an older workflow). */
  headDate?: string | null;
  hashFingerprint: string;
  /** Committed with the date: the next delta reads rows above it. */
  watermark?: string | null;
  /** The diff stage: the key-hash bucket it works on (absent: all keys). */
  bucket?: Bucket;
  /** The plan's addedColumns: the write adds them to the catalog tables. */
  addedColumns?: string[];
}

export interface WriteInput extends DiffInput {
  /** The run's bucket count (absent: one): the commit registers the files each bucket's diff made. */
  buckets?: number;
}

export interface SinkInput extends StageInput {
  /** The sink's name in the table's config. */
  sink: string;
}

export type { SinkReport } from '../sinks/sink';

export interface DiffResult {
  counts: Partial<OperationCounts>;
  skipped: boolean;
  /** Change-record tables: events not newer than what the state holds for their key. */
  stale?: number;
}

export interface WriteResult {
  counts: OperationCounts;
  commitId: string;
  currentPath: string;
  historyPath: string;
  currentRows: number;
  historyRows: number;
  skipped: boolean;
  /** Change-record tables: events by kind, duplicates and stale events. */
  changes?: ChangeCounts;
}
