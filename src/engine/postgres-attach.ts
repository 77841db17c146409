/**
 * A PostgreSQL database attached to a DuckDB session through the postgres extension, for
 * sources (read-only) and sinks. The connection string comes from the worker's environment
 * (the config names the variable) and, holding a password, never appears in an error message.
 */
import { randomBytes } from 'node:crypto';
import type { Session } from './duckdb';
import { watchingLockWaits } from './postgres-waits';
import { quoteLiteral } from './sql';
import { secondsSetting } from '../env-values';
import { CdcflowError, ConfigError, type ErrorContext } from '../errors';

/**
 * Connection failures that a retry cannot fix (others, like a server restarting, are retried):
 * refused credentials, and a connection string libpq cannot parse (`invalid sslmode value:
 * "bogus"`, `invalid integer value "x" for connection option "port"`, an unknown option).
 */
const PERMANENT_CONNECT_ERROR = new RegExp(
  [
    'password authentication failed',
    'no password supplied',
    'role ".*" does not exist',
    'database ".*" does not exist',
    'invalid connection option',
    'missing "=" after',
    'invalid [a-z_ ]+ value',
    'invalid port number',
    'invalid URI query parameter',
    'invalid percent-encoded token',
    'unterminated quoted string',
    'invalid when SSL support is not compiled in',
  ].join('|'),
);

/** How long PostgreSQL may leave a connection attempt or a check of its sessions unanswered (CDCFLOW_PG_TIMEOUT_SECONDS). */
export function postgresTimeoutSeconds(context: ErrorContext, env: NodeJS.ProcessEnv = process.env): number {
  try {
    return secondsSetting(env, 'CDCFLOW_PG_TIMEOUT_SECONDS', 30);
  } catch (err) {
    throw new ConfigError((err as Error).message, context);
  }
}

/**
 * The connection string with libpq's connect_timeout, unless it sets one: without it libpq waits
 * without end for a server that accepts the connection but does not answer (stopped, overloaded).
 */
export function withConnectTimeout(connection: string, seconds: number): string {
  if (/(^|[?&\s])connect_timeout\s*=/.test(connection)) return connection;
  return withConnectOption(connection, 'connect_timeout', String(seconds));
}

/** The connection string with one more libpq option (`value`: letters, digits, `_` and `-` only, so nothing to quote). */
export function withConnectOption(connection: string, option: string, value: string): string {
  if (/^postgres(ql)?:\/\//.test(connection)) return `${connection}${connection.includes('?') ? '&' : '?'}${option}=${value}`;
  return `${connection} ${option}=${value}`;
}

/**
 * The connection string with the client_encoding cdcflow's text needs (libpq keeps the last value
 * of an option, so this overrides one the string sets): UTF8, in which PostgreSQL converts text
 * from and to the database's encoding (without it a LATIN1 database sent its own bytes, `Ã©`
 * arriving as `é`, and took UTF-8 bytes as Latin-1, `é` stored as `Ã©`); SQL_ASCII for an
 * SQL_ASCII database, whose bytes PostgreSQL converts to nothing: in UTF8 it refuses a whole query
 * for one value that is not UTF-8, where the source checks each value and names its key.
 */
export function withClientEncoding(connection: string, encoding: 'UTF8' | 'SQL_ASCII'): string {
  return withConnectOption(connection, 'client_encoding', encoding);
}

/** The connection string from the worker's environment; config holds only the variable's name. */
export function connectionString(variable: string, context: ErrorContext): string {
  const value = process.env[variable];
  if (!value) throw new ConfigError(`environment variable ${variable} (the PostgreSQL connection string) is not set on the worker`, context);
  return value;
}

/**
 * Attaches the database as `attached`. Refused credentials and a connection string libpq cannot
 * parse are ConfigErrors; an unanswered attempt says so; both with the connection string cut out.
 */
async function attachDatabase(
  session: Session,
  connection: string,
  attached: string,
  how: { readOnly: boolean; variable: string; timeoutSeconds: number; redact: (message: string) => string; context: ErrorContext },
): Promise<void> {
  try {
    await session.run(`ATTACH ${quoteLiteral(connection)} AS ${attached} (TYPE postgres${how.readOnly ? ', READ_ONLY' : ''})`);
  } catch (err) {
    const message = how.redact((err as Error).message);
    if (/failed: timeout expired/.test(message)) {
      throw new Error(`PostgreSQL ($${how.variable}) did not answer a connection attempt within ${how.timeoutSeconds}s (CDCFLOW_PG_TIMEOUT_SECONDS): stopped, overloaded or cut off?`);
    }
    if (!PERMANENT_CONNECT_ERROR.test(message)) throw new Error(message);
    throw new ConfigError(`cannot connect to PostgreSQL: ${message.split('\n')[0]}`, how.context);
  }
}

/** Whether the attached database's encoding (`server_encoding`) is SQL_ASCII (detached when the question fails). */
async function asciiDatabase(session: Session, attached: string): Promise<boolean> {
  try {
    const [row] = await session.rows<{ server: string }>(`SELECT * FROM postgres_query(${quoteLiteral(attached)}, 'SELECT current_setting(''server_encoding'') AS server')`);
    return row.server === 'SQL_ASCII';
  } catch (err) {
    await session.run(`DETACH ${attached}`);
    throw err;
  }
}

/**
 * Runs `fn` with the database attached under a name of its own (attached databases are shared
 * by every connection of the DuckDB instance) and detaches it after. The connection's
 * client_encoding is UTF8, or SQL_ASCII for such a database (see withClientEncoding): `fn` is
 * told which (`unconverted`: its text arrives as stored, unchecked).
 */
export async function withPostgresAttached<T>(
  session: Session,
  variable: string,
  context: ErrorContext,
  options: { readOnly: boolean },
  fn: (attached: string, text: { unconverted: boolean }) => Promise<T>,
): Promise<T> {
  const timeoutSeconds = postgresTimeoutSeconds(context);
  const given = withConnectTimeout(connectionString(variable, context), timeoutSeconds);
  const [utf8, unconverted] = [withClientEncoding(given, 'UTF8'), withClientEncoding(given, 'SQL_ASCII')];
  // The string as given too: a message may quote it without the options added.
  const redact = (message: string) => [utf8, unconverted, given, connectionString(variable, context)].reduce((m, c) => m.split(c).join(`$${variable}`), message);
  const attached = `cdcflow_pg_${randomBytes(6).toString('hex')}`;
  const how = { readOnly: options.readOnly, variable, timeoutSeconds, redact, context };
  await attachDatabase(session, utf8, attached, how);
  const ascii = await asciiDatabase(session, attached);
  if (ascii) {
    await session.run(`DETACH ${attached}`);
    await attachDatabase(session, unconverted, attached, how);
  }
  try {
    return await watchingLockWaits(session, attached, variable, timeoutSeconds, () => fn(attached, { unconverted: ascii }));
  } catch (err) {
    if (err instanceof CdcflowError) throw err;
    // DuckDB's errors may come from another realm than this module's Error: read the message alone.
    const message = String((err as Error)?.message ?? '');
    // A privilege the role lacks is not granted by retrying (an operator grants it, then runs again).
    const denied = /ERROR:\s+(permission denied .*)/.exec(message);
    if (denied) throw new ConfigError(`PostgreSQL refused the role of $${variable} a privilege: ${denied[1]}; grant it, then run again`, context);
    if (redact(message) !== message) throw new Error(redact(message));
    throw err;
  } finally {
    await session.run(`DETACH ${attached}`);
  }
}
