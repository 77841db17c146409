/**
 * Which warehouse a data folder under a shared CDCFLOW_DATA_PATH belongs to. The folder is named
 * after the warehouse's path, so two deployments whose warehouses have one path (the image's
 * /data/warehouse) and that share a data path write into one folder, and DuckLake's orphan
 * sweep (`cdcflow vacuum`) of either deletes the other's committed files, which its catalog does
 * not know. So the first worker to attach a warehouse records a random owner in it
 * (`_data_folder.json`) and beside the folder (`<folder>.json`, outside what the sweep lists);
 * a warehouse that finds another owner there is refused before it reads or writes a data file.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Session } from '../engine/duckdb';
import { quoteLiteral } from '../engine/sql';
import { ConfigError } from '../errors';
import { readOrCreateJson } from './atomic';

interface Owner {
  owner: string;
  warehouse: string;
}

/** The record beside the data folder (`s3://b/p/cdcflow_x/` → `s3://b/p/cdcflow_x.json`). */
function ownerRecord(folder: string): string {
  return `${folder.replace(/\/+$/, '')}.json`;
}

async function readOwner(session: Session, record: string): Promise<Owner | undefined> {
  // A path without wildcards is returned as it is, whether or not it exists: `….jso[n]` lists (the few keys starting `….jso` on S3).
  const pattern = `${record.slice(0, -1)}[${record.slice(-1)}]`;
  const [present] = await session.rows<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM glob(${quoteLiteral(pattern)})`);
  if (present.n === 0) return undefined;
  const [found] = await session.rows<Owner>(`SELECT owner, warehouse FROM read_json(${quoteLiteral(record)}, columns = {owner: 'VARCHAR', warehouse: 'VARCHAR'})`);
  return found;
}

/** Claims `folder` for the warehouse, or refuses a warehouse whose folder another one claimed. */
export async function claimDataFolder(session: Session, warehouse: string, folder: string): Promise<void> {
  const mine = await readOrCreateJson<Owner>(path.join(warehouse, '_data_folder.json'), { owner: randomUUID(), warehouse });
  const record = ownerRecord(folder);
  const found = await readOwner(session, record);
  if (!found) {
    await session.run(`COPY (SELECT ${quoteLiteral(mine.owner)} AS owner, ${quoteLiteral(warehouse)} AS warehouse) TO ${quoteLiteral(record)} (FORMAT json)`);
    return;
  }
  if (found.owner === mine.owner) return;
  throw new ConfigError(
    `the data folder ${folder} belongs to another warehouse at ${found.warehouse} (${record}): two warehouses at one path share a folder under ` +
      `one CDCFLOW_DATA_PATH, and a vacuum of either would delete the other's data files. Give each deployment a CDCFLOW_DATA_PATH of its own; ` +
      `if the other warehouse is gone (deleted to start again), remove ${record} and the files in the folder`,
    { warehouse, dataPath: folder },
  );
}
