/** Settings from the environment, with the usual defaults. Secrets never come from config files. */
import * as path from 'node:path';
import type { EngineSettings } from './engine/duckdb';
import { postgresTimeoutSeconds } from './engine/postgres-attach';
import { s3Settings } from './engine/s3';
import { spillFolderSetting } from './engine/spill-folder';
import { countSetting, envFlag } from './env-values';

/** The checkout or installed package (src/ and dist/ are one level below it). */
const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Base URL of the Temporal Web UI, for links to runs. */
  uiUrl: string;
  /** Whether to set cdcflow's custom search attributes (they must be registered on the server). */
  searchAttributes: boolean;
  /** TLS to the frontend (Temporal Cloud, a self-hosted server with TLS); absent: plain. */
  tls?: TemporalTls;
  /** A Temporal Cloud API key (TEMPORAL_API_KEY); implies TLS. */
  apiKey?: string;
}

/** Paths of PEM files, as TEMPORAL_TLS_* give them. */
export interface TemporalTls {
  clientCertPath?: string;
  clientKeyPath?: string;
  serverCaCertPath?: string;
  serverName?: string;
}

/** TLS settings when any TEMPORAL_TLS_* or an API key is set, unless TEMPORAL_TLS=false; TEMPORAL_TLS=true alone uses the system's CAs. */
function temporalTls(env: NodeJS.ProcessEnv): TemporalTls | undefined {
  const tls: TemporalTls = {
    clientCertPath: env.TEMPORAL_TLS_CLIENT_CERT_PATH || undefined,
    clientKeyPath: env.TEMPORAL_TLS_CLIENT_KEY_PATH || undefined,
    serverCaCertPath: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH || undefined,
    serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
  };
  const flag = envFlag('TEMPORAL_TLS', env.TEMPORAL_TLS);
  if (flag === false) return undefined;
  if (Boolean(tls.clientCertPath) !== Boolean(tls.clientKeyPath)) {
    throw new Error('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together (mutual TLS needs both)');
  }
  const wanted = flag === true || Boolean(env.TEMPORAL_API_KEY) || Object.values(tls).some(Boolean);
  return wanted ? Object.fromEntries(Object.entries(tls).filter(([, v]) => v)) : undefined;
}

/**
 * The Web UI's base when TEMPORAL_UI_URL is not set: the dev server's (`temporal server
 * start-dev`, scripts/start-temporal.sh), on the frontend's host and its port + 1000.
 */
function devServerUiUrl(address: string): string {
  const at = /^(.+):(\d+)$/.exec(address);
  return at ? `http://${at[1]}:${Number(at[2]) + 1000}` : 'http://localhost:8233';
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS || 'localhost:7233';
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.CDCFLOW_TASK_QUEUE || 'cdcflow',
    uiUrl: (env.TEMPORAL_UI_URL || devServerUiUrl(address)).replace(/\/+$/, ''),
    searchAttributes: envFlag('CDCFLOW_SEARCH_ATTRIBUTES', env.CDCFLOW_SEARCH_ATTRIBUTES) ?? true,
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
    ...(temporalTls(env) ? { tls: temporalTls(env) } : {}),
  };
}

export function engineSettings(env: NodeJS.ProcessEnv = process.env): EngineSettings {
  // Read again by each PostgreSQL stage; checked here so that a worker refuses a bad value at
  // start, not when its first PostgreSQL table runs.
  postgresTimeoutSeconds({}, env);
  return {
    memoryLimit: env.CDCFLOW_DUCKDB_MEMORY_LIMIT || undefined,
    // Refused when not a count: it used to leave DuckDB on every core without a word.
    threads: countSetting(env, 'CDCFLOW_DUCKDB_THREADS', 'threads, 1 or more'),
    tempDirectory: spillFolderSetting(env),
    extensionDirectory: env.CDCFLOW_DUCKDB_EXTENSION_DIR || path.join(PROJECT_ROOT, '.cdcflow', 'duckdb-extensions'),
    catalogUrl: env.CDCFLOW_CATALOG_URL || undefined,
    dataPath: env.CDCFLOW_DATA_PATH || undefined,
    s3: s3Settings(env),
  };
}

/** Where the worker serves Prometheus metrics: CDCFLOW_METRICS_PORT (and _HOST, default 0.0.0.0), or nowhere. */
export function metricsAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const port = env.CDCFLOW_METRICS_PORT;
  if (!port) return undefined;
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new Error(`CDCFLOW_METRICS_PORT must be a port number, not ${JSON.stringify(port)}`);
  return `${env.CDCFLOW_METRICS_HOST || '0.0.0.0'}:${port}`;
}

export function runUrl(settings: TemporalSettings, workflowId: string, runId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}
