/**
 * Watches the PostgreSQL sessions of an attached database for a lock wait, so that a stage held
 * up by another session (a migration's ALTER TABLE, a transaction left open) says so instead of
 * sitting silent until the lock is released.
 */
import type { Session } from './duckdb';
import { quoteLiteral } from './sql';
import { noteWait } from './wait-notes';

/** How often the watch asks PostgreSQL (and how long a wait goes unreported at most). */
const CHECK_EVERY_MS = 5_000;

/**
 * Which sessions of the database are this attachment's: the extension's sessions of the role (no
 * application name) opened since the attachment, or those that carry the attachment's own
 * application name (a catalog attached for the worker's lifetime, see catalog.ts).
 */
export type AttachmentSessions = { since: string } | { applicationName: string };

function sessionsFilter(of: AttachmentSessions): string {
  if ('applicationName' in of) return `w.application_name = ${quoteLiteral(of.applicationName)}`;
  return `w.application_name = '' AND w.backend_start >= ${quoteLiteral(of.since)}::timestamptz`;
}

/** The longest lock wait among the attachment's sessions, blocked by another session. */
function lockWaitSql(of: AttachmentSessions): string {
  return `SELECT floor(extract(epoch FROM clock_timestamp() - w.query_start))::int AS waited,
      (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE l.pid = w.pid AND NOT l.granted LIMIT 1) AS relation,
      b.pid AS blocker, b.application_name, b.state,
      floor(extract(epoch FROM clock_timestamp() - b.xact_start))::int AS blocker_seconds
    FROM pg_stat_activity w
    CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocking(pid)
    JOIN pg_stat_activity b ON b.pid = blocking.pid
    WHERE w.datname = current_database() AND w.usename = current_user AND ${sessionsFilter(of)}
      AND w.pid <> pg_backend_pid() AND w.wait_event_type = 'Lock'
    ORDER BY waited DESC LIMIT 1`;
}

interface LockWait {
  waited: number | null;
  relation: string | null;
  blocker: number;
  application_name: string | null;
  state: string | null;
  blocker_seconds: number | null;
}

/** e.g. `PostgreSQL ($SHOP_DB_URL): waiting 42s for a lock on public.orders, held by session 1234 (psql, idle in transaction for 300s)` */
export function lockWaitNote(variable: string, wait: LockWait): string {
  const holder = [wait.application_name || undefined, wait.state ? `${wait.state}${wait.blocker_seconds !== null ? ` for ${wait.blocker_seconds}s` : ''}` : undefined].filter(Boolean);
  return (
    `PostgreSQL ($${variable}): waiting ${wait.waited ?? 0}s for a lock${wait.relation ? ` on ${wait.relation}` : ''}, ` +
    `held by session ${wait.blocker}${holder.length ? ` (${holder.join(', ')})` : ''}`
  );
}

/**
 * PostgreSQL's time as the attachment's first session started: the sessions to watch started
 * since. Undefined where it cannot be known (a pooler between, say): the stage then runs unwatched.
 */
async function attachedSince(session: Session, attached: string): Promise<string | undefined> {
  const pg = 'SELECT backend_start::text AS since FROM pg_stat_activity WHERE pid = pg_backend_pid()';
  const rows = await session.rows<{ since: string | null }>(`SELECT * FROM postgres_query(${quoteLiteral(attached)}, ${quoteLiteral(pg)})`).catch(() => []);
  return rows[0]?.since ?? undefined;
}

/** e.g. `PostgreSQL ($SHOP_DB_URL): no answer for 42s to a check of its sessions` */
export function noAnswerNote(variable: string, seconds: number): string {
  return `PostgreSQL ($${variable}): no answer for ${seconds}s to a check of its sessions`;
}

/** A check slower than this (or than the timeout, if shorter) is noted as the server not answering. */
const QUIET_SECONDS = 5;

/** The longest lock wait of the attachment's sessions, if any (none when the check fails). */
async function lockWait(sibling: Session, attached: string, of: AttachmentSessions): Promise<LockWait | undefined> {
  const [wait] = await sibling.rows<LockWait>(`SELECT * FROM postgres_query(${quoteLiteral(attached)}, ${quoteLiteral(lockWaitSql(of))})`).catch(() => []);
  return wait;
}

/**
 * Runs `fn`, noting (noteWait) any lock wait of the attachment's sessions while it runs, and the
 * server not answering the checks. After `timeoutSeconds` without an answer the wait is stalled
 * (the stage stops heartbeating and is retried); `fn` failing after that fails with the stall.
 * `sessions`: which are the attachment's (default: the extension's, opened since the attachment).
 */
export async function watchingLockWaits<T>(
  session: Session,
  attached: string,
  variable: string,
  timeoutSeconds: number,
  fn: () => Promise<T>,
  sessions?: AttachmentSessions,
): Promise<T> {
  if (!sessions) {
    const since = await attachedSince(session, attached);
    if (!since) return fn();
    sessions = { since };
  }
  const of = sessions;
  let done = false;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  let wake = () => undefined as void;
  const pause = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, CHECK_EVERY_MS);
    });
  // The first check comes after a pause, and so does its connection: most work ends before.
  const watch = pause().then(async () => {
    while (!done && !stalled) {
      await session.withSibling(checkOnce);
      if (!done && !stalled) await pause();
    }
  });
  async function checkOnce(sibling: Session): Promise<void> {
    const asked = Date.now();
    const silent = () => Math.round((Date.now() - asked) / 1000);
    // The check answers within milliseconds; while it does not (or fails only after the timeout), the server is not answering.
    const silence = setInterval(() => {
      stalled ||= silent() >= timeoutSeconds;
      if (silent() >= Math.min(QUIET_SECONDS, timeoutSeconds)) noteWait({ note: noAnswerNote(variable, silent()), stalled });
    }, 1_000);
    const wait = await lockWait(sibling, attached, of).finally(() => clearInterval(silence));
    stalled ||= silent() >= timeoutSeconds;
    noteWait(stalled ? { note: noAnswerNote(variable, silent()), stalled } : wait && { note: lockWaitNote(variable, wait) });
  }
  try {
    return await fn();
  } catch (err) {
    if (!stalled) throw err;
    throw new Error(`PostgreSQL ($${variable}) did not answer for ${timeoutSeconds}s (CDCFLOW_PG_TIMEOUT_SECONDS) while the stage waited on it: stopped, overloaded or cut off?`);
  } finally {
    done = true;
    clearTimeout(timer);
    wake();
    await watch.catch(() => undefined);
    noteWait(undefined);
  }
}
