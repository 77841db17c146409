/**
 * Custom search attributes that make runs filterable in the Temporal UI. They must be
 * registered on the server: scripts/start-temporal.sh, docker-compose.yml and `cdcflow setup`
 * register CDCFLOW_SEARCH_ATTRIBUTES.
 */
import { defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';

export const DATASET_KEY = defineSearchAttributeKey('CdcflowDataset', SearchAttributeType.KEYWORD);
export const TABLE_KEY = defineSearchAttributeKey('CdcflowTable', SearchAttributeType.KEYWORD);
export const BUSINESS_DATE_KEY = defineSearchAttributeKey('CdcflowBusinessDate', SearchAttributeType.KEYWORD);
export const MODE_KEY = defineSearchAttributeKey('CdcflowMode', SearchAttributeType.KEYWORD);
/**
 * Counts of a run (a table's, or the sum over a dataset run's tables): `CdcflowDeletes > 1000`.
 * The dev server's SQLite visibility store takes at most 3 Int attributes, so the last two are
 * Double (holding whole numbers; they compare the same way in queries).
 */
export const INSERTS_KEY = defineSearchAttributeKey('CdcflowInserts', SearchAttributeType.INT);
export const UPDATES_KEY = defineSearchAttributeKey('CdcflowUpdates', SearchAttributeType.INT);
export const DELETES_KEY = defineSearchAttributeKey('CdcflowDeletes', SearchAttributeType.INT);
export const UNCHANGED_KEY = defineSearchAttributeKey('CdcflowUnchanged', SearchAttributeType.DOUBLE);
/** Rows in the batch (inserted, updated or unchanged keys). */
export const ROWS_KEY = defineSearchAttributeKey('CdcflowRows', SearchAttributeType.DOUBLE);

/** Set by Temporal on runs a Schedule starts: the time the action was scheduled for. */
export const SCHEDULED_START_KEY = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** What a dataset run starts with (a dump's, too): the dataset and its business date. */
export function datasetRunSearchAttributes(dataset: string, businessDate: string): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: DATASET_KEY, value: dataset },
    { key: BUSINESS_DATE_KEY, value: businessDate },
  ]);
}

/** Every attribute cdcflow sets, for registering them on a server. */
export const CDCFLOW_SEARCH_ATTRIBUTES = [
  DATASET_KEY,
  TABLE_KEY,
  BUSINESS_DATE_KEY,
  MODE_KEY,
  INSERTS_KEY,
  UPDATES_KEY,
  DELETES_KEY,
  UNCHANGED_KEY,
  ROWS_KEY,
] as const;
