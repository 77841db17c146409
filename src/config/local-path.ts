/** Paths that config fields take: on the worker's file system, or for a file source also in S3. */
import { z } from 'zod';
import { isRemotePath } from '../engine/s3';
import { isS3Url, parseS3Url } from '../sources/s3-url';

const pathText = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !p.split(/[\\/]+/).includes('..'), 'must not contain ".." segments')
  .refine((p) => !p.includes('\u0000'), 'must not contain NUL');

/** A relative or absolute path without `..` segments; not a URL (path.resolve would make `s3://b/k` a local `s3:/b/k`). */
export const localPath = pathText.refine(
  (p) => !isRemotePath(p),
  'must be a path on the file system, not a URL such as s3://: cdcflow reads and writes it there (DuckLake data files go to S3 through CDCFLOW_DATA_PATH; file sources may be s3:// URLs)',
);

/** S3's rules for a bucket name: 3-63 lower-case letters, digits, dots and hyphens, not like an IP address. */
const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)(?!.*\.\.)(?!.*\.-)(?!.*-\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** What is wrong with an s3:// source path, or undefined. */
function s3PathProblem(url: string): string | undefined {
  const { bucket, key } = parseS3Url(url);
  if (!BUCKET_NAME.test(bucket)) return `the bucket ${JSON.stringify(bucket)} is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)`;
  if (!key) return 'must name the objects after the bucket: s3://bucket/key (globs and {date} allowed in the key)';
  return undefined;
}

/** A file source's path: a local path (as localPath), or an s3://bucket/key pattern. */
export const sourcePath = pathText.superRefine((p, ctx) => {
  const problem = isS3Url(p)
    ? s3PathProblem(p)
    : isRemotePath(p)
      ? 'must be a path on the file system or an s3://bucket/key URL: s3:// is the one URL scheme supported'
      : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
