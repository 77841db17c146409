import { Engine } from '../../src/engine/duckdb';
import { ConfigError } from '../../src/errors';
import { engineSettings } from '../../src/settings';

describe("DuckDB's settings from the environment", () => {
  it.each(['abc', '0', '2.5', '-2'])('refuses CDCFLOW_DUCKDB_THREADS=%s, naming it, where DuckDB used to run on every core or say "Failed to set config"', (value) => {
    const read = () => engineSettings({ CDCFLOW_DUCKDB_THREADS: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`CDCFLOW_DUCKDB_THREADS must be a whole number of threads, 1 or more, not "${value}"`);
  });

  it.each(['0', 'soon', '1.5'])('refuses CDCFLOW_PG_TIMEOUT_SECONDS=%s when the settings are read (a worker at start), where it used to be refused only by the first PostgreSQL stage', (value) => {
    const read = () => engineSettings({ CDCFLOW_PG_TIMEOUT_SECONDS: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`CDCFLOW_PG_TIMEOUT_SECONDS must be a whole number of seconds, not "${value}"`);
    expect(() => engineSettings({ CDCFLOW_PG_TIMEOUT_SECONDS: '5' })).not.toThrow();
  });

  it('takes a thread count, and none when unset', () => {
    expect(engineSettings({ CDCFLOW_DUCKDB_THREADS: '3' }).threads).toBe(3);
    expect(engineSettings({}).threads).toBeUndefined();
  });

  it('names a memory limit DuckDB refuses, where DuckDB says only "Failed to set config"', async () => {
    const created = Engine.create({ memoryLimit: 'lots', threads: 1 });
    await expect(created).rejects.toThrow(ConfigError);
    await expect(created).rejects.toThrow('CDCFLOW_DUCKDB_MEMORY_LIMIT=lots is not an amount of memory DuckDB takes (such as 4GB or 512MiB)');
  });

  it('takes a memory limit in any form DuckDB takes', async () => {
    for (const memoryLimit of ['1GB', '1 GiB', '1G']) await (await Engine.create({ memoryLimit, threads: 1 })).close();
  });
});
