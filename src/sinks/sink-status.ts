/** Each sink's last applied date per table, read from the sink's own markers (for `cdcflow status`). */
import { existsSync } from 'node:fs';
import type { DatasetConfig } from '../config/types';
import type { Engine } from '../engine/duckdb';
import { appliedDates, MISSING_TABLE } from './apply-sink';
import { sinkOf } from './registry';

export interface SinkStatus {
  table: string;
  sink: string;
  type: string;
  /** Null: nothing applied yet. */
  lastApplied: string | null;
  /** Why the sink could not be read (down, missing variable). */
  error?: string;
}

export async function sinkStatuses(engine: Engine, config: DatasetConfig): Promise<SinkStatus[]> {
  const statuses: SinkStatus[] = [];
  for (const table of config.tables) {
    for (const sink of table.sinks ?? []) {
      const row = { table: table.name, sink: sink.name, type: sink.type };
      if (sink.type === 'duckdb' && !existsSync(sink.path)) {
        statuses.push({ ...row, lastApplied: null });
        continue;
      }
      try {
        const dates = await engine.withSession((session) =>
          // Read-only: a DuckDB file that a person has open read-only can be read beside them.
          sinkOf(sink).withTarget(
            session,
            sink,
            table,
            (db) =>
              appliedDates(session, table, { db, schema: sink.schema }).catch((err: Error) => {
                if (MISSING_TABLE.test(err.message)) return new Map<string, string>();
                throw err;
              }),
            { readOnly: true },
          ),
        );
        statuses.push({ ...row, lastApplied: [...dates.keys()].sort().at(-1) ?? null });
      } catch (err) {
        statuses.push({ ...row, lastApplied: null, error: (err as Error).message.split('\n')[0] });
      }
    }
  }
  return statuses;
}
