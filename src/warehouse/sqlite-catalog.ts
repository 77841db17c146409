/**
 * The SQLite file of a warehouse's DuckLake catalog, created in WAL mode. With SQLite's default
 * rollback journal a reader waits for every writer and a writer for every reader, so worker
 * processes of one machine queued behind each other's catalog work (50 small tables on two
 * worker processes of a 2-core machine: 2.6 to 2.9 times as long per table as on one; in WAL
 * mode, 1.1 to 1.5 times). DuckDB's sqlite extension runs every statement inside a transaction, where SQLite cannot
 * change the journal mode, so the file is written here before DuckLake first opens it: an
 * empty database whose header says WAL, as `PRAGMA journal_mode=WAL` leaves a new file
 * (https://www.sqlite.org/fileformat.html). WAL mode stays with the file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, rm, writeFile } from 'node:fs/promises';

const PAGE_SIZE = 4096;

/** An empty SQLite database in WAL mode: its one page, the header and an empty schema table. */
export function emptyWalDatabase(): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  page.write('SQLite format 3\0', 0, 'latin1');
  page.writeUInt16BE(PAGE_SIZE, 16);
  // File format write and read versions: 2 is WAL (1, the rollback journal).
  page[18] = 2;
  page[19] = 2;
  // Payload fractions, fixed by the format.
  page[21] = 64;
  page[22] = 32;
  page[23] = 32;
  page.writeUInt32BE(1, 24); // change counter
  page.writeUInt32BE(1, 28); // pages in the file
  page.writeUInt32BE(1, 92); // the change counter the version below is valid for
  page.writeUInt32BE(3_040_001, 96); // the SQLite version that wrote it (3.40.1)
  // Page 1 after the header: the schema table, an empty table b-tree leaf whose cells would start at the page's end.
  page[100] = 0x0d;
  page.writeUInt16BE(PAGE_SIZE, 105);
  return page;
}

/**
 * Creates the catalog file in WAL mode unless it exists. Written under another name and linked
 * into place, which never replaces a file: a worker starting at the same moment either finds
 * the whole file or makes it.
 */
export async function createWalCatalog(file: string): Promise<void> {
  if (existsSync(file)) return;
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, emptyWalDatabase());
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}
