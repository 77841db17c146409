/** The commit log of a table: which business dates are committed, and with what. */
import { readdir } from 'node:fs/promises';
import type { TableLayout } from './layout';
import { readJsonIfExists } from './atomic';

export interface OperationCounts {
  I: number;
  U: number;
  D: number;
  X: number;
  N: number;
}

export interface CommitRecord {
  businessDate: string;
  /** The committed date this run was diffed against (null for the first run). */
  baseDate: string | null;
  /** Fingerprint of everything the outputs depend on; equal fingerprint, equal outputs. */
  fingerprint: string;
  /** What the stored hashes mean (keys, columns, types, ignore list, encoding version). */
  shape: string;
  counts: OperationCounts;
  currentRows: number;
  historyRows: number;
}

/** Committed business dates, oldest first. */
export async function committedDates(layout: TableLayout): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(layout.snapshotsRoot);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const dates = entries.flatMap((e) => /^business_date=(\d{4}-\d{2}-\d{2})$/.exec(e)?.[1] ?? []).sort();
  const committed = await Promise.all(dates.map(async (d) => ((await readCommit(layout, d)) ? d : null)));
  return committed.filter((d): d is string => d !== null);
}

export function readCommit(layout: TableLayout, date: string): Promise<CommitRecord | undefined> {
  return readJsonIfExists<CommitRecord>(layout.commitMarker(date));
}
