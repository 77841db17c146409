/** Which sink applies each `type`: a new kind of sink is one file plus one line here. */
import type { SinkSpec } from '../config/types';
import { duckdbFileSink } from './duckdb-file-sink';
import { postgresSink } from './postgres-sink';
import type { Sink } from './sink';

const SINKS: { [T in SinkSpec['type']]: Sink<Extract<SinkSpec, { type: T }>> } = {
  duckdb: duckdbFileSink,
  postgres: postgresSink,
};

export function sinkOf<S extends SinkSpec>(sink: S): Sink<S> {
  return SINKS[sink.type] as unknown as Sink<S>;
}
