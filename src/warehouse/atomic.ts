/** Atomic file commits: write under a temporary name in the same folder, then rename. */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** A temporary file for `finalPath` in `tmpDir` (which must be on the same file system). */
async function tempFileFor(finalPath: string, tmpDir: string): Promise<string> {
  await mkdir(path.dirname(finalPath), { recursive: true });
  await mkdir(tmpDir, { recursive: true });
  return path.join(tmpDir, `.${path.basename(finalPath)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Runs `write(tmp)` and renames tmp over `finalPath`; removes tmp on failure. Returns what
 * `write` returned (e.g. the rows it wrote). The temporary file lives in `tmpDir` (default:
 * beside the final one); published files pass a folder that no reader globs, so a killed write
 * leaves nothing where readers look.
 */
export async function writeAtomically<T>(finalPath: string, write: (tmpPath: string) => Promise<T>, tmpDir = path.dirname(finalPath)): Promise<T> {
  const tmp = await tempFileFor(finalPath, tmpDir);
  try {
    const written = await write(tmp);
    await rename(tmp, finalPath);
    return written;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function writeJsonAtomically(finalPath: string, value: unknown, tmpDir?: string): Promise<void> {
  return writeAtomically(finalPath, (tmp) => writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`), tmpDir);
}

/** What `read` returns, or undefined when what it reads does not exist. */
export async function ifExists<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The parsed JSON file, or undefined when it does not exist. */
export function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  return ifExists(async () => JSON.parse(await readFile(file, 'utf8')) as T);
}

/**
 * The JSON file's value, written as `value` by the first caller only: it appears whole (a link
 * of a complete temporary file), and a caller that comes second gets the first one's value.
 */
export async function readOrCreateJson<T>(file: string, value: T): Promise<T> {
  const found = await readJsonIfExists<T>(file);
  if (found !== undefined) return found;
  const tmp = await tempFileFor(file, path.dirname(file));
  try {
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
    await link(tmp, file);
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return (await readJsonIfExists<T>(file))!;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** `to` shares `from`'s bytes (a hard link); a copy where links are not possible. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    await copyFile(from, to);
  }
}
