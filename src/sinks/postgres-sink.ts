/** A PostgreSQL database (connection string in the worker's environment) as a sink. */
import type { SinkSpec } from '../config/types';
import { withPostgresAttached } from '../engine/postgres-attach';
import type { Sink } from './sink';

export const postgresSink: Sink<Extract<SinkSpec, { type: 'postgres' }>> = {
  native: true,
  withTarget(session, sink, table, fn, access = { readOnly: false }) {
    return withPostgresAttached(session, sink.connection, { dataset: table.dataset, table: table.name, sink: sink.name }, access, fn);
  },
};
