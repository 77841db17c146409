/** A table's `sinks:` resolved: a name each, absolute file paths, the target schema. */
import * as path from 'node:path';
import type { SinkSpec } from '../config/types';
import type { SinkFile } from './sink-schema';

export function resolveSinks(sinks: readonly SinkFile[], dataset: string, configDir: string): SinkSpec[] {
  return sinks.map((s) => {
    const common = { name: s.name ?? s.type, schema: s.schema ?? dataset };
    return s.type === 'duckdb' ? { type: s.type, ...common, path: path.resolve(configDir, s.path) } : { type: s.type, ...common, connection: s.connection };
  });
}
