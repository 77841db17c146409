/**
 * What every kind of sink provides: its database attached to a DuckDB session for the time of
 * `fn`, under an alias. The rest (tables, staging, transaction, marker) is the same SQL for
 * every kind (sink-sql.ts); the registry picks the kind. And what an apply reports.
 */
import type { SinkSpec, TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';

export interface Sink<S extends SinkSpec = SinkSpec> {
  /** Rows move between the sink's tables by statements the database runs itself (see sink-sql.ts). */
  native: boolean;
  /** `readOnly`: only to look (status), which a DuckDB file allows beside other readers. */
  withTarget<T>(session: Session, sink: S, table: Pick<TableConfig, 'dataset' | 'name'>, fn: (alias: string) => Promise<T>, access?: { readOnly: boolean }): Promise<T>;
}

export interface SinkDateReport {
  businessDate: string;
  commitId: string;
  inserts: number;
  updates: number;
  deletes: number;
  /**
   * The sink held the date already and its tables were rebuilt: from the state (the sink held
   * another commit of the date), or from the first date on (a sink table had gone missing).
   */
  rebuilt: boolean;
}

export interface SinkReport {
  sink: string;
  type: SinkSpec['type'];
  /** Dates applied by this call, oldest first; empty when the sink was up to date. */
  applied: SinkDateReport[];
  /** The latest date the sink holds after this call. */
  lastApplied: string | null;
}
