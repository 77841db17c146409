/**
 * S3 (or an S3-compatible store) through DuckDB's httpfs extension, for a DuckLake data path on
 * s3://. Credentials and endpoint come from the worker's environment only:
 *
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional), AWS_REGION
 *   CDCFLOW_S3_ENDPOINT     host:port of an S3-compatible store (MinIO, moto, ...); path-style URLs then
 *   CDCFLOW_S3_USE_SSL      false for a plain-HTTP endpoint (default true)
 *   CDCFLOW_S3_URL_STYLE    vhost or path (default: path with an endpoint, else vhost)
 */
import { quoteLiteral } from './sql';

export interface S3Settings {
  keyId?: string;
  secret?: string;
  sessionToken?: string;
  region?: string;
  endpoint?: string;
  useSsl: boolean;
  urlStyle: 'vhost' | 'path';
}

export function s3Settings(env: NodeJS.ProcessEnv): S3Settings {
  const style = env.CDCFLOW_S3_URL_STYLE;
  if (style && style !== 'vhost' && style !== 'path') throw new Error(`CDCFLOW_S3_URL_STYLE must be vhost or path, not ${JSON.stringify(style)}`);
  return {
    keyId: env.AWS_ACCESS_KEY_ID || undefined,
    secret: env.AWS_SECRET_ACCESS_KEY || undefined,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    endpoint: env.CDCFLOW_S3_ENDPOINT || undefined,
    useSsl: !['0', 'false', 'off'].includes((env.CDCFLOW_S3_USE_SSL ?? '').toLowerCase()),
    urlStyle: (style as S3Settings['urlStyle'] | undefined) ?? (env.CDCFLOW_S3_ENDPOINT ? 'path' : 'vhost'),
  };
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
