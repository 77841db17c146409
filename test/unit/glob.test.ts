/** Source globs as S3 listings apply them: the listed prefix, and the same matches as DuckDB's glob of local files. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Engine } from '../../src/engine/duckdb';
import { quoteLiteral } from '../../src/engine/sql';
import { globMatcher, literalPrefix } from '../../src/sources/glob';
import { s3ClientConfig } from '../../src/sources/s3-objects';
import { parseS3Url } from '../../src/sources/s3-url';

describe('source globs', () => {
  it('lists from the literal prefix before the first glob character', () => {
    expect(literalPrefix('exports/2024-01-01/orders.csv')).toBe('exports/2024-01-01/orders.csv');
    expect(literalPrefix('exports/2024-01-01/orders-*.csv')).toBe('exports/2024-01-01/orders-');
    expect(literalPrefix('exports/**/part-?.parquet')).toBe('exports/');
    expect(literalPrefix('*.csv')).toBe('');
  });

  it('matches `*` and `?` within a folder, `**` across folders, everything else literally', () => {
    const matches = globMatcher('s3://b.x/exports/2024-01-0?/orders-*.csv');
    expect(['s3://b.x/exports/2024-01-01/orders-1.csv', 's3://b.x/exports/2024-01-02/orders-.csv'].every(matches)).toBe(true);
    for (const other of ['s3://b.x/exports/2024-01-01/sub/orders-1.csv', 's3://bax/exports/2024-01-01/orders-1.csv', 's3://b.x/exports/2024-01-01/orders-1.csv.gz']) {
      expect(matches(other)).toBe(false);
    }
    expect(globMatcher('s3://b/e/**/x (1)+[a].csv')('s3://b/e/a/b/x (1)+[a].csv')).toBe(true);
  });

  it('matches the files DuckDB globs locally', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdcflow-glob-'));
    const files = ['a/2024-01-01/t.csv', 'a/2024-01-01/t-1.csv', 'a/2024-01-01/x/t.csv', 'a/2024-01-02/t.csv', 'a/t.csv', 'b/2024-01-01/t.csv'];
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), 'x');
    }
    const engine = await Engine.create();
    try {
      for (const glob of ['a/*/t.csv', 'a/2024-01-0?/t*.csv', 'a/**/t.csv', '*/2024-01-01/*.csv']) {
        const pattern = path.join(dir, glob);
        const globbed = await engine.withSession((s) => s.rows<{ file: string }>(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file`));
        expect(files.map((f) => path.join(dir, f)).filter(globMatcher(pattern)).sort()).toEqual(globbed.map((r) => r.file));
      }
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits an s3:// URL into bucket and key', () => {
    expect(parseS3Url('s3://b/exports/{date}/t.csv')).toEqual({ bucket: 'b', key: 'exports/{date}/t.csv' });
    expect(parseS3Url('s3://b')).toEqual({ bucket: 'b', key: '' });
  });

  it('gives the SDK the settings httpfs gets: endpoint with its scheme, path style, us-east-1 unless set; and the timeout', () => {
    expect(s3ClientConfig({ endpoint: 'minio:9000', useSsl: false, urlStyle: 'path', keyId: 'k', secret: 's', timeoutSeconds: 30 })).toEqual({
      region: 'us-east-1',
      forcePathStyle: true,
      endpoint: 'http://minio:9000',
      credentials: { accessKeyId: 'k', secretAccessKey: 's', sessionToken: undefined },
      requestHandler: { connectionTimeout: 30_000, socketTimeout: 30_000 },
    });
    expect(s3ClientConfig({ region: 'eu-west-1', useSsl: true, urlStyle: 'vhost', timeoutSeconds: 5 })).toEqual({
      region: 'eu-west-1',
      forcePathStyle: false,
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 5_000 },
    });
  });
});
