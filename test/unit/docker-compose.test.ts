/**
 * docker-compose.yml against the code: a parseable file whose services, dependencies and volumes
 * hold together, two workers sharing the warehouse volume, and environment variables the code
 * (or a config's `connection:`) actually reads; and loaded as Docker Compose loads it (see composeConfig).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '../..');

interface Service {
  image?: string;
  build?: unknown;
  depends_on?: Record<string, unknown> | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every environment variable the code reads (`env.X`, `process.env.X`, and by name through src/env-values.ts: `secondsSetting(env, 'X', …)`). */
const ENV_READ = /\benv\.([A-Z][A-Z0-9_]*)|\b(?:secondsSetting|countSetting)\(env, '([A-Z][A-Z0-9_]*)'/g;
const readByCode = new Set(sourceFiles(path.join(root, 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(ENV_READ)].map((m) => m[1] ?? m[2])));
/** The variables configs name as connections. */
const namedByConfigs = new Set(
  readdirSync(path.join(root, 'config'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => [...readFileSync(path.join(root, 'config', f), 'utf8').matchAll(/connection: ([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1])),
);

describe('docker-compose.yml', () => {
  it('has an image or a build for every service, dependencies that exist, declared named volumes', () => {
    const names = Object.keys(compose.services);
    for (const [name, s] of Object.entries(compose.services)) {
      expect({ name, ok: Boolean(s.image || s.build) }).toEqual({ name, ok: true });
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(names).toContain(d);
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0];
        if (!source.startsWith('.') && !source.startsWith('/')) expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
  });

  it('runs Temporal on PostgreSQL, its UI, a PostgreSQL for data, and two workers from the Dockerfile sharing the warehouse volume', () => {
    const { temporal, 'temporal-ui': ui, 'data-db': data, 'cdcflow-worker': worker } = compose.services;
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'temporal-db' });
    expect(ui.image).toMatch(/^temporalio\/ui:/);
    expect(data.image).toMatch(/^postgres:/);
    expect(worker.build).toBe('.');
    expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(worker.volumes).toContain('warehouse:/data/warehouse');
    expect(worker.environment?.CDCFLOW_CATALOG_URL).toMatch(/@data-db:5432\//);
    expect(readFileSync(path.join(root, 'Dockerfile'), 'utf8')).toMatch(/ENV CDCFLOW_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
  });

  it("gives the workers' DuckDB spill folder a volume, not the container's writable layer", () => {
    const spill = /^ENV CDCFLOW_DUCKDB_TEMP_DIR=(\S+)$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'))?.[1];
    // `target`, `source:target` or `source:target:mode`.
    const targets = (compose.services['cdcflow-worker'].volumes ?? []).map((v) => (v.includes(':') ? v.split(':')[1] : v));
    expect(spill).toBeDefined();
    expect(targets).toContain(spill);
  });

  it("sets only variables the code reads or a config names as a connection", () => {
    const unknown = Object.keys(compose.services['cdcflow-worker'].environment ?? {}).filter((v) => !readByCode.has(v) && !namedByConfigs.has(v));
    expect(unknown).toEqual([]);
    for (const v of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'CDCFLOW_CATALOG_URL', 'CDCFLOW_DATA_PATH']) expect(readByCode).toContain(v);
  });

  it('lets the environment (.env) set every Temporal connection and S3 setting the code reads', () => {
    const environment = compose.services['cdcflow-worker'].environment ?? {};
    // TEMPORAL_UI_URL is the compose UI's own; AWS_DEFAULT_REGION is read only as AWS_REGION's alias.
    const settings = [...readByCode].filter((v) => /^(TEMPORAL_|AWS_|CDCFLOW_S3_)/.test(v) && !['TEMPORAL_UI_URL', 'AWS_DEFAULT_REGION'].includes(v));
    const notPassed = settings.filter((v) => !new RegExp(`^\\$\\{${v}:-`).test(environment[v] ?? '')).sort();
    expect(notPassed).toEqual([]);
  });

  /**
   * `docker compose config` where Docker Compose is installed; elsewhere scripts/compose-check,
   * which loads the file with the library Docker Compose uses (npm test builds it).
   */
  const docker = spawnSync('docker', ['compose', 'version']).status === 0;
  function composeConfig(env: NodeJS.ProcessEnv) {
    const checker = process.env.CDCFLOW_COMPOSE_CHECK ?? path.join(root, '.cdcflow/bin/compose-check');
    const [command, args] = docker ? ['docker', ['compose', 'config']] : [checker, ['docker-compose.yml']];
    return spawnSync(command, args, { cwd: root, env, encoding: 'utf8' });
  }
  const withoutPasswords = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL|CDCFLOW)_DB_PASSWORD$/.test(k)));

  it('loads as Docker Compose loads it: interpolated, valid against the Compose specification, every reference defined', () => {
    const loaded = composeConfig({ ...withoutPasswords(), TEMPORAL_DB_PASSWORD: 'x', CDCFLOW_DB_PASSWORD: 'y' });
    expect({ status: loaded.status, error: loaded.error?.message, stderr: loaded.stderr.split('\n').filter((l) => !/level=warning/.test(l)).join('\n').trim() }).toEqual({ status: 0, error: undefined, stderr: '' });
    const project = parse(loaded.stdout) as { services: Record<string, Service> };
    expect(Object.keys(project.services).sort()).toEqual(Object.keys(compose.services).sort());
    expect(project.services['cdcflow-worker'].environment?.CDCFLOW_CATALOG_URL).toBe('postgresql://cdcflow:y@data-db:5432/cdcflow');
  });

  it('refuses to load without the database passwords, naming them', () => {
    const loaded = composeConfig(withoutPasswords());
    expect(loaded.status).toBe(1);
    expect(loaded.stderr).toMatch(/required variable (TEMPORAL|CDCFLOW)_DB_PASSWORD is missing a value: set \1_DB_PASSWORD in the environment or \.env/);
  });
});
