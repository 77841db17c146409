/**
 * The resolved config: plain JSON data, absolute paths, defaults applied. Workflows receive it
 * as input, so this file holds types only (it is imported into the workflow bundle).
 */
export type Mode = 'full' | 'delta' | 'changes';

export interface ColumnSpec {
  /** Its name in every output, and in the source unless `source` says otherwise. */
  name: string;
  /** The source column it is read from, when that is named otherwise (absent: `name`). */
  source?: string;
  /** Normalised DuckDB type, e.g. `decimal(10,2)`. */
  type: string;
  /** date/timestamp/timestamptz: the strptime format of text values (default: ISO 8601). */
  format?: string;
  /** timestamptz: the IANA time zone of values that name no instant (text without an offset, a naive timestamp); absent: UTC. */
  timeZone?: string;
  /** Kept out of the main outputs, written to the table's sensitive dataset (non-key columns only). */
  sensitive?: boolean;
}

export interface CsvOptions {
  header: boolean;
  delimiter: string;
  quote: string;
  /** Makes the next quote or itself literal inside a quoted field; the quote when absent (so that fingerprints of earlier configs stay). */
  escape?: string;
  nullString: string;
  /** How the file's bytes are text: UTF-8 when absent (so that fingerprints of earlier configs stay), UTF-16 (little-endian) or Latin-1. */
  encoding?: CsvEncoding;
}

export type CsvEncoding = 'utf-8' | 'utf-16' | 'latin-1';

/** Whether the extract stage copies the batch out of the source before hashing (set by the source registry). */
interface SourceStages {
  extract: boolean;
}

export interface FileSourceSpec extends SourceStages {
  /** `debezium`: Debezium's JSON change-event envelope, one event per line (change-record tables only). */
  format: 'csv' | 'parquet' | 'json' | 'debezium';
  /** Absolute path or glob; `{date}` is replaced by the business date. */
  path: string;
  csv: CsvOptions;
  /** Columns a file has and the config does not name. */
  extraColumns: 'ignore' | 'refuse';
  /** Configured non-key columns a file lacks: refused, or read as NULL for that file's rows. */
  missingColumns: 'refuse' | 'null';
  /** How long a run waits for the date's files to appear (a Temporal duration, e.g. `2h`); absent: not at all. */
  waitForFiles?: string;
  /** Absolute path or glob (`{date}` replaced) of a file the export writes last; absent: the batch is ready once a file matches `path`. */
  readyFile?: string;
}

/** A PostgreSQL table or query, read in keyset chunks ordered by the table's keys. */
export interface PostgresSourceSpec extends SourceStages {
  format: 'postgres';
  /** Name of the worker's environment variable holding the connection string (never the string itself). */
  connection: string;
  /** Exactly one of `table` and `query` is set. */
  table: { schema: string; name: string } | null;
  query: string | null;
  chunkRows: number;
  /** Chunks read at once, each on a PostgreSQL connection of its own. */
  concurrentChunks: number;
  /** Column whose values grow with every change (`updated_at`); delta runs read rows above a bound. */
  watermark: string | null;
  /** How far below the watermark's maximum the next delta reads from: an interval's text, or a number for a numeric column. */
  watermarkLookback?: string | number;
}

export type SourceSpec = FileSourceSpec | PostgresSourceSpec;

export interface TableConfig<S extends SourceSpec = SourceSpec> {
  dataset: string;
  name: string;
  mode: Mode;
  keys: ColumnSpec[];
  columns: ColumnSpec[];
  /** Non-key column names left out of change detection. */
  ignore: string[];
  source: S;
  /** A full snapshot deleting more than this share of the current keys is refused. */
  maxDeleteShare: number;
  /** The delete guard is switched off for this table. */
  allowDeletes: boolean;
  /** Key-hash buckets of the diff and write (absent: from the batch's size; see workflows/buckets.ts). */
  buckets?: number;
  /** Absolute warehouse root; the table's outputs live in `<warehouse>/<dataset>/<table>`. */
  warehouse: string;
  retention: Retention;
  /** Stores kept in sync after each commit (absent: none). */
  sinks?: SinkSpec[];
  /** Change-record tables (`mode: changes`) only: how events are typed and ordered. */
  changes?: ChangesSpec;
}

/** How a change-record table reads its events (see src/changes/). */
export interface ChangesSpec {
  /** The column holding the event type, and its values (compared trimmed and case-insensitively). Debezium: `op`. */
  operation: { column: string; insert: string[]; update: string[]; delete: string[] };
  /** Which event is newer: compared in this order. Debezium: JSON paths into the event, e.g. `source.lsn`. */
  orderBy: ColumnSpec[];
  /** Equal ordering values are decided by the event's position in the batch (Debezium) instead of refused. */
  positionBreaksTies: boolean;
  /** Tombstones of deleted keys older than this many days before the run's date are dropped; null keeps them forever. */
  tombstoneRetentionDays: number | null;
}

/** A DuckDB database file or a PostgreSQL database that receives the committed outputs. */
export type SinkSpec =
  | { type: 'duckdb'; name: string; /** Absolute path of the database file. */ path: string; schema: string }
  | { type: 'postgres'; name: string; /** Name of the worker's environment variable with the connection string. */ connection: string; schema: string };

export interface Retention {
  /** Committed dates whose DuckLake snapshots are kept (time travel, re-runs); at least 2. */
  keepDates: number;
}

/** A table whose batch is read from files: a file source, or what the extract stage wrote. */
export type FileTableConfig = TableConfig<FileSourceSpec>;

export interface DatasetConfig {
  dataset: string;
  warehouse: string;
  maxConcurrentTables: number;
  heartbeatTimeoutSeconds: number;
  tables: TableConfig[];
  schedules: ScheduleConfig[];
}

/** A Temporal Schedule that runs the dataset; the business date comes from the scheduled time. */
export interface ScheduleConfig {
  name: string;
  cron: string[];
  /** Interval such as `1h`, or none. */
  every?: string;
  timeZone: string;
  /** Days added to the scheduled day (in timeZone) to get the business date: 0 or -1 usually. */
  businessDateOffsetDays: number;
  overlap: 'skip' | 'buffer-one';
  catchupWindow: string;
  /** Overrides every table's mode in this schedule's runs. */
  mode?: Mode;
  paused: boolean;
}
