/**
 * The backfill request (a dump of the source), its status, and the signals and queries of the
 * dataset's long-lived workflow. Shared by the workflows, the extract activity and the CLI.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DatasetConfig } from '../config/types';

/**
 * Keys stored in a file of the table's work folder, `_work/<dataset>/<table>/requested-keys/<sha256>.json`
 * (a JSON array of each key's values in key column order), named by the SHA-256 of its content:
 * `cdcflow backfill` sends keys too many for a signal's payload so.
 */
export interface StoredKeys {
  sha256: string;
  count: number;
}

/** Some primary keys of one table: each value as text, by key column name, or stored in a file. */
export interface KeyScopeRequest {
  table: string;
  rows?: Record<string, string>[];
  file?: StoredKeys;
}

/** What `temporal workflow signal --name backfill` carries (see README). */
export interface BackfillRequest {
  /** Names the request: the same id sent twice is one dump. */
  requestId: string;
  /** All tables when absent. */
  tables?: string[];
  /** A keys-only dump of one table (tables is then ignored). */
  keys?: KeyScopeRequest;
  /** Business date the dump is committed as; the workflow's date (UTC) when absent. */
  businessDate?: string;
  /** The dataset's config; the last one the dataset workflow received when absent. */
  config?: DatasetConfig;
  /** What was asked for, hashed (`cdcflow backfill` sets it): the ID sent again with another request is refused. */
  digest?: string;
}

/** The keys of a keys-only dump as the table runs use them: values in key column order, or their file (read by the extract). */
export interface KeyScope {
  table: string;
  values?: string[][];
  file?: StoredKeys;
}

/** What a dump's table runs need to report progress and honour a pause. */
export interface DumpLink {
  queueWorkflowId: string;
  requestId: string;
  keys?: KeyScope;
}

/**
 * Requested keys found neither at the source nor in the committed state: the first
 * MISSING_KEYS_SHOWN by name and, when there are more, how many in all (a payload of Temporal's
 * carries them, and a big keys file may name many keys that exist nowhere).
 */
export interface MissingKeys {
  missingKeys?: string[];
  missingKeyCount?: number;
}

export const MISSING_KEYS_SHOWN = 100;

export type DumpState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface TableDumpProgress extends MissingKeys {
  /** extract, then diff (hash, diff stages, commit), then done or failed. */
  phase: string;
  chunks: number;
  rows: number;
}

export interface DumpStatus {
  requestId: string;
  scope: string;
  businessDate: string;
  state: DumpState;
  workflowId: string;
  tables: Record<string, TableDumpProgress>;
  error?: string;
  /** The request's digest, when it came with one. */
  digest?: string;
}

export interface DatasetQueueStatus {
  dataset: string;
  paused: boolean;
  /** The run or dump committing now, by workflow ID. */
  active: string | null;
  /** Waiting, in order: run workflow IDs and dump request IDs. */
  waiting: string[];
  /** Dumps queued, running and the latest finished ones, oldest first. */
  dumps: DumpStatus[];
}

export interface ChunkProgress extends MissingKeys {
  requestId: string;
  table: string;
  phase: string;
  chunks: number;
  rows: number;
}

/** A run of the dataset asks for its turn; granted by turnGrantedSignal, given back with turnReleasedSignal. */
export interface TurnRequest {
  workflowId: string;
  runId: string;
  config: DatasetConfig;
}

export const backfillSignal = defineSignal<[BackfillRequest]>('backfill');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Cancels the given dump, or the running one (and every queued one) without a requestId. */
export const cancelSignal = defineSignal<[{ requestId?: string }?]>('cancel');
export const turnRequestSignal = defineSignal<[TurnRequest]>('turnRequest');
export const turnGrantedSignal = defineSignal('turnGranted');
export const turnReleasedSignal = defineSignal<[{ workflowId: string; runId: string }]>('turnReleased');
export const chunkProgressSignal = defineSignal<[ChunkProgress]>('chunkProgress');

export const queueStatusQuery = defineQuery<DatasetQueueStatus>('backfillStatus');
export const pausedQuery = defineQuery<boolean>('paused');
