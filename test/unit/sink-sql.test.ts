/** The sink SQL builders and the sensitive-column SQL: exact text, hostile names quoted, and the config rules. */
import * as path from 'node:path';
import { checkConfigText, resolveConfig } from '../../src/config/load';
import { retryNote } from '../../src/client/progress';
import { s3SecretSql, s3Settings } from '../../src/engine/s3';
import { dollarQuoted } from '../../src/engine/sql';
import { columnProblems } from '../../src/sinks/sink-columns';
import {
  appliedDatesSql,
  applyDateSql,
  clearSinkSql,
  columnsSql,
  createSinkTablesSql,
  exportChangesSql,
  localName,
  textHoldingSql,
  probeTableSql,
  refusalIn,
  sinkTableDefinitions,
  sinkTables,
} from '../../src/sinks/sink-sql';
import { publishSensitiveCurrentSql, publishSensitiveHistorySql, withoutSensitiveSql } from '../../src/warehouse/sensitive';

const table = {
  dataset: 'shop',
  name: 'people',
  keys: [{ name: 'id', type: 'integer' }],
  columns: [
    { name: 'v', type: 'decimal(12,2)' },
    { name: 'ssn', type: 'varchar', sensitive: true },
  ],
};
const target = { db: 'sink_db', schema: 'shop' };
/** The re-raise of PostgreSQL's refusals of the rows of `table`, as it stands inside postgres_execute's literal. */
const reraise = (table: string) =>
  'EXCEPTION WHEN data_exception OR integrity_constraint_violation OR raise_exception THEN RAISE EXCEPTION USING ERRCODE = SQLSTATE, ' +
  `MESSAGE = format(''%s: %s (SQLSTATE %s)'', ''${table.replace(/'/g, "''''")}'', SQLERRM, SQLSTATE)`;
const day = { businessDate: '2024-01-02', commitId: 'c-2', counts: { I: 1, U: 2, D: 3 }, changes: ['/tmp/c.parquet'], state: null };

describe('sink SQL', () => {
  it('creates the main, marker and sensitive tables from the config types, sensitive columns only in their own schema', () => {
    expect(createSinkTablesSql(table, target)).toEqual([
      `CREATE SCHEMA IF NOT EXISTS "sink_db"."shop"`,
      `CREATE TABLE IF NOT EXISTS "sink_db"."shop"."people_current" ("id" INTEGER, "v" DECIMAL(12,2), OPERATION VARCHAR, EFF_START_DATE DATE, KEY_HASH UUID, NONKEY_HASH UUID, PRIMARY KEY (KEY_HASH))`,
      `CREATE TABLE IF NOT EXISTS "sink_db"."shop"."people_history" ("id" INTEGER, "v" DECIMAL(12,2), OPERATION VARCHAR, EFF_START_DATE DATE, KEY_HASH UUID, NONKEY_HASH UUID)`,
      `CREATE TABLE IF NOT EXISTS "sink_db"."shop".cdcflow_applied (dataset VARCHAR, table_name VARCHAR, business_date DATE, commit_id VARCHAR, inserts BIGINT, updates BIGINT, deletes BIGINT, applied_at TIMESTAMPTZ, PRIMARY KEY (dataset, table_name, business_date))`,
      `CREATE SCHEMA IF NOT EXISTS "sink_db"."shop_sensitive"`,
      `CREATE TABLE IF NOT EXISTS "sink_db"."shop_sensitive"."people_current" (KEY_HASH UUID, "ssn" VARCHAR, PRIMARY KEY (KEY_HASH))`,
      `CREATE TABLE IF NOT EXISTS "sink_db"."shop_sensitive"."people_history" (KEY_HASH UUID, OPERATION VARCHAR, EFF_START_DATE DATE, "ssn" VARCHAR)`,
    ]);
  });

  it('probes a columns of a table with its own definition under another name in the same schema', () => {
    const [, , , sensitiveCurrent] = sinkTableDefinitions(table, target);
    expect(probeTableSql(sensitiveCurrent, 'ab12')).toEqual({
      table: `"sink_db"."shop_sensitive"."cdcflow_probe_ab12"`,
      create: `CREATE TABLE "sink_db"."shop_sensitive"."cdcflow_probe_ab12" (KEY_HASH UUID, "ssn" VARCHAR, PRIMARY KEY (KEY_HASH))`,
    });
  });

  it('clears the markers and the sink tables of the table to apply every date again (inside PostgreSQL for a native target)', () => {
    expect(clearSinkSql(table, target)).toEqual([
      `DELETE FROM "sink_db"."shop".cdcflow_applied WHERE dataset = 'shop' AND table_name = 'people'`,
      `DELETE FROM "sink_db"."shop"."people_current"`,
      `DELETE FROM "sink_db"."shop"."people_history"`,
      `DELETE FROM "sink_db"."shop_sensitive"."people_current"`,
      `DELETE FROM "sink_db"."shop_sensitive"."people_history"`,
    ]);
    expect(clearSinkSql(table, { db: 'pg', schema: 'shop', native: true }).slice(0, 2)).toEqual([
      `DELETE FROM "pg"."shop".cdcflow_applied WHERE dataset = 'shop' AND table_name = 'people'`,
      `CALL postgres_execute('pg', 'DO $q$BEGIN EXECUTE ''DELETE FROM "shop"."people_current"''; ${reraise('"shop"."people_current"')}; END$q$')`,
    ]);
  });

  it('applies a date: marker first, staged changes, deletes and upserts on current, the date replaced in history', () => {
    expect(applyDateSql(table, target, day, 'ab12')).toEqual([
      `DELETE FROM "sink_db"."shop".cdcflow_applied WHERE dataset = 'shop' AND table_name = 'people' AND business_date = DATE '2024-01-02'`,
      `INSERT INTO "sink_db"."shop".cdcflow_applied VALUES ('shop', 'people', DATE '2024-01-02', 'c-2', 1, 2, 3, now())`,
      `CREATE TABLE "sink_db"."shop"."cdcflow_stage_ab12" AS SELECT * FROM read_parquet(['/tmp/c.parquet'], hive_partitioning = false)`,
      `DELETE FROM "sink_db"."shop"."people_current" WHERE "KEY_HASH" IN (SELECT "KEY_HASH" FROM "sink_db"."shop"."cdcflow_stage_ab12")`,
      `INSERT INTO "sink_db"."shop"."people_current" ("id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH") SELECT "id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH" FROM "sink_db"."shop"."cdcflow_stage_ab12" WHERE "OPERATION" <> 'D'`,
      `DELETE FROM "sink_db"."shop"."people_history" WHERE "EFF_START_DATE" = DATE '2024-01-02'`,
      `INSERT INTO "sink_db"."shop"."people_history" ("id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH") SELECT "id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH" FROM "sink_db"."shop"."cdcflow_stage_ab12" WHERE "OPERATION" IN ('I', 'U', 'D') AND "EFF_START_DATE" = DATE '2024-01-02'`,
      `DELETE FROM "sink_db"."shop_sensitive"."people_current" WHERE "KEY_HASH" IN (SELECT "KEY_HASH" FROM "sink_db"."shop"."cdcflow_stage_ab12")`,
      `INSERT INTO "sink_db"."shop_sensitive"."people_current" ("KEY_HASH", "ssn") SELECT "KEY_HASH", "ssn" FROM "sink_db"."shop"."cdcflow_stage_ab12" WHERE "OPERATION" <> 'D'`,
      `DELETE FROM "sink_db"."shop_sensitive"."people_history" WHERE "EFF_START_DATE" = DATE '2024-01-02'`,
      `INSERT INTO "sink_db"."shop_sensitive"."people_history" ("KEY_HASH", "OPERATION", "EFF_START_DATE", "ssn") SELECT "KEY_HASH", "OPERATION", "EFF_START_DATE", "ssn" FROM "sink_db"."shop"."cdcflow_stage_ab12" WHERE "OPERATION" IN ('I', 'U', 'D') AND "EFF_START_DATE" = DATE '2024-01-02'`,
      `DROP TABLE "sink_db"."shop"."cdcflow_stage_ab12"`,
    ]);
  });

  it('moves the rows inside PostgreSQL (postgres_execute, quotes doubled, its refusals named) for a native target', () => {
    const sql = applyDateSql(table, { db: 'pg', schema: 'shop', native: true }, day, 'ab12');
    expect(sql[2]).toBe(`CREATE TABLE "pg"."shop"."cdcflow_stage_ab12" AS SELECT * FROM read_parquet(['/tmp/c.parquet'], hive_partitioning = false)`);
    expect(sql[4]).toBe(
      `CALL postgres_execute('pg', 'DO $q$BEGIN EXECUTE ''INSERT INTO "shop"."people_current" ("id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH") ` +
        `SELECT "id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH" FROM "shop"."cdcflow_stage_ab12" WHERE "OPERATION" <> ''''D''''''; ` +
        `${reraise('"shop"."people_current"')}; END$q$')`,
    );
    expect(sql.at(-1)).toBe(`DROP TABLE "pg"."shop"."cdcflow_stage_ab12"`);
  });

  it('rebuilds current from the state when the sink holds another commit of the date', () => {
    const sql = applyDateSql(table, target, { ...day, state: ['/tmp/s.parquet'] }, 'ab12');
    expect(sql).toContain(`CREATE TABLE "sink_db"."shop"."cdcflow_state_ab12" AS SELECT * FROM read_parquet(['/tmp/s.parquet'], hive_partitioning = false)`);
    expect(sql).toContain(`DELETE FROM "sink_db"."shop"."people_current"`);
    expect(sql).toContain(`INSERT INTO "sink_db"."shop"."people_current" ("id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH") SELECT "id", "v", "OPERATION", "EFF_START_DATE", "KEY_HASH", "NONKEY_HASH" FROM "sink_db"."shop"."cdcflow_state_ab12"`);
    expect(sql.at(-2)).toBe(`DROP TABLE "sink_db"."shop"."cdcflow_state_ab12"`);
  });

  it('stages the current N rows with the history only when ignored columns need a refresh', () => {
    const lake = { current: 'l.cur', history: 'l.hist' };
    expect(exportChangesSql(lake, '2024-01-02', [], '/o.parquet')).toBe(`COPY (SELECT * FROM l.hist WHERE EFF_START_DATE = DATE '2024-01-02') TO '/o.parquet' (FORMAT parquet)`);
    expect(exportChangesSql(lake, '2024-01-02', ['N'], '/o.parquet')).toContain(`UNION ALL BY NAME SELECT * FROM l.cur WHERE OPERATION IN ('N')`);
    expect(exportChangesSql(lake, '2024-01-02', ['N', 'X'], '/o.parquet')).toContain(`WHERE OPERATION IN ('N', 'X')`);
  });

  it("reads the columns from PostgreSQL's catalog with their full types, from DuckDB's DESCRIBE in a file", () => {
    expect(columnsSql({ db: 'f', schema: 'shop' }, `"f"."shop"."people_current"`)).toBe(
      `SELECT column_name, column_type, "null" = 'NO' AND "default" IS NULL AS required FROM (DESCRIBE "f"."shop"."people_current")`,
    );
    expect(columnsSql({ db: 'pg', schema: "it's", native: true }, `"pg"."it's"."people_current"`)).toBe(
      `SELECT * FROM postgres_query('pg', 'SELECT attname AS column_name, format_type(atttypid, atttypmod) AS column_type, ` +
        `attnotnull AND NOT atthasdef AND attidentity = '''' AND attgenerated = '''' AS required FROM pg_attribute ` +
        `WHERE attrelid = to_regclass(''"it''''s"."people_current"'') AND attnum > 0 AND NOT attisdropped ORDER BY attnum')`,
    );
    expect(localName({ db: 'a"b', schema: 's' }, `"a""b"."s"."t"`)).toBe(`"s"."t"`);
    expect(() => localName({ db: 'a', schema: 's' }, `"s"."t"`)).toThrow(/not in the attached database a/);
  });

  it("finds PostgreSQL's refusal of the rows in the error, not in the query it quotes, and only for SQLSTATE classes 22, 23 and a trigger's RAISE", () => {
    const query = `Invalid Error: Failed to execute query "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ;\nDO $q$BEGIN EXECUTE '...'; ... format('%s: %s (SQLSTATE %s)', ...`;
    const refused = `"s"."people_current": value too long for type character varying(2) (SQLSTATE 22001)`;
    expect(refusalIn(`${query}": ERROR:  ${refused}\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE\n`)).toBe(refused);
    const raised = `"s"."people_current": kept for audit (SQLSTATE P0001)`;
    expect(refusalIn(`${query}": ERROR:  ${raised}\nCONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE\n`)).toBe(raised);
    expect(refusalIn(`${query}": ERROR:  could not serialize access due to concurrent update\n`)).toBeNull();
    expect(refusalIn(`${query}": ERROR:  "s"."t": canceling statement due to lock timeout (SQLSTATE 55P03)\n`)).toBeNull();
  });

  it('finds the first text value with a given character (a NUL) in the staged files, by key and column', () => {
    expect(textHoldingSql({ ...table, keys: [{ name: 'id', type: 'integer' }, { name: "r'g", type: 'varchar' }] }, ['/tmp/c.parquet', '/tmp/s.parquet'], 0)).toBe(
      `SELECT column_name, key_text FROM (` +
        [`'r''g'`, `'ssn'`]
          .map(
            (name) =>
              `SELECT ${name} AS column_name, replace('(' || concat_ws(', ', 'id=' || CAST("id" AS VARCHAR), 'r''g=' || CAST("r'g" AS VARCHAR)) || ')', chr(0), '\\0') AS key_text ` +
              `FROM read_parquet(['/tmp/c.parquet', '/tmp/s.parquet'], hive_partitioning = false) WHERE strpos(${name === `'ssn'` ? '"ssn"' : `"r'g"`}, chr(0)) > 0`,
          )
          .join(' UNION ALL ') +
        ') ORDER BY key_text, column_name LIMIT 1',
    );
    // No text column: nothing to look for.
    expect(textHoldingSql({ ...table, columns: [{ name: 'v', type: 'decimal(12,2)' }] }, ['/tmp/c.parquet'], 0)).toBeNull();
  });

  it('dollar-quotes text with a tag the text cannot end early', () => {
    expect(dollarQuoted('a')).toBe('$q$a$q$');
    expect(dollarQuoted('x $q$ y')).toBe('$q1$x $q$ y$q1$');
    expect(dollarQuoted('ends with $q')).toBe('$q1$ends with $q$q1$');
  });

  it('keeps hostile names quoted', () => {
    const hostile = { ...table, dataset: "d'x", name: 'p', columns: [{ name: 'a"; DROP TABLE x; --', type: 'varchar', sensitive: true }] };
    const t = sinkTables(hostile, { db: 'db', schema: 's"; --' });
    expect(t.current).toBe(`"db"."s""; --"."p_current"`);
    expect(t.sensitiveCurrent).toBe(`"db"."s""; --_sensitive"."p_current"`);
    expect(appliedDatesSql(hostile, { db: 'db', schema: 's' })).toContain(`WHERE dataset = 'd''x' AND table_name = 'p'`);
    expect(createSinkTablesSql(hostile, { db: 'db', schema: 's' }).at(-2)).toContain(`"a""; DROP TABLE x; --" VARCHAR`);
  });
});

describe("a sink table's columns against cdcflow's", () => {
  const columns = (entries: [string, string, boolean?][]) => new Map(entries.map(([name, type, required = false]) => [name, { type, required }]));
  const expected = columns([
    ['name', 'character varying'],
    ['amount', 'numeric(12,2)'],
    ['KEY_HASH', 'uuid', true],
  ]);

  it('finds nothing wrong with the same columns, in another order, and extra columns an insert can leave out', () => {
    const found = columns([
      ['KEY_HASH', 'uuid', true],
      ['amount', 'numeric(12,2)'],
      ['name', 'character varying'],
      ['remark', 'text'],
    ]);
    expect(columnProblems('"s"."t"', expected, found)).toEqual([]);
  });

  it('names each column missing, of another type (modifiers count), or extra and NOT NULL without a default', () => {
    const found = columns([
      ['name', 'character varying(10)'],
      ['KEY_HASH', 'uuid', true],
      ['note', 'text', true],
    ]);
    expect(columnProblems('"s"."t"', expected, found)).toEqual([
      '"s"."t" column "name" is character varying(10) (cdcflow writes character varying)',
      '"s"."t" column "amount" is missing (cdcflow writes numeric(12,2))',
      '"s"."t" column "note" is NOT NULL without a default (cdcflow does not write it)',
    ]);
  });
});

describe('sensitive columns in the published exports', () => {
  it('are excluded from the main exports and published by KEY_HASH', () => {
    expect(withoutSensitiveSql(table)).toBe(`* EXCLUDE ("ssn")`);
    expect(withoutSensitiveSql({ columns: [{ name: 'v', type: 'varchar' }] })).toBe('*');
    expect(publishSensitiveCurrentSql(table, 'lake.cur', '/o.parquet')).toBe(`COPY (SELECT KEY_HASH, "ssn" FROM lake.cur ORDER BY KEY_HASH) TO '/o.parquet' (FORMAT parquet, ROW_GROUP_SIZE 30720)`);
    expect(publishSensitiveHistorySql(table, 'lake.hist', '/o.parquet')).toBe(
      `COPY (SELECT KEY_HASH, OPERATION, "ssn" FROM lake.hist ORDER BY KEY_HASH) TO '/o.parquet' (FORMAT parquet, ROW_GROUP_SIZE 30720)`,
    );
  });
});

describe('sinks and sensitive columns in the config', () => {
  const base = ['dataset: shop', 'warehouse: wh', 'tables:', '  - name: people', '    source: { format: csv, path: p.csv }'];
  it('resolves sinks with default names and schemas, the DuckDB file against the config folder', () => {
    const { file } = checkConfigText(
      [
        ...base,
        '    keys: [{ name: id, type: integer }]',
        '    columns: [{ name: ssn, type: varchar, sensitive: true }]',
        '    sinks:',
        '      - { type: duckdb, path: out/a.duckdb }',
        '      - { type: postgres, name: app, connection: APP_DB_URL, schema: public }',
      ].join('\n'),
    );
    const config = resolveConfig(file!, '/cfg');
    expect(config.tables[0].sinks).toEqual([
      { type: 'duckdb', name: 'duckdb', schema: 'shop', path: path.resolve('/cfg', 'out/a.duckdb') },
      { type: 'postgres', name: 'app', schema: 'public', connection: 'APP_DB_URL' },
    ]);
    expect(config.tables[0].columns[0]).toEqual({ name: 'ssn', type: 'varchar', sensitive: true });
  });

  it('refuses a sensitive key, two sinks of one name, a connection string instead of a variable', () => {
    const { problems } = checkConfigText(
      [
        ...base,
        '    keys: [{ name: id, type: integer, sensitive: true }]',
        '    sinks:',
        '      - { type: postgres, connection: "postgresql://u:p@h/db" }',
        '      - { type: duckdb, name: postgres, path: a.duckdb }',
      ].join('\n'),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(/^tables\[0\]\.sinks\[0\]\.connection: must be the NAME of an environment variable/),
      'tables[0].sinks[1].name: duplicates sink "postgres" (give each sink of a type its own name)',
      'tables[0].keys[0].sensitive: a key column cannot be sensitive: the main outputs are keyed by it',
    ]);
  });
});

describe('S3 secret from the environment', () => {
  it('builds a path-style secret for a local endpoint and quotes the values', () => {
    const settings = s3Settings({ AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: "s'x", AWS_REGION: 'eu-west-1', CDCFLOW_S3_ENDPOINT: '127.0.0.1:9000', CDCFLOW_S3_USE_SSL: 'false' });
    expect(s3SecretSql(settings)).toBe(
      `CREATE OR REPLACE SECRET cdcflow_s3 (TYPE s3, KEY_ID 'k', SECRET 's''x', REGION 'eu-west-1', ENDPOINT '127.0.0.1:9000', URL_STYLE 'path', USE_SSL false)`,
    );
    expect(s3SecretSql(s3Settings({}))).toBe(`CREATE OR REPLACE SECRET cdcflow_s3 (TYPE s3, URL_STYLE 'vhost', USE_SSL true)`);
    expect(() => s3Settings({ CDCFLOW_S3_URL_STYLE: 'sideways' })).toThrow(/vhost or path/);
  });
});

describe('progress of a stage being retried', () => {
  it('names the attempt and the failure of each retried activity', () => {
    expect(retryNote([{ attempt: 1 }, { attempt: 3, lastFailure: { message: 'sink app (postgres): IO Error: Unable to connect\nmore' } }])).toBe(
      ' · retrying (attempt 3): sink app (postgres): IO Error: Unable to connect',
    );
    expect(retryNote([{ attempt: 1 }])).toBe('');
  });
});
