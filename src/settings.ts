/** Settings from the environment, with the usual defaults. Secrets never come from config files. */
import * as path from 'node:path';
import type { EngineSettings } from './engine/duckdb';

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
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  return {
    address: env.TEMPORAL_ADDRESS || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.CDCFLOW_TASK_QUEUE || 'cdcflow',
    uiUrl: (env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/+$/, ''),
    searchAttributes: !['0', 'false', 'off'].includes((env.CDCFLOW_SEARCH_ATTRIBUTES ?? '').toLowerCase()),
  };
}

export function engineSettings(env: NodeJS.ProcessEnv = process.env): EngineSettings {
  return {
    memoryLimit: env.CDCFLOW_DUCKDB_MEMORY_LIMIT || undefined,
    threads: env.CDCFLOW_DUCKDB_THREADS ? Number(env.CDCFLOW_DUCKDB_THREADS) : undefined,
    tempDirectory: env.CDCFLOW_DUCKDB_TEMP_DIR || path.join(process.cwd(), '.cdcflow', 'duckdb-tmp'),
    extensionDirectory: env.CDCFLOW_DUCKDB_EXTENSION_DIR || path.join(PROJECT_ROOT, '.cdcflow', 'duckdb-extensions'),
    catalogUrl: env.CDCFLOW_CATALOG_URL || undefined,
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
