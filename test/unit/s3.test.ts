import { classifyS3Error, s3Settings } from '../../src/engine/s3';
import { ConfigError } from '../../src/errors';

/** DuckDB httpfs's message for a GET that S3 answered with `status` (and S3's `Code: message`). */
const httpError = (status: string, answer?: string) =>
  new Error(`HTTP Error: HTTP GET error reading 's3://b/lake/f.parquet' in region 'us-east-1' (HTTP ${status})${answer ? `\n\n${answer}` : ''}\n\nLINE 1: SELECT 1`);

describe('classifyS3Error', () => {
  it('a wrong region (400, 301) is a ConfigError naming AWS_REGION and the object', () => {
    const err = classifyS3Error(httpError('400 Bad Request', "AuthorizationHeaderMalformed: the region 'us-east-1' is wrong; expecting 'eu-west-1'"));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      "S3 rejected the request for s3://b/lake/f.parquet (HTTP 400: AuthorizationHeaderMalformed: the region 'us-east-1' is wrong; expecting 'eu-west-1'); " +
        "check AWS_REGION (the bucket's region) and CDCFLOW_S3_ENDPOINT",
    );
    expect((err as ConfigError).context).toEqual({ file: 's3://b/lake/f.parquet' });
    expect(classifyS3Error(httpError('301 Moved Permanently', 'PermanentRedirect: use the bucket endpoint'))).toBeInstanceOf(ConfigError);
  });

  it('leaves what a retry may pass to the retry: throttling, timeouts, server errors, connections', () => {
    for (const err of [
      httpError('400 Bad Request', 'RequestTimeout: Your socket connection to the server was not read from'),
      httpError('503 Service Unavailable', 'SlowDown: Please reduce your request rate.'),
      httpError('500 Internal Server Error'),
      new Error("IO Error: Could not connect to server error for HTTP PUT to 'http://127.0.0.1:1/b/k'"),
    ]) {
      expect(classifyS3Error(err)).toBe(err);
    }
  });
});

describe('s3Settings', () => {
  it('refuses an endpoint with a scheme, which httpfs would take for a host name', () => {
    expect(() => s3Settings({ CDCFLOW_S3_ENDPOINT: 'https://minio:9000' })).toThrow(/^CDCFLOW_S3_ENDPOINT must be host:port without a scheme/);
    expect(s3Settings({ CDCFLOW_S3_ENDPOINT: 'minio:9000' }).endpoint).toBe('minio:9000');
  });

  it('takes CDCFLOW_S3_USE_SSL as a flag and refuses anything else (`no` was taken as on)', () => {
    expect(() => s3Settings({ CDCFLOW_S3_USE_SSL: 'no' })).toThrow('CDCFLOW_S3_USE_SSL must be true or false, not "no"');
    expect([undefined, 'true', 'ON', '1'].map((v) => s3Settings({ CDCFLOW_S3_USE_SSL: v }).useSsl)).toEqual([true, true, true, true]);
    expect(['false', 'Off', '0'].map((v) => s3Settings({ CDCFLOW_S3_USE_SSL: v }).useSsl)).toEqual([false, false, false]);
  });

  it('waits 30 s for an answer unless CDCFLOW_S3_TIMEOUT_SECONDS says otherwise, and refuses what is not whole seconds', () => {
    expect(s3Settings({}).timeoutSeconds).toBe(30);
    expect(s3Settings({ CDCFLOW_S3_TIMEOUT_SECONDS: '5' }).timeoutSeconds).toBe(5);
    expect(() => s3Settings({ CDCFLOW_S3_TIMEOUT_SECONDS: '5s' })).toThrow('CDCFLOW_S3_TIMEOUT_SECONDS must be a whole number of seconds, not "5s"');
  });
});
