/**
 * Engines configured with one spill folder (CDCFLOW_DUCKDB_TEMP_DIR, or the default
 * `.cdcflow/duckdb-tmp` of workers started from one folder) each spill into a folder of their
 * own inside it (src/engine/spill-folder.ts). Before, two processes spilling into one folder
 * overwrote each other's spill files and died with a segmentation fault.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/duckdb';
import { spillFolderName } from '../../src/engine/spill-folder';
import { engineSettings } from '../../src/settings';

const DIST_ENGINE = path.resolve(__dirname, '../../dist/engine/duckdb.js');

/** A process that sorts 6,000,000 rows under 100 MB (so it spills into `folder`) and prints whether the sum came out right. */
function spillingProcess(folder: string): Promise<{ code: number | null; signal: string | null; out: string }> {
  const script = `
    const { Engine } = require(${JSON.stringify(DIST_ENGINE)});
    (async () => {
      const engine = await Engine.create({ tempDirectory: process.argv[1], memoryLimit: '100MB', threads: 2, extensionDirectory: ${JSON.stringify(engineSettings().extensionDirectory)} });
      await engine.withSession(async (s) => {
        const [sorted] = await s.rows('SELECT sum(h)::VARCHAR AS s FROM (SELECT hash(range) % 1000003 AS h FROM range(6000000) ORDER BY md5(range::VARCHAR))');
        const [plain] = await s.rows('SELECT sum(hash(range) % 1000003)::VARCHAR AS s FROM range(6000000)');
        console.log(sorted.s === plain.s ? 'same sum' : 'different sums');
      });
      await engine.close();
    })();`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, folder], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code, signal) => resolve({ code, signal, out: out.trim() }));
  });
}

const setting = (engine: Engine) => engine.withSession(async (s) => (await s.rows<{ t: string }>(`SELECT current_setting('temp_directory') AS t`))[0].t);

describe('spill folders', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'cdcflow-spill-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('two processes spilling into one configured folder both complete, with the right result', async () => {
    const results = await Promise.all([spillingProcess(base), spillingProcess(base)]);
    expect(results).toEqual([
      { code: 0, signal: null, out: 'same sum' },
      { code: 0, signal: null, out: 'same sum' },
    ]);
    // Each removed its folder when it closed.
    expect(readdirSync(base)).toEqual([]);
  }, 120_000);

  it('gives each engine a folder of its own inside the configured one, removed when it closes', async () => {
    const engines = [await Engine.create({ tempDirectory: base }), await Engine.create({ tempDirectory: base })];
    const folders = await Promise.all(engines.map(setting));
    expect(new Set(folders).size).toBe(2);
    for (const f of folders) expect(path.dirname(f)).toBe(base);
    for (const e of engines) await e.close();
    for (const f of folders) expect(existsSync(f)).toBe(false);
  });

  it("removes the folders that dead processes of this host left, and no other", async () => {
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
    const left = { dead: spillFolderName(deadPid, 1), live: spillFolderName(process.pid, 999), otherHost: `elsewhere-${deadPid}-1`, unrelated: 'notes' };
    for (const name of Object.values(left)) mkdirSync(path.join(base, name, 'sub'), { recursive: true });
    const engine = await Engine.create({ tempDirectory: base });
    const own = path.basename(await setting(engine));
    expect(readdirSync(base).sort()).toEqual([left.live, left.otherHost, left.unrelated, own].sort());
    await engine.close();
  });

  it("empties a folder of its own name that an earlier process with this pid left (a container's pid 1)", async () => {
    for (let n = 1; n <= 200; n++) {
      mkdirSync(path.join(base, spillFolderName(process.pid, n)));
      writeFileSync(path.join(base, spillFolderName(process.pid, n), 'duckdb_temp_storage_DEFAULT-0.tmp'), 'stale');
    }
    const engine = await Engine.create({ tempDirectory: base });
    const own = await setting(engine);
    expect(Number(/-(\d+)$/.exec(own)![1])).toBeLessThanOrEqual(200);
    expect(readdirSync(own)).toEqual([]);
    await engine.close();
  });
});
