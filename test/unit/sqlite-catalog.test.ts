/**
 * The warehouse's SQLite catalog file starts in WAL mode (sqlite-catalog.ts), checked through
 * DuckDB's own SQLite: the file it reads and writes, and the header it leaves.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/duckdb';
import { quoteLiteral } from '../../src/engine/sql';
import { engineSettings } from '../../src/settings';
import { withCatalog } from '../../src/warehouse/catalog';
import { createWalCatalog, emptyWalDatabase } from '../../src/warehouse/sqlite-catalog';

/** SQLite's file format versions (header bytes 18 and 19): 2 and 2 in WAL mode, 1 and 1 with the rollback journal. */
const formatVersions = (file: string) => [...readFileSync(file).subarray(18, 20)];

describe('the SQLite catalog file', () => {
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    engine = await Engine.create({ extensionDirectory: engineSettings().extensionDirectory });
    dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-sqlite-'));
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is an empty database SQLite opens, writes and keeps in WAL mode', async () => {
    const file = path.join(dir, 'empty.sqlite');
    writeFileSync(file, emptyWalDatabase());
    await engine.withSession(async (s) => {
      await s.run(`ATTACH ${quoteLiteral(file)} AS probe (TYPE sqlite)`);
      expect(await s.rows(`SELECT count(*)::INT AS n FROM (SHOW TABLES FROM probe)`)).toEqual([{ n: 0 }]);
      await s.run('CREATE TABLE probe.t (a INTEGER, b VARCHAR)');
      await s.run(`INSERT INTO probe.t VALUES (1, 'x'), (2, 'y')`);
      expect(await s.rows('SELECT a::INT AS a, b FROM probe.t ORDER BY a')).toEqual([
        { a: 1, b: 'x' },
        { a: 2, b: 'y' },
      ]);
      await s.run('DETACH probe');
    });
    expect(formatVersions(file)).toEqual([2, 2]);
  });

  it("is a new warehouse's DuckLake catalog, which stays in WAL mode through commits", async () => {
    const warehouse = path.join(dir, 'warehouse');
    await withCatalog(engine, warehouse, async (s, alias) => {
      await s.run(`CREATE SCHEMA "${alias}".d`);
      await s.run(`CREATE TABLE "${alias}".d.t (k VARCHAR)`);
      await s.run(`INSERT INTO "${alias}".d.t VALUES ('a')`);
    });
    expect(formatVersions(path.join(warehouse, 'catalog.sqlite'))).toEqual([2, 2]);
  });

  it('never replaces a catalog that exists', async () => {
    const file = path.join(dir, 'existing.sqlite');
    writeFileSync(file, 'not replaced');
    await createWalCatalog(file);
    expect(readFileSync(file, 'utf8')).toBe('not replaced');
  });
});
