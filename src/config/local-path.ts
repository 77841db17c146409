/** A path that config fields take: on the worker's file system, where cdcflow reads or writes it. */
import { z } from 'zod';
import { isRemotePath } from '../engine/s3';

/** A relative or absolute path without `..` segments; not a URL (path.resolve would make `s3://b/k` a local `s3:/b/k`). */
export const localPath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !p.split(/[\\/]+/).includes('..'), 'must not contain ".." segments')
  .refine((p) => !p.includes('\u0000'), 'must not contain NUL')
  .refine(
    (p) => !isRemotePath(p),
    'must be a path on the file system, not a URL such as s3://: cdcflow reads and writes it there (only DuckLake data files go to S3, through CDCFLOW_DATA_PATH)',
  );
