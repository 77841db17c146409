/**
 * S3 (or an S3-compatible store) through DuckDB's httpfs extension, for a DuckLake data path on
 * s3://. Credentials and endpoint come from the worker's environment only:
 *
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional), AWS_REGION
 *   CDCFLOW_S3_ENDPOINT     host:port of an S3-compatible store (MinIO, moto, ...); path-style URLs then
 *   CDCFLOW_S3_USE_SSL      false for a plain-HTTP endpoint (default true)
 *   CDCFLOW_S3_URL_STYLE    vhost or path (default: path with an endpoint, else vhost)
 *   CDCFLOW_S3_TIMEOUT_SECONDS  how long S3 may leave a source's listing or download unanswered (default 30)
 */
import { envFlag, secondsSetting } from '../env-values';
import { ConfigError } from '../errors';
import { quoteLiteral } from './sql';

export interface S3Settings {
  keyId?: string;
  secret?: string;
  sessionToken?: string;
  region?: string;
  endpoint?: string;
  useSsl: boolean;
  urlStyle: 'vhost' | 'path';
  /** How long S3 may leave a connection or a request of a source unanswered. */
  timeoutSeconds: number;
}

export function s3Settings(env: NodeJS.ProcessEnv): S3Settings {
  const style = env.CDCFLOW_S3_URL_STYLE;
  if (style && style !== 'vhost' && style !== 'path') throw new Error(`CDCFLOW_S3_URL_STYLE must be vhost or path, not ${JSON.stringify(style)}`);
  // httpfs puts its own scheme before the endpoint: `http://host` would be a host named "http" (retried as if down).
  if (env.CDCFLOW_S3_ENDPOINT && isRemotePath(env.CDCFLOW_S3_ENDPOINT)) {
    throw new Error(
      `CDCFLOW_S3_ENDPOINT must be host:port without a scheme, not ${JSON.stringify(env.CDCFLOW_S3_ENDPOINT)} (CDCFLOW_S3_USE_SSL=false for plain HTTP)`,
    );
  }
  return {
    keyId: env.AWS_ACCESS_KEY_ID || undefined,
    secret: env.AWS_SECRET_ACCESS_KEY || undefined,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    endpoint: env.CDCFLOW_S3_ENDPOINT || undefined,
    useSsl: useSsl(env.CDCFLOW_S3_USE_SSL),
    urlStyle: (style as S3Settings['urlStyle'] | undefined) ?? (env.CDCFLOW_S3_ENDPOINT ? 'path' : 'vhost'),
    timeoutSeconds: secondsSetting(env, 'CDCFLOW_S3_TIMEOUT_SECONDS', 30),
  };
}

/** CDCFLOW_S3_USE_SSL as a flag, on by default; anything else refused, since `no` taken as on meets a plain-HTTP endpoint with TLS (retried as if down). */
function useSsl(value: string | undefined): boolean {
  return envFlag('CDCFLOW_S3_USE_SSL', value) ?? true;
}

/** The instance's S3 secret (temporary: in memory only, seen by every connection of the instance). */
export function s3SecretSql(s: S3Settings): string {
  const options = [
    'TYPE s3',
    ...(s.keyId ? [`KEY_ID ${quoteLiteral(s.keyId)}`] : []),
    ...(s.secret ? [`SECRET ${quoteLiteral(s.secret)}`] : []),
    ...(s.sessionToken ? [`SESSION_TOKEN ${quoteLiteral(s.sessionToken)}`] : []),
    ...(s.region ? [`REGION ${quoteLiteral(s.region)}`] : []),
    ...(s.endpoint ? [`ENDPOINT ${quoteLiteral(s.endpoint)}`] : []),
    `URL_STYLE ${quoteLiteral(s.urlStyle)}`,
    `USE_SSL ${s.useSsl}`,
  ];
  return `CREATE OR REPLACE SECRET cdcflow_s3 (${options.join(', ')})`;
}

/** True for an s3:// (or s3a://, gcs://, ...) URL rather than a local path. */
export function isRemotePath(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p);
}

/** S3 error codes that come with a client-error status yet pass: a retry may succeed. */
const TRANSIENT_S3_CODES = new Set(['RequestTimeout', 'SlowDown', 'OperationAborted', 'InternalError']);

/** S3's answer to a request for `file`, and the setting that names the file (CDCFLOW_DATA_PATH, a source path). */
export interface S3Answer {
  status: number;
  code?: string;
  message?: string;
  file: string;
  pathSetting: string;
}

/** What went wrong and what to check, for a status that the same request gets again. */
function permanentS3Failure({ status, code, file, pathSetting }: S3Answer): { what: string; check: string } | undefined {
  // A 403 too, but no credential changes it: the object must be restored first.
  if (code === 'InvalidObjectState') {
    return { what: `${file} is archived (S3 Glacier Flexible Retrieval or Deep Archive): S3 serves it only once restored`, check: 'restore it (or copy it to a storage class S3 reads at once) and run again' };
  }
  if (status === 401 || status === 403) {
    return { what: `S3 refused access to ${file}`, check: "check the worker's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and what they may do there" };
  }
  if (code === 'NoSuchBucket') return { what: `the S3 bucket of ${file} does not exist`, check: `check ${pathSetting} and CDCFLOW_S3_ENDPOINT` };
  // A 404 without S3's code is often no S3 at all: an endpoint that is some other web server.
  if (status === 404) return { what: `S3 has no object ${file}`, check: `its bucket does not exist or it was removed; check ${pathSetting} and CDCFLOW_S3_ENDPOINT` };
  if (status === 301 || status === 400) return { what: `S3 rejected the request for ${file}`, check: "check AWS_REGION (the bucket's region) and CDCFLOW_S3_ENDPOINT" };
  return undefined;
}

/** An answer that no retry changes (access refused, no such bucket or object, wrong region, an archived object) as a ConfigError naming the file and what to check. */
export function permanentS3Error(answer: S3Answer, cause: unknown): ConfigError | undefined {
  const failure = answer.code && TRANSIENT_S3_CODES.has(answer.code) ? undefined : permanentS3Failure(answer);
  if (!failure) return undefined;
  const said = answer.code ? `: ${answer.code}${answer.message ? `: ${answer.message.trim()}` : ''}` : '';
  return new ConfigError(`${failure.what} (HTTP ${answer.status}${said}); ${failure.check}`, { file: answer.file }, { cause });
}

/** S3 silent for CDCFLOW_S3_TIMEOUT_SECONDS on each of the client's tries, as a plain (retried) error naming the store and what it was asked. */
export function s3SilentError(doing: string, cause: unknown): Error {
  const s = s3Settings(process.env);
  return new Error(`S3 (${s.endpoint ?? 'AWS'}) did not answer for ${s.timeoutSeconds}s (CDCFLOW_S3_TIMEOUT_SECONDS) while ${doing}: stopped, overloaded or cut off?`, { cause });
}

/** DuckDB's SQL giving httpfs the S3 timeout: its own default (30 s, 4 tries) would keep a stage two minutes on a store gone silent. */
export function s3TimeoutSql(s: S3Settings): string {
  return `SET GLOBAL http_timeout = ${s.timeoutSeconds}`;
}

/**
 * DuckDB's httpfs error for an S3 answer that no retry changes as a ConfigError (permanentS3Error),
 * for no answer as one naming CDCFLOW_S3_TIMEOUT_SECONDS; other errors as they are. Its message
 * names the URL and the status, and S3's `Code: message` on a line of its own.
 */
export function classifyS3Error(err: unknown): unknown {
  const message = (err as Error | undefined)?.message;
  const silent = typeof message === 'string' ? /^IO Error: Timeout was reached error for HTTP (\w+) to '([^']*)'/.exec(message) : null;
  if (silent) return s3SilentError(`DuckDB sent HTTP ${silent[1]} ${silent[2]} (CDCFLOW_DATA_PATH)`, err);
  if (typeof message !== 'string' || !message.startsWith('HTTP Error:')) return err;
  const status = Number(/\(HTTP (?:code )?(\d{3})\b/.exec(message)?.[1]);
  const answer = /^(\w+): (.*)$/m.exec(message.slice(message.indexOf('\n')));
  const url = /'([a-z][a-z0-9+.-]*:\/\/[^']*)'|URL (\S+):/i.exec(message);
  const file = url?.[1] ?? url?.[2] ?? 'an S3 object';
  return permanentS3Error({ status, code: answer?.[1], message: answer?.[2], file, pathSetting: 'CDCFLOW_DATA_PATH' }, err) ?? err;
}
