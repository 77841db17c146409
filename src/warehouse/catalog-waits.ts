/**
 * What the work on a worker's catalog connection waits on (a lock in a PostgreSQL catalog, held
 * by another session), told to that work's stage and to every stage queued behind it for the
 * connection: a catalog held up by a transaction left open stalled every table of the worker
 * with nothing on their progress lines.
 */
import { randomBytes } from 'node:crypto';
import type { Engine, Session } from '../engine/duckdb';
import { postgresTimeoutSeconds, withConnectOption, withConnectTimeout } from '../engine/postgres-attach';
import { type AttachmentSessions, watchingLockWaits } from '../engine/postgres-waits';
import { alsoHearingWaits, noteWait, type Wait } from '../engine/wait-notes';

/** The PostgreSQL application name of each engine's catalog sessions, which the watch looks for. */
const applicationNames = new WeakMap<Engine, string>();

function applicationName(engine: Engine): string {
  const name = applicationNames.get(engine) ?? `cdcflow-catalog-${process.pid}-${randomBytes(4).toString('hex')}`;
  applicationNames.set(engine, name);
  return name;
}

/** The catalog's connection string as attached: with a connect timeout and the engine's application name. */
export function catalogConnection(engine: Engine, catalogUrl: string, warehouse: string): string {
  return withConnectOption(withConnectTimeout(catalogUrl, postgresTimeoutSeconds({ warehouse })), 'application_name', applicationName(engine));
}

/** What the work holding each engine's catalog connection waits on now. */
const holderWaits = new WeakMap<Engine, Wait>();

/**
 * Runs `work`, which holds the engine's catalog connection: a PostgreSQL catalog (`metadata`: the
 * name DuckLake attached its database by) is watched for lock waits, and what the work waits on
 * is shared with the work queued behind it (queuedForCatalog).
 */
export function holdingCatalog<T>(engine: Engine, session: Session, metadata: string | undefined, warehouse: string, work: () => Promise<T>): Promise<T> {
  if (!engine.catalogUrl || metadata === undefined) return work();
  const sessions: AttachmentSessions = { applicationName: applicationName(engine) };
  const share = (wait: Wait | undefined) => (wait ? holderWaits.set(engine, wait) : holderWaits.delete(engine));
  return alsoHearingWaits(share, () =>
    watchingLockWaits(session, metadata, 'CDCFLOW_CATALOG_URL', postgresTimeoutSeconds({ warehouse }), work, sessions),
  ).finally(() => holderWaits.delete(engine));
}

/** How often work queued for the catalog connection looks at what its holder waits on. */
const LOOK_EVERY_MS = 1_000;

/** Runs `queue(started)`, saying what the catalog's holder waits on until the queued work calls `started`. */
export async function queuedForCatalog<T>(engine: Engine, queue: (started: () => void) => Promise<T>): Promise<T> {
  if (!engine.catalogUrl) return queue(() => undefined);
  let told = false;
  const look = setInterval(() => {
    const wait = holderWaits.get(engine);
    if (!wait && !told) return;
    noteWait(wait && { note: `waiting for the worker's catalog connection: ${wait.note}`, stalled: wait.stalled });
    told = wait !== undefined;
  }, LOOK_EVERY_MS);
  const started = () => {
    clearInterval(look);
    if (told) noteWait(undefined);
    told = false;
  };
  try {
    return await queue(started);
  } finally {
    started();
  }
}
