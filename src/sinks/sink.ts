/**
 * What every kind of sink provides: its database attached to a DuckDB session for the time of
 * `fn`, under an alias. The rest (tables, staging, transaction, marker) is the same SQL for
 * every kind (sink-sql.ts); the registry picks the kind.
 */
import type { SinkSpec, TableConfig } from '../config/types';
import type { Session } from '../engine/duckdb';

export interface Sink<S extends SinkSpec = SinkSpec> {
  /** Rows move between the sink's tables by statements the database runs itself (see sink-sql.ts). */
  native: boolean;
  withTarget<T>(session: Session, sink: S, table: Pick<TableConfig, 'dataset' | 'name'>, fn: (alias: string) => Promise<T>): Promise<T>;
}
