/**
 * A local S3-compatible server for tests: moto in server mode (PyPI `moto[server]`, installed by
 * scripts/lib.sh ensure_moto_server), on a free port, with one bucket.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { PutObjectCommand, S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { s3Settings } from '../../src/engine/s3';
import { s3ClientConfig } from '../../src/sources/s3-objects';
import { freePort } from './free-port';

const ROOT = path.resolve(__dirname, '..', '..');

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** The worker environment that points DuckDB's httpfs at this server. */
  env: Record<string, string>;
  /** Writes an object (replacing one of the same key), in the storage class given (S3's default, STANDARD, else). */
  put(key: string, body: string | Buffer, storageClass?: StorageClass): Promise<void>;
  /** Object keys in the bucket under `prefix`. */
  keys(prefix: string): Promise<string[]>;
  /**
   * On: every request must be signed with a key moto's IAM knows (none: so `test` is refused
   * with 403 InvalidAccessKeyId, as wrong credentials are); off: moto's default, anything passes.
   */
  checkCredentials(on: boolean): Promise<void>;
  /** Signals the server's process: SIGSTOP makes a store that accepts connections and answers nothing. */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = 'cdcflow-test', port?: number): Promise<S3TestServer> {
  const bin = execFileSync('bash', ['-c', 'source scripts/lib.sh && ensure_moto_server'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').at(-1)!;
  port ??= await freePort();
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `127.0.0.1:${port}`;
  const base = `http://${endpoint}`;
  for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
    const created = await fetch(`${base}/${bucket}`, { method: 'PUT' }).then((r) => r.ok, () => false);
    if (created) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`moto server did not start on ${endpoint}`);
  }
  const env = {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    CDCFLOW_S3_ENDPOINT: endpoint,
    CDCFLOW_S3_USE_SSL: 'false',
  };
  const client = new S3Client(s3ClientConfig(s3Settings(env)));
  return {
    endpoint,
    bucket,
    env,
    async put(key, body, storageClass) {
      // Signed: moto answers an unsigned write over an existing object with 403.
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body, StorageClass: storageClass }));
    },
    async keys(prefix) {
      const xml = await (await fetch(`${base}/${bucket}?list-type=2&max-keys=100000&prefix=${encodeURIComponent(prefix)}`)).text();
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
    },
    async checkCredentials(on) {
      const answer = await fetch(`${base}/moto-api/reset-auth`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: on ? '0' : 'inf' });
      if (!answer.ok) throw new Error(`moto did not switch its credential check: ${await answer.text()}`);
    },
    signal(sig) {
      child.kill(sig);
    },
    async stop() {
      client.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
