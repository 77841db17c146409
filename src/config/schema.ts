/**
 * The config file as a user writes it (YAML), validated with zod. `resolve.ts` turns the
 * parsed file into the resolved config that workflows and activities receive.
 */
import { z } from 'zod';

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
        /^(varchar|integer|bigint|double|boolean|date|timestamp|decimal\((\d{1,2}),(\d{1,2})\))$/,
        'must be one of varchar, integer, bigint, double, decimal(p,s), boolean, date, timestamp',
      )
      .refine((t) => {
        const m = /^decimal\((\d+),(\d+)\)$/.exec(t);
        return !m || (Number(m[1]) >= 1 && Number(m[1]) <= 38 && Number(m[2]) <= Number(m[1]));
      }, 'decimal(p,s) needs 1 <= p <= 38 and s <= p'),
  );

const columnName = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), 'must not contain control characters')
  .refine(
    (n) => !RESERVED_COLUMNS.includes(n.toUpperCase() as (typeof RESERVED_COLUMNS)[number]),
    `is reserved for cdcflow's own columns (${RESERVED_COLUMNS.join(', ')})`,
  );

const column = z.strictObject({
  name: columnName.describe('Column name in the source (matched case-insensitively, as DuckDB does).'),
  type: columnType.describe('DuckDB type the value is cast to.'),
});

/** A relative or absolute path without `..` segments. */
const safePath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !p.split(/[\\/]+/).includes('..'), 'must not contain ".." segments')
  .refine((p) => !p.includes('\u0000'), 'must not contain NUL');

const csvOptions = z.strictObject({
  header: z.boolean().default(true).describe('First line holds column names.'),
  delimiter: z.string().length(1, 'must be one character').default(','),
  quote: z.string().length(1, 'must be one character').default('"'),
  nullString: z.string().default('').describe('Text that stands for NULL (default: empty field).'),
});

const source = z.strictObject({
  format: z.enum(['csv', 'parquet', 'json']),
  path: safePath.describe(
    'File path or glob; may contain {date} (the business date, YYYY-MM-DD). Relative paths resolve against --input, else the config file\'s folder.',
  ),
  csv: csvOptions.optional(),
});

const table = z
  .strictObject({
    name: z.string().regex(PATH_NAME, 'must start with a letter and hold only letters, digits, _ and - (at most 63)'),
    mode: z.enum(['full', 'delta']).optional().describe('full: the batch is a snapshot (absent keys are deleted, D); delta: absent keys are not supplied (X).'),
    keys: z.array(column).min(1, 'needs at least one key column'),
    columns: z.array(column).default([]).describe('Non-key columns.'),
    ignore: z.array(columnName).default([]).describe('Non-key columns carried along but left out of change detection.'),
    source,
  })
  .superRefine((t, ctx) => {
    const seen = new Map<string, string>();
    [...t.keys.map((c, i) => ['keys', i, c.name] as const), ...t.columns.map((c, i) => ['columns', i, c.name] as const)].forEach(
      ([list, i, name]) => {
        const folded = name.toLowerCase();
        if (seen.has(folded)) {
          ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `duplicates column "${seen.get(folded)}" (names are case-insensitive)` });
        }
        seen.set(folded, name);
      },
    );
    const nonKeys = new Set(t.columns.map((c) => c.name.toLowerCase()));
    t.ignore.forEach((name, i) => {
      if (!nonKeys.has(name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['ignore', i], message: `"${name}" is not one of the table's non-key columns` });
      }
    });
  });

function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Go-style durations as Temporal takes them: `90s`, `15m`, `1h`, `1d`. */
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a number with a unit: ms, s, m, h or d (e.g. 15m)');

const schedule = z
  .strictObject({
    name: z.string().regex(PATH_NAME, 'must start with a letter and hold only letters, digits, _ and - (at most 63)').default('daily').describe('Names the Temporal Schedule: cdcflow/<dataset>/<name>.'),
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
    warehouse: safePath.describe('Folder for outputs; relative paths resolve against the config file\'s folder.'),
    mode: z.enum(['full', 'delta']).default('full').describe('Default mode for tables that set none.'),
    maxConcurrentTables: z.number().int().min(1).max(64).default(4),
    heartbeatTimeoutSeconds: z.number().int().min(1).max(3600).default(60).describe('A stage that stops heartbeating this long is retried (e.g. its worker died).'),
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
  });

export type DatasetFile = z.infer<typeof datasetFileSchema>;

/** JSON Schema of the config file, for editors (yaml-language-server) and other tools. */
export function configJsonSchema(): object {
  return z.toJSONSchema(datasetFileSchema, { io: 'input', unrepresentable: 'any' });
}
