/**
 * Source files in S3 (or an S3-compatible store): listing the objects a source path matches and
 * downloading one, through the AWS SDK with the settings DuckLake's data path uses (engine/s3.ts).
 * An object is named by its ETag: a download asks for that ETag, so the bytes read are the ones
 * the batch's fingerprint names.
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { permanentS3Error, type S3Settings, s3Settings, s3SilentError } from '../engine/s3';
import { writeAtomically } from '../warehouse/atomic';
import { globMatcher, literalPrefix } from './glob';
import { parseS3Url, s3Url } from './s3-url';

export interface S3Object {
  url: string;
  size: number;
  etag: string;
}

/** The SDK's settings from the worker's environment, as DuckDB's httpfs gets them. */
export function s3ClientConfig(s: S3Settings): S3ClientConfig {
  return {
    region: s.region ?? 'us-east-1',
    forcePathStyle: s.urlStyle === 'path',
    ...(s.endpoint ? { endpoint: `${s.useSsl ? 'https' : 'http'}://${s.endpoint}` } : {}),
    ...(s.keyId && s.secret ? { credentials: { accessKeyId: s.keyId, secretAccessKey: s.secret, sessionToken: s.sessionToken } } : {}),
    // The SDK's default is to wait without end: a store that stops answering would hold the stage forever.
    requestHandler: { connectionTimeout: s.timeoutSeconds * 1000, socketTimeout: s.timeoutSeconds * 1000 },
  };
}

let sharedClient: S3Client | undefined;

/** One client per process: the settings are the worker's environment, fixed at its start. */
function client(): S3Client {
  sharedClient ??= new S3Client(s3ClientConfig(s3Settings(process.env)));
  return sharedClient;
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** What S3 answered, as the SDK reports it. */
function answerOf(err: unknown): { status?: number; code?: string; message?: string } {
  const e = err as SdkError | undefined;
  return { status: e?.$metadata?.httpStatusCode, code: e?.name, message: e?.message };
}

/**
 * An SDK error that no retry changes as a ConfigError naming the URL; S3 not reached or not
 * answering (after the SDK's own retries) as a plain error that names the store and the URL;
 * others (5xx) as they are.
 */
function classified(err: unknown, url: string, doing: Doing): unknown {
  const { status, code, message } = answerOf(err);
  if (code === 'CredentialsProviderError') return noCredentials(err, url, doing);
  if (status === undefined) return unanswered(err, url, doing);
  return permanentS3Error({ status, code, message, file: url, pathSetting: 'the source path' }, err) ?? err;
}

type Doing = 'listing' | 'downloading';

/**
 * Retried, as the SDK's own error was: a worker on an instance role or web identity finds none
 * while that service does not answer, and finds them again once it does.
 */
function noCredentials(err: unknown, url: string, doing: Doing): Error {
  return new Error(
    `no S3 credentials for ${doing} ${url}: the worker has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and the AWS SDK's default chain ` +
      `(profile, web identity, instance role) found none (${answerOf(err).message}); set them in the worker's environment`,
    { cause: err },
  );
}

/** S3 not reached (refused, no such host, cut off) or silent for CDCFLOW_S3_TIMEOUT_SECONDS, as a plain (retried) error naming the store and the URL. */
function unanswered(err: unknown, url: string, doing: Doing): Error {
  if (answerOf(err).code === 'TimeoutError') return s3SilentError(`${doing} ${url}`, err);
  const { endpoint } = s3Settings(process.env);
  const check = endpoint ? 'is CDCFLOW_S3_ENDPOINT right, and the store up' : 'is the network up';
  return new Error(`the connection to S3 (${endpoint ?? 'AWS'}) failed while ${doing} ${url} (${answerOf(err).message}): ${check}?`, { cause: err });
}

/** An error of writing the local copy (disk full, say), not of S3: it names its own path. */
function isLocalFileError(err: unknown): boolean {
  return typeof (err as NodeJS.ErrnoException | undefined)?.path === 'string';
}

/** The objects matching `pattern` (s3://bucket/key-glob), sorted by URL; folder markers left out. */
export async function listS3Objects(pattern: string): Promise<S3Object[]> {
  const { bucket, key } = parseS3Url(pattern);
  const matches = globMatcher(pattern);
  const found: S3Object[] = [];
  let token: string | undefined;
  do {
    const page = await client()
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: literalPrefix(key), ContinuationToken: token }))
      .catch((err: unknown) => Promise.reject(classified(err, pattern, 'listing')));
    for (const o of page.Contents ?? []) {
      const url = s3Url(bucket, o.Key ?? '');
      if (o.Key && !o.Key.endsWith('/') && matches(url)) found.push({ url, size: o.Size ?? 0, etag: o.ETag ?? '' });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

/**
 * Downloads the object as it was listed (its ETag) to `target`, streamed, under a temporary name
 * until complete. An object replaced or removed since is a plain error: the retry lists again.
 */
export async function downloadS3Object(object: S3Object, target: string): Promise<void> {
  const { bucket, key } = parseS3Url(object.url);
  await writeAtomically(target, async (tmp) => {
    const answer = await client()
      .send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: object.etag }))
      .catch((err: unknown) => Promise.reject(changedSinceListed(err, object) ?? classified(err, object.url, 'downloading')));
    await pipeline(answer.Body as Readable, createWriteStream(tmp)).catch((err: unknown) =>
      Promise.reject(isLocalFileError(err) ? err : classified(err, object.url, 'downloading')),
    );
  });
}

/** S3 answers 412 to an ETag the object no longer has, NoSuchKey to an object removed. */
function changedSinceListed(err: unknown, object: S3Object): Error | undefined {
  const { status, code } = answerOf(err);
  const change = status === 412 ? 'replaced' : code === 'NoSuchKey' ? 'removed' : undefined;
  if (!change) return undefined;
  return new Error(`${object.url} was ${change} since it was listed (ETag ${object.etag}); the stage lists the files again`, { cause: err });
}
