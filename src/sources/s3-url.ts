/** s3:// URLs of source files (no SDK here: the config's validation needs these too). */
const S3_SCHEME = 's3://';

export function isS3Url(p: string): boolean {
  return p.startsWith(S3_SCHEME);
}

/** The bucket and key of `s3://bucket/key`. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const rest = url.slice(S3_SCHEME.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

export function s3Url(bucket: string, key: string): string {
  return `${S3_SCHEME}${bucket}/${key}`;
}
