/**
 * Which catalog holds a warehouse's commits, recorded in the warehouse folder by the first worker
 * that attaches it (`_catalog.json`) and checked by every later one. A PostgreSQL catalog keeps
 * each warehouse in a schema named after the warehouse's path: a worker that sees the folder at
 * another path (moved, or mounted elsewhere on another machine), or that has another catalog
 * setting (CDCFLOW_CATALOG_URL set on one worker, not on another), would otherwise find an empty
 * catalog, commit every table's next date as its first, and publish that over the exports.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import { readJsonIfExists, writeJsonAtomically } from './atomic';

export interface CatalogIdentity {
  catalog: 'sqlite' | 'postgres';
  /** The PostgreSQL catalog's schema of the warehouse. */
  schema?: string;
  /** The warehouse's path when its catalog was created. */
  warehouse: string;
}

const identityFile = (warehouse: string) => path.join(warehouse, '_catalog.json');

/**
 * Records `expected` for a warehouse that has no record yet (unless `record` is false: a command
 * that only reads or cleans an existing catalog, refused when there is none, must not leave a
 * record of a catalog the warehouse may not have); refuses a worker whose catalog is not the recorded one.
 */
export async function checkCatalogIdentity(warehouse: string, expected: CatalogIdentity, sqliteCatalog: string, record = true): Promise<void> {
  const found = await readJsonIfExists<CatalogIdentity>(identityFile(warehouse));
  if (!found) {
    // A warehouse of an earlier release has no record: its SQLite catalog file tells.
    if (expected.catalog === 'postgres' && existsSync(sqliteCatalog)) throw otherCatalog(warehouse, { catalog: 'sqlite', warehouse }, expected);
    if (record) await writeJsonAtomically(identityFile(warehouse), expected);
    return;
  }
  if (found.catalog !== expected.catalog) throw otherCatalog(warehouse, found, expected);
  if (found.catalog === 'postgres' && found.schema !== expected.schema) {
    throw new ConfigError(
      `warehouse ${warehouse} was created at ${found.warehouse}, whose commits are in schema ${found.schema} of the PostgreSQL catalog; ` +
        `at this path they would be looked for in schema ${expected.schema}, which does not hold them. Every worker must see the ` +
        `warehouse at the path it was created at: move it back, or mount it at ${found.warehouse}`,
      { warehouse, createdAt: found.warehouse },
    );
  }
}

function otherCatalog(warehouse: string, found: CatalogIdentity, expected: CatalogIdentity): ConfigError {
  const describe = (c: CatalogIdentity) => (c.catalog === 'postgres' ? 'the PostgreSQL catalog (CDCFLOW_CATALOG_URL)' : 'its SQLite catalog (no CDCFLOW_CATALOG_URL)');
  return new ConfigError(
    `warehouse ${warehouse} keeps its commits in ${describe(found)}, but this worker is set up for ${describe(expected)}: ` +
      'give every worker the catalog setting the warehouse was created with, or run the datasets from their first date into a new warehouse',
    { warehouse },
  );
}
