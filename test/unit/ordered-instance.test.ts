import { Engine, memoryBytes, orderedMemoryLimit, type Session } from '../../src/engine/duckdb';

describe('the order-keeping instance', () => {
  it('gets a quarter of the memory limit, 1 GB without one, and is not used under a 1 GiB limit', () => {
    expect(memoryBytes('2GB')).toBe(2e9);
    expect(memoryBytes('512 MiB')).toBe(512 * 2 ** 20);
    expect(memoryBytes('lots')).toBeUndefined();
    // DuckDB's other spellings of a unit: each used to give the 1 GB meant for no limit.
    for (const setting of ['4G', '4g', '4 gigabytes', '4gigabyte']) expect(orderedMemoryLimit(setting)).toBe(orderedMemoryLimit('4GB'));
    expect(memoryBytes('512m')).toBe(512e6);
    expect(orderedMemoryLimit('2GB')).toBe('476MiB');
    expect(orderedMemoryLimit('200MB')).toBeUndefined();
    expect(orderedMemoryLimit('1GiB')).toBe('256MiB');
    expect(orderedMemoryLimit(undefined)).toBe('1GB');
    expect(orderedMemoryLimit('lots')).toBe('1GB');
  });
});

describe("the engine's instances", () => {
  it("keep no cache of file blocks, which took a file written again at its path within a second for the earlier one", async () => {
    const engine = await Engine.create();
    try {
      const setting = (s: Session) => s.rows<{ on: boolean }>(`SELECT current_setting('enable_external_file_cache') AS on`);
      expect(await engine.withSession(setting)).toEqual([{ on: false }]);
      expect(await engine.withExportSession(setting)).toEqual([{ on: false }]);
    } finally {
      await engine.close();
    }
  });
});
