/**
 * The resolved config: plain JSON data, absolute paths, defaults applied. Workflows receive it
 * as input, so this file holds types only (it is imported into the workflow bundle).
 */
export type Mode = 'full' | 'delta';

export interface ColumnSpec {
  name: string;
  /** Normalised DuckDB type, e.g. `decimal(10,2)`. */
  type: string;
}

export interface CsvOptions {
  header: boolean;
  delimiter: string;
  quote: string;
  nullString: string;
}

export interface SourceSpec {
  format: 'csv' | 'parquet' | 'json';
  /** Absolute path or glob; `{date}` is replaced by the business date. */
  path: string;
  csv: CsvOptions;
}

export interface TableConfig {
  dataset: string;
  name: string;
  mode: Mode;
  keys: ColumnSpec[];
  columns: ColumnSpec[];
  /** Non-key column names left out of change detection. */
  ignore: string[];
  source: SourceSpec;
  /** Absolute warehouse root; the table's outputs live in `<warehouse>/<dataset>/<table>`. */
  warehouse: string;
}

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
