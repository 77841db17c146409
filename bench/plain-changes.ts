/**
 * The baseline of the change-record case: the same compaction and apply as one plain DuckDB SQL
 * script (same cast, same hashes, same outputs: current, history, next ordering state), with no
 * stages, no files in between, no checks, no sorting and no Temporal.
 */
import type { FileTableConfig } from '../src/config/types';
import type { Engine } from '../src/engine/duckdb';
import { hashExpression } from '../src/engine/hashing';
import { dateLiteral, quoteIdent, quoteLiteral } from '../src/engine/sql';
import { comparedColumns, typedColumnsSql } from '../src/engine/stage-sql';
import { batchFiles, readSourceSql } from '../src/sources/file-source';
import { cpuSecondsSince } from './measure';

/** Seconds and CPU seconds (this process: DuckDB's threads included) the script took. */
export async function plainChangesApply(
  engine: Engine,
  table: FileTableConfig,
  day1Events: string,
  basePath: string,
  businessDate: string,
  outDir: string,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const names = [...table.keys, ...table.columns].map((c) => quoteIdent(c.name));
  const read = async (file: string) => readSourceSql(table.source, await batchFiles(table, [file]));
  const hashed = (source: string) =>
    `SELECT *, ${hashExpression(table.keys, 't')} AS KEY_HASH, ${hashExpression(comparedColumns(table), 't')} AS NONKEY_HASH ` +
    `FROM (SELECT ${typedColumnsSql(table, new Map(), 's')}, upper(s.op) AS op, CAST(s.seq AS BIGINT) AS seq FROM ${source} s) t`;
  const d = dateLiteral(businessDate);
  // The day-1 ordering state (each key's insert), prepared before the clock starts.
  const orderPath = `${outDir}/day1-order.parquet`;
  const day1 = await read(day1Events);
  await engine.withSession((s) =>
    s.run(`COPY (SELECT KEY_HASH, seq, CAST(NULL AS DATE) AS deleted_on FROM (${hashed(day1)})) TO ${quoteLiteral(orderPath)} (FORMAT parquet)`),
  );
  const order = `read_parquet(${quoteLiteral(orderPath)})`;

  const takeNew = '(b.KEY_HASH IS NULL OR e.NONKEY_HASH <> b.NONKEY_HASH)';
  const pick = (c: string) => `CASE WHEN e.op <> 'D' AND ${takeNew} THEN e.${c} ELSE b.${c} END AS ${c}`;
  const script = [
    `CREATE TEMP TABLE events AS ${hashed(await read(table.source.path))}`,
    `CREATE TEMP TABLE newest AS SELECT * FROM events QUALIFY row_number() OVER (PARTITION BY KEY_HASH ORDER BY seq DESC) = 1`,
    `CREATE TEMP TABLE effective AS SELECT n.* FROM newest n LEFT JOIN ${order} o ON n.KEY_HASH = o.KEY_HASH WHERE o.KEY_HASH IS NULL OR n.seq > o.seq`,
    `CREATE TEMP TABLE diff AS SELECT ${[...names, 'KEY_HASH', 'NONKEY_HASH'].map(pick).join(', ')}, ` +
      `CASE WHEN e.KEY_HASH IS NULL THEN 'X' WHEN e.op = 'D' THEN 'D' WHEN b.KEY_HASH IS NULL THEN 'I' WHEN ${takeNew} THEN 'U' ELSE 'N' END AS OPERATION, ` +
      `CASE WHEN e.KEY_HASH IS NULL OR (e.op <> 'D' AND NOT ${takeNew}) THEN b.EFF_START_DATE ELSE ${d} END AS EFF_START_DATE ` +
      `FROM effective e FULL OUTER JOIN read_parquet(${quoteLiteral(basePath)}) b ON e.KEY_HASH = b.KEY_HASH WHERE NOT (b.KEY_HASH IS NULL AND e.op = 'D')`,
    `COPY (SELECT * FROM diff WHERE OPERATION <> 'D') TO ${quoteLiteral(`${outDir}/current.parquet`)} (FORMAT parquet)`,
    `COPY (SELECT ${names.join(', ')}, OPERATION, KEY_HASH, NONKEY_HASH FROM diff WHERE OPERATION IN ('I', 'U', 'D')) TO ${quoteLiteral(`${outDir}/history.parquet`)} (FORMAT parquet)`,
    `COPY (SELECT KEY_HASH, seq, CASE WHEN op = 'D' THEN ${d} END AS deleted_on FROM effective ` +
      `UNION ALL SELECT o.* FROM ${order} o ANTI JOIN effective e ON o.KEY_HASH = e.KEY_HASH) TO ${quoteLiteral(`${outDir}/order.parquet`)} (FORMAT parquet)`,
  ];
  const started = performance.now();
  const cpu = process.cpuUsage();
  await engine.withSession(async (s) => {
    for (const statement of script) await s.run(statement);
  });
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu) };
}
