/**
 * A DuckDB database file as a sink. DuckDB lets one process at a time open a file for writing,
 * so the file is attached only while a date is applied, and the applies of one process to one
 * file take turns; another process holding it makes the attempt fail and Temporal retry it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { SinkSpec } from '../config/types';
import { quoteIdent, quoteLiteral } from '../engine/sql';
import type { Sink } from './sink';

const turns = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same key has settled. */
function inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const result = (turns.get(key) ?? Promise.resolve()).then(fn, fn);
  const settled = result.catch(() => undefined);
  turns.set(key, settled);
  void settled.then(() => turns.get(key) === settled && turns.delete(key));
  return result;
}

export const duckdbFileSink: Sink<Extract<SinkSpec, { type: 'duckdb' }>> = {
  native: false,
  withTarget(session, sink, _table, fn, access = { readOnly: false }) {
    const alias = `cdcflow_sink_${createHash('sha256').update(sink.path).digest('hex').slice(0, 12)}`;
    return inTurn(sink.path, async () => {
      mkdirSync(path.dirname(sink.path), { recursive: true });
      await session.run(`ATTACH ${quoteLiteral(sink.path)} AS ${quoteIdent(alias)}${access.readOnly ? ' (READ_ONLY)' : ''}`);
      try {
        return await fn(alias);
      } finally {
        await session.run(`DETACH ${quoteIdent(alias)}`);
      }
    });
  },
};
