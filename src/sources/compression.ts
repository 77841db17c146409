/**
 * Compressed source files. DuckDB reads `.gz` and `.zst` files decompressed, choosing by the name
 * as here; cdcflow's own look at a file (a CSV header) must see the same text.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import type { FileTableConfig } from '../config/types';
import { DataError } from '../errors';

export type Compression = 'gzip' | 'zstd' | 'none';

/** What DuckDB's `compression = 'auto'` takes a file for, by its name. */
export function compressionOf(path: string): Compression {
  if (/\.gz$/i.test(path)) return 'gzip';
  if (/\.zst$/i.test(path)) return 'zstd';
  return 'none';
}

/** Compressions DuckDB cannot read: it would read the compressed bytes as text. */
const UNREADABLE: Record<string, string> = { bz2: 'bzip2', xz: 'xz', zip: 'zip', lz4: 'lz4', br: 'brotli', '7z': '7-Zip', lzma: 'lzma', snappy: 'snappy' };

/** The name of an unreadable compression the file's name says it has, if any. */
export function unreadableCompression(path: string): string | undefined {
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : UNREADABLE[extension];
}

/** Small pieces, so that a highly compressed piece cannot expand far beyond what is wanted. */
const READ_PIECE_BYTES = 16 << 10;

async function* decompressed(path: string, compression: Compression): AsyncGenerator<Uint8Array> {
  const raw = createReadStream(path, { highWaterMark: READ_PIECE_BYTES });
  try {
    if (compression === 'none') yield* raw;
    else if (compression === 'gzip') yield* raw.pipe(createGunzip({ chunkSize: READ_PIECE_BYTES }));
    else {
      const out: Uint8Array[] = [];
      const zstd = new Decompress((data) => void out.push(data));
      for await (const piece of raw) {
        zstd.push(piece as Buffer);
        yield* out.splice(0);
      }
      // The last push says the stream ends here: a frame cut short throws.
      zstd.push(new Uint8Array(0), true);
      yield* out.splice(0);
    }
  } finally {
    // Stopping early leaves the file open otherwise (a pipe does not close its source).
    raw.destroy();
  }
}

/**
 * Up to `limit` bytes of the file's content, decompressed as DuckDB reads it, and whether that is
 * all of it. A corrupt compressed file throws.
 */
export async function readLeadingBytes(path: string, limit: number): Promise<{ bytes: Buffer; whole: boolean }> {
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of decompressed(path, compressionOf(path))) {
    pieces.push(piece);
    size += piece.length;
    if (size >= limit) return { bytes: Buffer.concat(pieces).subarray(0, limit), whole: false };
  }
  return { bytes: Buffer.concat(pieces), whole: true };
}

/**
 * Decompresses the whole file, so that one cut short (an upload or copy that stopped) throws:
 * DuckDB reads such a file as far as it goes, which would commit a partial batch.
 */
export async function readToEnd(path: string): Promise<void> {
  for await (const piece of decompressed(path, compressionOf(path))) void piece;
}

/** What `read` of a file returns; a file that does not decompress as its name says fails as a DataError naming it. */
export async function decompressing<T>(table: Pick<FileTableConfig, 'dataset' | 'name'>, file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const compression = compressionOf(file);
    if (compression === 'none') throw err;
    throw new DataError(`the file is not valid ${compression} (named ${compression === 'gzip' ? '.gz' : '.zst'}): ${(err as Error).message}`, {
      dataset: table.dataset,
      table: table.name,
      file,
    });
  }
}
