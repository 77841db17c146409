/** Atomic file commits: write under a temporary name in the same folder, then rename. */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** A temporary sibling of `finalPath`; hidden so that readers of the folder skip it. */
export async function tempSiblingOf(finalPath: string): Promise<string> {
  await mkdir(path.dirname(finalPath), { recursive: true });
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Runs `write(tmp)` and renames tmp over `finalPath`; removes tmp on failure. */
export async function writeAtomically(finalPath: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
  const tmp = await tempSiblingOf(finalPath);
  try {
    await write(tmp);
    await rename(tmp, finalPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function writeJsonAtomically(finalPath: string, value: unknown): Promise<void> {
  return writeAtomically(finalPath, (tmp) => writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`));
}

/**
 * Publishes `from` at `to`: a hard link where possible (instant, no second copy; safe because
 * committed files are never changed in place, only replaced), else a copy.
 */
export function publishAtomically(from: string, to: string): Promise<void> {
  return writeAtomically(to, (tmp) =>
    link(from, tmp).catch((err: NodeJS.ErrnoException) => {
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes(err.code ?? '')) throw err;
      return copyFile(from, tmp);
    }),
  );
}

/** The parsed JSON file, or undefined when it does not exist. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
