/**
 * The `sinks:` of a table as written in the config, and the checks that tie sinks and
 * `sensitive: true` columns to the rest of the table.
 */
import { z } from 'zod';
import { localPath } from '../config/local-path';

/** Names that become part of SQL identifiers in the sink (schemas, markers). */
const SINK_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

const sinkName = z.string().regex(SINK_NAME, 'must start with a letter and hold only letters, digits, _ and - (at most 63)');

const targetSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(55, 'must be at most 55 characters (the sensitive schema appends _sensitive)')
  .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), 'must not contain control characters');

const duckdbSink = z.strictObject({
  type: z.literal('duckdb'),
  name: sinkName.optional().describe('Names the sink in reports and status (default: its type).'),
  path: localPath.describe("The DuckDB database file; relative paths resolve against the config file's folder."),
  schema: targetSchema.optional().describe('Schema of the tables in the file (default: the dataset name).'),
});

const postgresSink = z.strictObject({
  type: z.literal('postgres'),
  name: sinkName.optional().describe('Names the sink in reports and status (default: its type).'),
  connection: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable holding the connection string (letters, digits, _), never the string itself')
    .describe("Name of the worker's environment variable that holds the PostgreSQL connection string."),
  schema: targetSchema.optional().describe('Schema of the tables in the database (default: the dataset name).'),
});

export const sinkSchema = z.discriminatedUnion('type', [duckdbSink, postgresSink]);

export type SinkFile = z.infer<typeof sinkSchema>;

interface CheckedTable {
  name: string;
  keys: { name: string; sensitive?: boolean }[];
  columns: { name: string; sensitive?: boolean }[];
  sinks: SinkFile[];
}

/** Sink names are unique per table; keys are never sensitive (the main outputs need them). */
export function checkSinksAndSensitive(t: CheckedTable, ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  t.sinks.forEach((s, i) => {
    const name = s.name ?? s.type;
    if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['sinks', i, 'name'], message: `duplicates sink "${name}" (give each sink of a type its own name)` });
    names.add(name);
  });
  // PostgreSQL cuts identifiers at 63 bytes: <table>_history must fit.
  if (t.sinks.length > 0 && Buffer.byteLength(t.name) > 55) {
    ctx.addIssue({ code: 'custom', path: ['name'], message: 'must be at most 55 characters in a table with sinks (its sink tables are <name>_current and <name>_history)' });
  }
  if (t.sinks.some((s) => s.type === 'postgres')) checkPostgresColumnNames(t, ctx);
  t.keys.forEach((k, i) => {
    if (k.sensitive) ctx.addIssue({ code: 'custom', path: ['keys', i, 'sensitive'], message: 'a key column cannot be sensitive: the main outputs are keyed by it' });
  });
}

/** The longest identifier PostgreSQL keeps (NAMEDATALEN - 1): it cuts longer ones without an error. */
const POSTGRES_MAX_IDENTIFIER_BYTES = 63;

/**
 * A PostgreSQL sink's columns carry the configured names, which PostgreSQL would cut to 63 bytes:
 * the sink's column would not be named as configured, and two names alike in their first 63 bytes
 * would make its CREATE TABLE fail (`specified more than once`) on every retry.
 */
function checkPostgresColumnNames(t: CheckedTable, ctx: z.RefinementCtx): void {
  for (const [list, columns] of [['keys', t.keys], ['columns', t.columns]] as const) {
    columns.forEach((c, i) => {
      if (Buffer.byteLength(c.name) <= POSTGRES_MAX_IDENTIFIER_BYTES) return;
      ctx.addIssue({
        code: 'custom',
        path: [list, i, 'name'],
        message: `must be at most ${POSTGRES_MAX_IDENTIFIER_BYTES} bytes in a table with a PostgreSQL sink, which cuts longer names (name it shorter and read the source column with source: <its name>)`,
      });
    });
  }
}
