/**
 * The backfill request (a dump of the source), its status, and the signals and queries of the
 * dataset's long-lived workflow. Shared by the workflows, the extract activity and the CLI.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DatasetConfig } from '../config/types';

/** Some primary keys of one table, each value as text, by key column name. */
export interface KeyScopeRequest {
  table: string;
  rows: Record<string, string>[];
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

/** The keys of a keys-only dump as the table runs use them: values in key column order. */
export interface KeyScope {
  table: string;
  values: string[][];
}

/** What a dump's table runs need to report progress and honour a pause. */
export interface DumpLink {
  queueWorkflowId: string;
  requestId: string;
  keys?: KeyScope;
}

export type DumpState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface TableDumpProgress {
  /** extract, then diff (hash, diff stages, commit), then done or failed. */
  phase: string;
  chunks: number;
  rows: number;
  missingKeys?: string[];
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

export interface ChunkProgress {
  requestId: string;
  table: string;
  phase: string;
  chunks: number;
  rows: number;
  missingKeys?: string[];
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
