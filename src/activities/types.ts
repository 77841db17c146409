/** Inputs and results of the stage activities: references and counts, never rows. */
import type { TableConfig } from '../config/types';
import type { OperationCounts } from '../warehouse/commits';

export type { OperationCounts };

export interface StageInput {
  table: TableConfig;
  businessDate: string;
}

export interface ExtractInput extends StageInput {
  /** Delta by watermark: read only rows above this (a result's `watermark`); null reads all. */
  since: string | null;
}

export type { ExtractResult } from '../sources/source';

/** The committed date a run diffs against, and the fingerprint it was committed with. */
export interface BaseRef {
  date: string;
  fingerprint: string;
}

export interface PlanResult {
  base: BaseRef | null;
  latestCommitted: string | null;
}

export interface HashResult {
  rows: number;
  files: number;
  fingerprint: string;
  skipped: boolean;
}

export interface DiffInput extends StageInput {
  base: BaseRef | null;
  hashFingerprint: string;
}

export interface DiffResult {
  counts: Partial<OperationCounts>;
  skipped: boolean;
}

export interface WriteResult {
  counts: OperationCounts;
  currentPath: string;
  historyPath: string;
  currentRows: number;
  historyRows: number;
  skipped: boolean;
}
