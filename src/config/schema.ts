/**
 * The config file as a user writes it (YAML), validated with zod. `resolveConfig` (load.ts) turns the
 * parsed file into the resolved config that workflows and activities receive.
 */
import { z } from 'zod';
import { checkSinksAndSensitive, sinkSchema } from '../sinks/sink-schema';
import { checkChangeTables } from '../changes/config';
import { sourceName } from './columns';
import { DURATION } from './duration';
import { localPath, sourcePath } from './local-path';
import { knownTimeZone, timeFormatProblem, timeZoneProblem } from './time-format';
import type { ColumnSpec } from './types';

/** Names used in output paths: dataset and table names. */
export const PATH_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/** Columns cdcflow adds to every output; user columns may not take these names. */
export const RESERVED_COLUMNS = ['OPERATION', 'EFF_START_DATE', 'KEY_HASH', 'NONKEY_HASH'] as const;

const columnType = z
  .string()
  .transform((t) => t.trim().toLowerCase().replace(/\s+/g, ''))
  .pipe(
    z
      .string()
      .regex(
        /^(varchar|integer|bigint|double|boolean|date|timestamp|timestamptz|decimal\((\d{1,2}),(\d{1,2})\))$/,
        'must be one of varchar, integer, bigint, double, decimal(p,s), boolean, date, timestamp, timestamptz',
      )
      .refine((t) => {
        const m = /^decimal\((\d+),(\d+)\)$/.exec(t);
        return !m || (Number(m[1]) >= 1 && Number(m[1]) <= 38 && Number(m[2]) <= Number(m[1]));
      }, 'decimal(p,s) needs 1 <= p <= 38 and s <= p'),
  );

/** A column's name as the source spells it: any name, cdcflow's own included. */
const sourceColumnName = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), 'must not contain control characters');

/** A column's name in the outputs, which also hold cdcflow's own columns. */
const columnName = sourceColumnName.refine(
  (n) => !RESERVED_COLUMNS.includes(n.toUpperCase() as (typeof RESERVED_COLUMNS)[number]),
  `is reserved for cdcflow's own columns (${RESERVED_COLUMNS.join(', ')}); read a source column of that name with source: and name it otherwise`,
);

const column = z
  .strictObject({
    name: columnName.describe('Column name in the outputs, and in the source unless source is given (matched case-insensitively, as DuckDB does).'),
    source: sourceColumnName
      .optional()
      .describe("The source column it is read from, when that is named otherwise (e.g. one of cdcflow's own names, OPERATION); the outputs keep name."),
    type: columnType.describe('DuckDB type the value is cast to.'),
    format: z
      .string()
      .optional()
      .describe('date, timestamp, timestamptz: how text values are written, as a strptime format (e.g. %d/%m/%Y %H:%M); default: ISO 8601.'),
    timeZone: z
      .string()
      .optional()
      .describe('timestamptz: the IANA time zone (e.g. Europe/Berlin) of values that name no instant: text without a UTC offset, a timestamp without time zone; default: UTC.'),
    sensitive: z
      .boolean()
      .optional()
      .describe('Kept out of the main outputs and written to a separate dataset keyed by KEY_HASH; still compared.'),
  })
  .superRefine((c, ctx) => {
    const problem = c.format === undefined ? undefined : timeFormatProblem(c.type, c.format);
    if (problem) ctx.addIssue({ code: 'custom', path: ['format'], message: problem });
    const zoneProblem = c.timeZone === undefined ? undefined : timeZoneProblem(c.type, c.timeZone);
    if (zoneProblem) ctx.addIssue({ code: 'custom', path: ['timeZone'], message: zoneProblem });
  });

/** What a CSV source without `csv:` options gets. */
export const DEFAULT_CSV_OPTIONS = { header: true, delimiter: ',', quote: '"', nullString: '' };

const csvOptions = z.strictObject({
  header: z.boolean().default(true).describe('First line holds column names.'),
  delimiter: z.string().length(1, 'must be one character').default(','),
  quote: z.string().length(1, 'must be one character').default('"'),
  escape: z
    .string()
    .length(1, 'must be one character')
    .optional()
    .describe('Inside a quoted field, the character that makes the next quote or itself literal: the quote (default, a doubled quote "") or "\\\\" (backslash escapes, as MySQL writes them).'),
  nullString: z.string().default('').describe('Text that stands for NULL (default: empty field).'),
  encoding: z
    .enum(['utf-8', 'utf-16', 'latin-1'])
    .optional()
    .describe('How the bytes are text: utf-8 (default), utf-16 (little-endian, as Windows writes it) or latin-1 (ISO-8859-1).'),
}).superRefine((csv, ctx) => {
  // DuckDB cannot tell an escaped character from a null string holding the escape.
  if (csv.escape !== undefined && csv.escape !== csv.quote && csv.nullString.includes(csv.escape)) {
    ctx.addIssue({ code: 'custom', path: ['nullString'], message: `must not hold csv.escape (${JSON.stringify(csv.escape)}): DuckDB cannot read such a file` });
  }
});

const duration = z.string().regex(DURATION, 'must be a number with a unit: ms, s, m, h or d (e.g. 15m)');

const fileSource = z.strictObject({
  format: z.enum(['csv', 'parquet', 'json', 'debezium']).describe('debezium: Debezium JSON change events, one per line (mode: changes only).'),
  path: sourcePath.describe(
    'File path or glob, or s3://bucket/key-glob; may contain {date} (the business date, YYYY-MM-DD). Relative paths resolve against --input, else the config file\'s folder.',
  ),
  csv: csvOptions.optional(),
  extraColumns: z
    .enum(['ignore', 'refuse'])
    .default('ignore')
    .describe('Columns in a file that the config does not name: ignored (default) or refused.'),
  missingColumns: z
    .union([z.enum(['refuse', 'null']), z.null()])
    // `missingColumns: null` in YAML is a null, not the text "null".
    .transform((v) => v ?? 'null')
    .default('refuse')
    .describe(
      "Configured non-key columns a file lacks (JSON written without nulls): refused (default), or null: read as NULL for that file's rows. A missing key column is always refused.",
    ),
  waitForFiles: duration
    .optional()
    .describe('How long a run waits for its date\'s files to appear before failing, e.g. 2h (checked every minute, or every tenth of the wait if shorter). Default: fail at once.'),
  readyFile: sourcePath
    .optional()
    .describe('A file the export writes once the batch is complete, e.g. "{date}/_SUCCESS": the batch is read only once it exists (and waited for with waitForFiles); files matching it are not part of the batch.'),
});

/** The most key-hash buckets a table may be split into. */
export const MAX_BUCKETS = 256;

const maxDeleteShare = z
  .number()
  .min(0)
  .max(1)
  .describe('A full snapshot that would delete more than this share of the current keys is refused (default 0.5).');
const allowDeletes = z.boolean().describe('Let through what the delete guard refuses (an empty snapshot, a mass delete).');

/** `schema.table`: split at the first dot, so a table name may hold dots but a schema name may not. */
export const QUALIFIED_TABLE = /^([^.]+)\.(.+)$/;

/** One amount of a unit PostgreSQL's interval input knows ("15 minutes", "15min", "2 hrs", "3d"). */
const INTERVAL_PART = String.raw`\d{1,9} *(us|usecs?|microseconds?|ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)`;
/** Interval text of whole units only, so nothing but a duration reaches the SQL. */
const INTERVAL = new RegExp(`^${INTERVAL_PART}( *${INTERVAL_PART})*$`);

const watermarkLookback = z
  .union([
    z.string().regex(INTERVAL, 'must be a duration such as "15 minutes", "2 hours" or "1h30m" (units: us, ms, s, min, h, d, w, spelled out or not; for a timestamp or date watermark)'),
    z.number().positive('must be above 0').max(Number.MAX_SAFE_INTEGER).describe('For a numeric watermark.'),
  ])
  .describe(
    'How far below the column\'s maximum the next delta starts reading: rows of transactions still open when the maximum was taken ' +
      '(their watermark lands below it) are read by the next delta. Give at least your longest write transaction.',
  );

const postgresSource = z.strictObject({
  format: z.literal('postgres'),
  connection: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable holding the connection string (letters, digits, _), never the string itself')
    .describe('Name of the worker\'s environment variable that holds the PostgreSQL connection string.'),
  table: z
    .string()
    .regex(QUALIFIED_TABLE, 'must be schema-qualified: schema.table')
    .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), 'must not contain control characters')
    .optional()
    .describe('The schema-qualified table to read (or give a query).'),
  query: z
    .string()
    .min(1, 'must not be empty')
    .refine((q) => !q.trim().endsWith(';'), 'must be one SELECT without a trailing semicolon')
    .refine((q) => !q.includes('\u0000'), 'must not contain NUL')
    .optional()
    .describe('A SELECT whose result is read instead of a table; it is wrapped as a subquery.'),
  chunkRows: z.number().int().min(1).max(10_000_000).default(50_000).describe('Rows per keyset chunk.'),
  concurrentChunks: z.number().int().min(1).max(16).default(2).describe('Chunks read at once, each on a PostgreSQL connection of its own.'),
  watermark: z
    .strictObject({
      column: sourceColumnName.describe('A source column that grows with every change, e.g. updated_at (its name in PostgreSQL).'),
      lookback: watermarkLookback.optional(),
    })
    .optional()
    .describe('Delta runs read only rows whose watermark is above the last committed one (less the lookback).'),
});

const source = z.discriminatedUnion('format', [fileSource, postgresSource]);

const table = z
  .strictObject({
    name: z.string().regex(PATH_NAME, 'must start with a letter and hold only letters, digits, _ and - (at most 63)'),
    mode: z.enum(['full', 'delta', 'changes']).optional().describe('full: the batch is a snapshot (absent keys are deleted, D); delta: absent keys are not supplied (X); changes: the batch is change records (insert/update/delete events).'),
    keys: z.array(column).min(1, 'needs at least one key column'),
    columns: z.array(column).default([]).describe('Non-key columns.'),
    ignore: z.array(columnName).default([]).describe('Non-key columns carried along but left out of change detection.'),
    maxDeleteShare: maxDeleteShare.optional(),
    allowDeletes: allowDeletes.optional(),
    buckets: z
      .number()
      .int()
      .min(1)
      .max(MAX_BUCKETS)
      .optional()
      .describe('Key-hash buckets the diff and write are split into, run as parallel activities that several workers share (default: one per 2,000,000 batch rows). Change-record tables use one.'),
    operation: z
      .strictObject({
        // Read, never stored: a source column may be called `operation` here.
        column: sourceColumnName.describe('The column holding the event type (any name: it is not stored).'),
        insert: z.array(z.string().min(1)).min(1).optional().describe('Values meaning insert (default I, insert, c, r; any case).'),
        update: z.array(z.string().min(1)).min(1).optional().describe('Values meaning update (default U, update, u; any case).'),
        delete: z.array(z.string().min(1)).min(1).optional().describe('Values meaning delete (default D, delete, d; any case).'),
      })
      .optional()
      .describe('mode: changes: which column says insert, update or delete (default column: op).'),
    orderBy: z
      .array(z.union([columnName, column]))
      .min(1, 'needs at least one column')
      .optional()
      .describe('mode: changes: the columns that say which event is newer, compared in order: a configured column, or { name, type } for an event-only one (Debezium: JSON paths such as source.lsn).'),
    tombstoneRetentionDays: z.number().int().min(1).optional().describe('mode: changes: tombstones of deleted keys are kept this many days (default: forever).'),
    source,
    sinks: z.array(sinkSchema).default([]).describe('Stores kept in sync with the committed outputs besides the Parquet lake.'),
  })
  .superRefine((t, ctx) => {
    checkColumnNames(t, ctx);
    if (t.source.format === 'postgres' && (t.source.table === undefined) === (t.source.query === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'needs exactly one of table and query' });
    }
    checkSinksAndSensitive(t, ctx);
    if (t.source.format === 'postgres') checkWatermarkNotSensitive(t.columns, t.source.watermark?.column, ctx);
    const nonKeys = new Set(t.columns.map((c) => c.name.toLowerCase()));
    t.ignore.forEach((name, i) => {
      if (!nonKeys.has(name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['ignore', i], message: `"${name}" is not one of the table's non-key columns` });
      }
    });
  });

/**
 * Configured names are unique, and so are the source columns read: a source column read into
 * two columns is most likely a mistake. Names are compared case-insensitively, as DuckDB does.
 */
function checkColumnNames(t: { keys: ColumnSpec[]; columns: ColumnSpec[] }, ctx: z.RefinementCtx): void {
  const names = new Map<string, string>();
  const read = new Map<string, string>();
  const listed = [...t.keys.map((c, i) => ['keys', i, c] as const), ...t.columns.map((c, i) => ['columns', i, c] as const)];
  for (const [list, i, c] of listed) {
    const name = c.name.toLowerCase();
    const from = sourceName(c).toLowerCase();
    if (names.has(name)) {
      ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `duplicates column "${names.get(name)}" (names are case-insensitive)` });
    } else if (read.has(from)) {
      ctx.addIssue({
        code: 'custom',
        path: [list, i, c.source === undefined ? 'name' : 'source'],
        message: `reads source column "${sourceName(c)}", which column "${read.get(from)}" reads already (a source column is read into one column; names are case-insensitive)`,
      });
    }
    names.set(name, c.name);
    if (!read.has(from)) read.set(from, c.name);
  }
}

/**
 * The watermark's latest value travels in the extract's result (a Temporal payload), the commit
 * log and the run's report, where a sensitive column's values must not.
 */
function checkWatermarkNotSensitive(columns: ColumnSpec[], watermark: string | undefined, ctx: z.RefinementCtx): void {
  if (watermark && columns.some((c) => c.sensitive && sourceName(c).toLowerCase() === watermark.toLowerCase())) {
    ctx.addIssue({
      code: 'custom',
      path: ['source', 'watermark', 'column'],
      message: 'must not be a sensitive column: the latest watermark is kept in the commit log and shown in run results',
    });
  }
}


const schedule = z
  .strictObject({
    name: z.string().regex(PATH_NAME, 'must start with a letter and hold only letters, digits, _ and - (at most 63)').default('daily').describe('Names the Temporal Schedule: cdcflow/<dataset>/schedule/<name> (default: daily).'),
    cron: z.array(z.string().min(1)).optional().describe('Cron expressions (minute hour day-of-month month day-of-week), e.g. "0 2 * * *".'),
    every: duration.optional().describe('An interval instead of (or besides) cron, e.g. 1h.'),
    timeZone: z.string().min(1).refine(knownTimeZone, 'is not a known IANA time zone (e.g. Europe/Paris)').default('UTC').describe('IANA time zone of the cron expressions and of the business date.'),
    businessDate: z.enum(['scheduled-day', 'previous-day']).or(z.strictObject({ offsetDays: z.number().int().min(-366).max(366) })).default('previous-day').describe('Which date a run processes: the scheduled day, the day before, or the scheduled day plus offsetDays, in timeZone.'),
    overlap: z.enum(['skip', 'buffer-one']).default('skip').describe('When the previous run is still going: skip this one, or run it after (one at most).'),
    catchupWindow: duration.default('1d').describe('After an outage, runs missed within this window are still started.'),
    mode: z.enum(['full', 'delta']).optional().describe("Overrides every table's mode for this schedule's runs (e.g. delta daily, full weekly)."),
    paused: z.boolean().default(false),
  })
  .refine((s) => Boolean(s.cron?.length || s.every), { message: 'needs cron or every' });

export const datasetFileSchema = z
  .strictObject({
    dataset: z.string().regex(PATH_NAME, 'must start with a letter and hold only letters, digits, _ and - (at most 63)'),
    warehouse: localPath.describe('Folder for outputs; relative paths resolve against the config file\'s folder.'),
    mode: z.enum(['full', 'delta', 'changes']).default('full').describe('Default mode for tables that set none.'),
    maxConcurrentTables: z.number().int().min(1).max(64).default(4),
    heartbeatTimeoutSeconds: z.number().int().min(1).max(3600).default(60).describe('A stage that stops heartbeating this long is retried (e.g. its worker died).'),
    retention: z
      .strictObject({
        keepDates: z
          .number()
          .int()
          .min(2, 'must be at least 2: re-running the latest date needs the snapshot of the date before it')
          .default(2)
          .describe('Committed dates per table whose catalog snapshots (and files) are kept for time travel and re-runs.'),
      })
      .default({ keepDates: 2 }),
    maxDeleteShare: maxDeleteShare.default(0.5),
    allowDeletes: allowDeletes.default(false),
    tables: z.array(table).min(1, 'needs at least one table'),
    schedules: z.array(schedule).default([]).describe('Temporal Schedules that run the dataset (cdcflow schedule apply).'),
  })
  .superRefine((d, ctx) => {
    const seen = new Map<string, string>();
    d.tables.forEach((t, i) => {
      const earlier = seen.get(t.name.toLowerCase());
      if (earlier) ctx.addIssue({ code: 'custom', path: ['tables', i, 'name'], message: `duplicates table "${earlier}"` });
      else seen.set(t.name.toLowerCase(), t.name);
    });
    const names = new Set<string>();
    d.schedules.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['schedules', i, 'name'], message: `duplicates schedule "${s.name}"` });
      names.add(s.name);
    });
    checkChangeTables(d, ctx);
  });

export type DatasetFile = z.infer<typeof datasetFileSchema>;

/** JSON Schema of the config file, for editors (yaml-language-server) and other tools. */
export function configJsonSchema(): object {
  return z.toJSONSchema(datasetFileSchema, { io: 'input', unrepresentable: 'any' });
}
