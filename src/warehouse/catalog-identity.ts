/**
 * Which catalog holds a warehouse's commits, recorded in the warehouse folder by the first worker
 * that attaches it (`_catalog.json`) and checked by every later one. A PostgreSQL catalog keeps
 * each warehouse in a schema named after the warehouse's path: a worker that sees the folder at
 * another path (moved, or mounted elsewhere on another machine), that has another catalog
 * setting (CDCFLOW_CATALOG_URL set on one worker, not on another), or whose CDCFLOW_CATALOG_URL
 * names another database (a typo, a staging server's), would otherwise find an empty catalog,
 * commit every table's next date as its first, and publish that over the exports.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { ifExists, readJsonIfExists, writeJsonAtomically } from './atomic';
import { PUBLISH_MANIFEST } from './layout';

/** A PostgreSQL database: its server's system identifier (pg_control_system(); a streaming replica shares it) and its name there. */
export interface CatalogDatabase {
  /** Absent where the server withholds pg_control_system() (some managed services). */
  systemIdentifier?: string;
  name: string;
}

export interface CatalogIdentity {
  catalog: 'sqlite' | 'postgres';
  /** The PostgreSQL catalog's schema of the warehouse. */
  schema?: string;
  /** The warehouse's path when its catalog was created. */
  warehouse: string;
  /** The PostgreSQL catalog's database; absent in records of earlier releases, recorded by the next worker. */
  database?: CatalogDatabase;
}

export interface IdentityCheck {
  /** The warehouse's SQLite catalog file (that of an earlier release, which wrote no record, tells which catalog it used). */
  sqliteCatalog: string;
  /** False for a command that only reads or cleans an existing catalog: it must not record a catalog the warehouse may not have. */
  record: boolean;
  /** Whether the PostgreSQL catalog found holds data of the warehouse (or is a new, empty schema); for SQLite, whether its file exists. */
  holdsCommits: boolean;
}

const identityFile = (warehouse: string) => path.join(warehouse, '_catalog.json');

/**
 * Refuses a worker whose catalog is not the recorded one; records `expected` for a warehouse that
 * has no record yet, or the database of a PostgreSQL catalog recorded without it (by an earlier
 * release) once it holds the warehouse's commits: an empty catalog is recorded only for a
 * warehouse that has published nothing, committed elsewhere as it would then have been.
 */
export async function checkCatalogIdentity(warehouse: string, expected: CatalogIdentity, check: IdentityCheck): Promise<void> {
  const found = await readJsonIfExists<CatalogIdentity>(identityFile(warehouse));
  if (found) refuseOtherCatalog(warehouse, found, expected);
  if (expected.catalog === 'sqlite' && !check.holdsCommits && (await hasPublishedExports(warehouse))) throw lostSqliteCatalog(warehouse, check.sqliteCatalog);
  if (found?.catalog === 'sqlite' || found?.database) return;
  // A warehouse of an earlier release has no record: its SQLite catalog file tells.
  if (!found && expected.catalog === 'postgres' && existsSync(check.sqliteCatalog)) throw otherCatalog(warehouse, { catalog: 'sqlite', warehouse }, expected);
  if (expected.database && !check.holdsCommits && (await hasPublishedExports(warehouse))) throw emptyCatalog(warehouse, expected);
  if (check.record) await writeJsonAtomically(identityFile(warehouse), expected);
}

function refuseOtherCatalog(warehouse: string, found: CatalogIdentity, expected: CatalogIdentity): void {
  if (found.catalog !== expected.catalog) throw otherCatalog(warehouse, found, expected);
  if (found.catalog !== 'postgres') return;
  if (found.schema !== expected.schema) {
    throw new ConfigError(
      `warehouse ${warehouse} was created at ${found.warehouse}, whose commits are in schema ${found.schema} of the PostgreSQL catalog; ` +
        `at this path they would be looked for in schema ${expected.schema}, which does not hold them. Every worker must see the ` +
        `warehouse at the path it was created at: move it back, or mount it at ${found.warehouse}`,
      { warehouse, createdAt: found.warehouse },
    );
  }
  if (found.database && expected.database && !sameDatabase(found.database, expected.database)) throw otherDatabase(warehouse, found.database, expected.database);
}

function otherCatalog(warehouse: string, found: CatalogIdentity, expected: CatalogIdentity): ConfigError {
  const describe = (c: CatalogIdentity) => (c.catalog === 'postgres' ? 'the PostgreSQL catalog (CDCFLOW_CATALOG_URL)' : 'its SQLite catalog (no CDCFLOW_CATALOG_URL)');
  return new ConfigError(
    `warehouse ${warehouse} keeps its commits in ${describe(found)}, but this worker is set up for ${describe(expected)}: ` +
      'give every worker the catalog setting the warehouse was created with, or run the datasets from their first date into a new warehouse',
    { warehouse },
  );
}

/** Same name, and the same server where both identifiers are known. */
const sameDatabase = (a: CatalogDatabase, b: CatalogDatabase) =>
  a.name === b.name && (a.systemIdentifier === undefined || b.systemIdentifier === undefined || a.systemIdentifier === b.systemIdentifier);

const describeDatabase = (d: CatalogDatabase) =>
  `database ${d.name} of the PostgreSQL server with system identifier ${d.systemIdentifier ?? 'unknown (pg_control_system() withheld)'}`;

/**
 * A dump restored elsewhere (another server, a new major version) holds the commits under a new
 * system identifier: the record names what to remove to accept it, and the next worker records
 * the new database only if it holds the warehouse's commits.
 */
function otherDatabase(warehouse: string, recorded: CatalogDatabase, found: CatalogDatabase): ConfigError {
  return new ConfigError(
    `warehouse ${warehouse} keeps its commits in ${describeDatabase(recorded)}, but CDCFLOW_CATALOG_URL names ${describeDatabase(found)}: ` +
      `set CDCFLOW_CATALOG_URL to the warehouse's database. If its catalog was moved there (pg_dump and restore, a new server), remove ` +
      `"database" from ${identityFile(warehouse)}: the next worker then records the database it finds, once that holds the warehouse's commits`,
    { warehouse, recorded: recorded.name, found: found.name },
  );
}

function emptyCatalog(warehouse: string, expected: CatalogIdentity): ConfigError {
  return new ConfigError(
    `warehouse ${warehouse} has published exports, but its schema ${expected.schema} in ${describeDatabase(expected.database!)} ` +
      `(CDCFLOW_CATALOG_URL) holds none of its commits: set CDCFLOW_CATALOG_URL to the database that holds them`,
    { warehouse, found: expected.database!.name },
  );
}

/**
 * A SQLite catalog file gone from a warehouse that published exports (deleted, or left out of a restored copy): a new, empty
 * one in its place would take every table's next date for its first, and its exports' history for dates it never committed.
 */
function lostSqliteCatalog(warehouse: string, file: string): ConfigError {
  return new ConfigError(
    `${file} does not exist, but warehouse ${warehouse} has published exports, whose commits an empty catalog in its place would not ` +
      'know, so none is created. Put back catalog.sqlite from a copy of the warehouse (with _lake/ and the exports of the same copy), or, ' +
      'if its workers keep the commits in PostgreSQL, set their CDCFLOW_CATALOG_URL here too; to start the warehouse anew instead, ' +
      'move its dataset folders and _lake/ out of it first',
    { warehouse },
  );
}

/** Whether any table of the warehouse has published exports (`<dataset>/<table>/_published.json`). */
async function hasPublishedExports(warehouse: string): Promise<boolean> {
  const folders = async (dir: string) => ((await ifExists(() => readdir(dir, { withFileTypes: true }))) ?? []).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  for (const dataset of await folders(warehouse)) {
    if ((await folders(dataset)).some((table) => existsSync(path.join(table, PUBLISH_MANIFEST)))) return true;
  }
  return false;
}
