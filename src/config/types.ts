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
  /** Columns a file has and the config does not name. */
  extraColumns: 'ignore' | 'refuse';
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
  /** A full snapshot deleting more than this share of the current keys is refused. */
  maxDeleteShare: number;
  /** The delete guard is switched off for this table. */
  allowDeletes: boolean;
  /** Absolute warehouse root; the table's outputs live in `<warehouse>/<dataset>/<table>`. */
  warehouse: string;
  retention: Retention;
}

export interface Retention {
  /** Committed dates whose DuckLake snapshots are kept (time travel, re-runs); at least 2. */
  keepDates: number;
}

export interface DatasetConfig {
  dataset: string;
  warehouse: string;
  maxConcurrentTables: number;
  heartbeatTimeoutSeconds: number;
  tables: TableConfig[];
}
