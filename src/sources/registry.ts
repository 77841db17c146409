/** Which source reads each `source.format`: a new kind of source is one file plus one line here. */
import type { SourceSpec, TableConfig } from '../config/types';
import { fileSource } from './file-source';
import { postgresSource } from './postgres-source';
import type { Source } from './source';

const SOURCES: { [F in SourceSpec['format']]: Source<Extract<SourceSpec, { format: F }>> } = {
  csv: fileSource,
  parquet: fileSource,
  json: fileSource,
  debezium: fileSource,
  postgres: postgresSource,
};

export function sourceOf<S extends SourceSpec>(table: TableConfig<S>): Source<S> {
  return SOURCES[table.source.format] as unknown as Source<S>;
}

/** Whether tables of this format get the extract stage before hashing (the workflow reads it from the config). */
export function hasExtractStage(format: SourceSpec['format']): boolean {
  return SOURCES[format].extract !== undefined;
}
