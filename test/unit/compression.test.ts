import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { compressionOf, readLeadingBytes, unreadableCompression } from '../../src/sources/compression';

describe('compressed source files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-compression-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the compression from the name, as DuckDB does', () => {
    expect(['a.csv.gz', 'a.CSV.GZ', 'a.json.zst', 'a.csv', 'a.gz.csv'].map(compressionOf)).toEqual(['gzip', 'gzip', 'zstd', 'none', 'none']);
    expect(['a.csv.bz2', 'a.json.XZ', 'a.zip', 'a.csv', 'a.csv.gz'].map(unreadableCompression)).toEqual(['bzip2', 'xz', 'zip', undefined, undefined]);
  });

  it('reads the start of a gzip file decompressed, and says whether that is all of it', async () => {
    const text = 'id,v\n' + '1,abc\n'.repeat(100_000);
    const file = path.join(dir, 'big.csv.gz');
    writeFileSync(file, gzipSync(text));
    const start = await readLeadingBytes(file, 1000);
    expect(start).toEqual({ bytes: Buffer.from(text.slice(0, 1000)), whole: false });
    expect((await readLeadingBytes(file, 10_000_000)).bytes.toString()).toBe(text);
    expect((await readLeadingBytes(file, 10_000_000)).whole).toBe(true);
  });

  it('a file named .gz that is not gzip throws', async () => {
    const file = path.join(dir, 'plain.csv.gz');
    writeFileSync(file, 'id,v\n1,a\n');
    await expect(readLeadingBytes(file, 1000)).rejects.toThrow('incorrect header check');
  });
});
