/**
 * The baseline the workflow is measured against: the same day-2 diff as one plain DuckDB SQL
 * script (same cast, same hashes, same outputs), with no stages, no files in between, no
 * sorting and no Temporal.
 */
import type { FileTableConfig } from '../src/config/types';
import type { Engine } from '../src/engine/duckdb';
import { hashExpression } from '../src/engine/hashing';
import { dateLiteral, quoteIdent, quoteLiteral } from '../src/engine/sql';
import { comparedColumns, typedColumnsSql } from '../src/engine/stage-sql';
import { batchFiles, readSourceSql } from '../src/sources/file-source';
import { cpuSecondsSince } from './measure';

/** Seconds and CPU seconds (this process: DuckDB's threads included) the script took. */
export async function plainSqlDiff(
  engine: Engine,
  table: FileTableConfig,
  files: string[],
  basePath: string,
  businessDate: string,
  outDir: string,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const cols = [...table.keys, ...table.columns];
  const names = cols.map((c) => quoteIdent(c.name));
  const read = readSourceSql(table.source, await batchFiles(table, files));
  const d = dateLiteral(businessDate);
  // The batch's values win for inserts and updates; the base row stays for deletes and unchanged.
  const takeNew = '(b.KEY_HASH IS NULL OR h.NONKEY_HASH <> b.NONKEY_HASH)';
  const pick = (c: string) => `CASE WHEN ${takeNew} THEN h.${c} ELSE b.${c} END AS ${c}`;
  const script = [
    `CREATE TEMP TABLE batch AS SELECT *, ${hashExpression(table.keys, 't')} AS KEY_HASH, ${hashExpression(comparedColumns(table), 't')} AS NONKEY_HASH ` +
      `FROM (SELECT ${typedColumnsSql(table, new Map(), 's')} FROM ${read} s) t`,
    `CREATE TEMP TABLE diff AS SELECT ${[...names, 'KEY_HASH', 'NONKEY_HASH'].map(pick).join(', ')}, ` +
      `CASE WHEN b.KEY_HASH IS NULL THEN 'I' WHEN h.KEY_HASH IS NULL THEN 'D' WHEN ${takeNew} THEN 'U' ELSE 'N' END AS OPERATION, ` +
      `CASE WHEN h.KEY_HASH IS NULL OR ${takeNew} THEN ${d} ELSE b.EFF_START_DATE END AS EFF_START_DATE ` +
      `FROM batch h FULL OUTER JOIN read_parquet(${quoteLiteral(basePath)}, hive_partitioning = false) b ON h.KEY_HASH = b.KEY_HASH`,
    `COPY (SELECT * FROM diff WHERE OPERATION <> 'D') TO ${quoteLiteral(`${outDir}/current.parquet`)} (FORMAT parquet)`,
    `COPY (SELECT ${names.join(', ')}, OPERATION, KEY_HASH, NONKEY_HASH FROM diff WHERE OPERATION IN ('I', 'U', 'D')) TO ${quoteLiteral(`${outDir}/history.parquet`)} (FORMAT parquet)`,
  ];
  const started = performance.now();
  const cpu = process.cpuUsage();
  await engine.withSession(async (s) => {
    for (const statement of script) await s.run(statement);
  });
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu) };
}
