/** Comparing two relations as multisets of rows, in DuckDB. */
import type { Session } from '../../src/engine/duckdb';

/** Rows in `a` and not in `b` plus rows in `b` and not in `a` (0: equal), and a's row count. */
export async function difference(s: Session, a: string, b: string): Promise<{ diff: number; rows: number }> {
  const [r] = await s.rows<{ diff: string; n: string }>(
    `SELECT (SELECT count(*) FROM ((${a}) EXCEPT ALL (${b})) x) + (SELECT count(*) FROM ((${b}) EXCEPT ALL (${a})) y) AS diff, (SELECT count(*) FROM (${a}) z) AS n`,
  );
  return { diff: Number(r.diff), rows: Number(r.n) };
}
