/**
 * The batch's S3 objects as local files: downloaded into the run's work folder before the hash
 * stage reads them, so that reading them (the CSV header, DuckDB, the diagnostics) is the same as
 * for local files. What the stage reports names the s3:// URL, never the local copy.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { CdcflowError } from '../errors';
import type { SourceFile } from './source';
import { downloadS3Object } from './s3-objects';
import { isS3Url, parseS3Url } from './s3-url';

/** A file the stage reads, and what it is called in what the stage reports. */
export interface LocalFile {
  path: string;
  name: string;
}

/** Keeps the object's own name's end (its extension tells DuckDB a compression) within a file name's length. */
const KEPT_NAME_CHARS = 100;

/**
 * Where the copy of an object of this ETag goes: a copy found there is complete (written under
 * another name, then renamed), so a retry reuses it; a replaced object gets another name.
 */
function copyPath(folder: string, file: SourceFile): string {
  const id = createHash('sha256').update(`${file.path}\n${file.checksum}`).digest('hex').slice(0, 16);
  return path.join(folder, `${id}-${path.posix.basename(parseS3Url(file.path).key).slice(-KEPT_NAME_CHARS)}`);
}

/**
 * What `read` returns given the batch's files as local files, S3 objects downloaded into
 * `folder`; what it throws names the objects. The copies are removed once `read` succeeded
 * (nothing reads them after); a failed attempt leaves them for its retry.
 */
export async function readLocalCopies<T>(files: readonly SourceFile[], folder: string, read: (copies: LocalFile[]) => Promise<T>): Promise<T> {
  const copies = await localCopies(files, folder);
  const result = await namingSources(copies, () => read(copies));
  await rm(folder, { recursive: true, force: true });
  return result;
}

/** The batch's files as local files, S3 objects downloaded into `folder` (one by one: memory and disk stay bounded). */
async function localCopies(files: readonly SourceFile[], folder: string): Promise<LocalFile[]> {
  const copies: LocalFile[] = [];
  for (const file of files) {
    if (!isS3Url(file.path)) {
      copies.push({ path: file.path, name: file.path });
      continue;
    }
    const target = copyPath(folder, file);
    if (!existsSync(target)) await downloadS3Object({ url: file.path, size: file.size, etag: file.checksum.replace(/^etag:/, '') }, target);
    copies.push({ path: target, name: file.path });
  }
  return copies;
}

/** `text` with every local copy's path replaced by its object's URL. */
function named(text: string, copies: readonly LocalFile[]): string {
  return copies.reduce((t, c) => (c.path === c.name ? t : t.split(c.path).join(c.name)), text);
}

/** What `work` throws, naming the objects instead of their local copies (DuckDB's messages name the file it read). */
async function namingSources<T>(copies: readonly LocalFile[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw renamed(err, copies);
  }
}

function renamed(err: unknown, copies: readonly LocalFile[]): unknown {
  if (!(err instanceof Error)) return err;
  if (!(err instanceof CdcflowError)) {
    err.message = named(err.message, copies);
    return err;
  }
  const context = Object.fromEntries(Object.entries(err.context).map(([k, v]) => [k, typeof v === 'string' ? named(v, copies) : v]));
  const Kind = err.constructor as new (...args: ConstructorParameters<typeof CdcflowError>) => CdcflowError;
  return new Kind(named(err.message, copies), context, { cause: err.cause });
}
