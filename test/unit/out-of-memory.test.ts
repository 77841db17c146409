import { classifyOutOfMemory } from '../../src/engine/out-of-memory';
import { ResourceError } from '../../src/errors';

const duckdbOom = new Error('Out of Memory Error: failed to allocate data of size 8.0 MiB (9.5 MiB/15.2 MiB used)');

describe('classifyOutOfMemory', () => {
  it('turns DuckDB out-of-memory into a ResourceError naming the stage and the setting', () => {
    const err = classifyOutOfMemory(duckdbOom, 'write', { CDCFLOW_DUCKDB_MEMORY_LIMIT: '2GB' });
    expect(err).toBeInstanceOf(ResourceError);
    expect((err as ResourceError).message).toMatch(/^the write stage ran out of memory under CDCFLOW_DUCKDB_MEMORY_LIMIT=2GB: raise CDCFLOW_DUCKDB_MEMORY_LIMIT/);
    expect((err as ResourceError).message).toContain('DuckDB said: Out of Memory Error');
    expect((err as ResourceError).context).toEqual({ stage: 'write' });
  });

  it("names DuckDB's default when no limit is set", () => {
    expect((classifyOutOfMemory(duckdbOom, 'hash', {}) as Error).message).toMatch(/under DuckDB's default \(80% of RAM\)/);
  });

  it('suggests more buckets where a sort ran out: the diff stage', () => {
    expect((classifyOutOfMemory(duckdbOom, 'diff', {}) as Error).message).toContain('split the table into more buckets (`buckets:` on the table');
    expect((classifyOutOfMemory(duckdbOom, 'hash', {}) as Error).message).not.toContain('buckets:');
  });

  it('says the spill folder filled up, naming it and the room it had, when that is what DuckDB ran out of', () => {
    const full = new Error(
      "Out of Memory Error: failed to offload data block of size 256.0 KiB (26.6 MiB/26.8 MiB used).\nThis limit was set by the 'max_temp_directory_size' setting.",
    );
    const err = classifyOutOfMemory(full, 'diff', { CDCFLOW_DUCKDB_TEMP_DIR: '/spill' }) as ResourceError;
    expect(err).toBeInstanceOf(ResourceError);
    expect(err.message).toMatch(/^the diff stage filled the spill folder: DuckDB had spilled 26\.6 MiB into \/spill \(CDCFLOW_DUCKDB_TEMP_DIR\), all the room it had there \(26\.8 MiB\), and needed more\. Free space on that drive/);
    expect(err.message).not.toContain('ran out of memory');
    expect(err.context).toEqual({ stage: 'diff', folder: '/spill' });
  });

  it('leaves other errors alone', () => {
    const other = new Error('IO Error: No files found');
    expect(classifyOutOfMemory(other, 'hash', {})).toBe(other);
    expect(classifyOutOfMemory('text', 'hash', {})).toBe('text');
  });
});
