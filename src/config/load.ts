import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { resolveChanges } from '../changes/config';
import { ConfigError } from '../errors';
import { resolveSinks } from '../sinks/resolve-sinks';
import { hasExtractStage } from '../sources/registry';
import { isS3Url } from '../sources/s3-url';
import { datasetFileSchema, type DatasetFile, DEFAULT_CSV_OPTIONS, QUALIFIED_TABLE } from './schema';
import type { DatasetConfig, SourceSpec } from './types';
import { zoneSpelling } from './time-format';

export interface ConfigProblem {
  /** Dotted path to the field, e.g. `tables[0].keys[1].type`. */
  path: string;
  message: string;
  /** 1-based line in the file, where the field (or its parent) is written. */
  line?: number;
}

export interface ResolveOptions {
  /** Folder that relative source paths resolve against (the CLI's --input). */
  inputDir?: string;
}

export function formatFieldPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

/** Every problem in a config file, with field paths and line numbers. Empty when valid. */
export function checkConfigText(text: string): { problems: ConfigProblem[]; file?: DatasetFile } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        path: '',
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
        line: e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line,
      })),
    };
  }
  const result = datasetFileSchema.safeParse(doc.toJS());
  if (result.success) return { problems: [], file: result.data };
  return {
    problems: result.error.issues.map((issue: z.core.$ZodIssue) => ({
      path: formatFieldPath(issue.path),
      message: issue.message,
      line: lineOf(doc, lineCounter, issue.path),
    })),
  };
}

function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, parts: readonly PropertyKey[]): number | undefined {
  for (let n = parts.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n) as unknown[], true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}

export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return problems
    .map((p) => `${file}${p.line ? `:${p.line}` : ''}: ${p.path || '(file)'}: ${p.message}`)
    .join('\n');
}

/** A config file's text, or a ConfigError naming the file. */
export function readConfigText(configPath: string): string {
  try {
    return readFileSync(configPath, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${configPath}: ${(cause as Error).message}`, { file: configPath }, { cause });
  }
}

/** Reads, validates and resolves a config file; throws ConfigError listing every problem. */
export function loadConfig(configPath: string, options: ResolveOptions = {}): DatasetConfig {
  const { problems, file } = checkConfigText(readConfigText(configPath));
  if (!file) {
    throw new ConfigError(`invalid config:\n${formatProblems(configPath, problems)}`, { file: configPath });
  }
  const config = resolveConfig(file, path.dirname(path.resolve(configPath)), options);
  if (statSync(config.warehouse, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new ConfigError(`warehouse ${config.warehouse} is not a folder`, { file: configPath });
  }
  return config;
}

function resolveSource(source: DatasetFile['tables'][number]['source'], sourceBase: string): SourceSpec {
  const extract = hasExtractStage(source.format);
  if (source.format === 'postgres') {
    const [, schema, name] = source.table ? QUALIFIED_TABLE.exec(source.table)! : [];
    return {
      format: source.format,
      connection: source.connection,
      table: source.table ? { schema, name } : null,
      query: source.query ?? null,
      chunkRows: source.chunkRows,
      concurrentChunks: source.concurrentChunks,
      watermark: source.watermark?.column ?? null,
      ...(source.watermark?.lookback !== undefined ? { watermarkLookback: source.watermark.lookback } : {}),
      extract,
    };
  }
  return {
    format: source.format,
    path: sourceLocation(sourceBase, source.path),
    csv: source.csv ?? DEFAULT_CSV_OPTIONS,
    extraColumns: source.extraColumns,
    missingColumns: source.missingColumns,
    ...(source.waitForFiles ? { waitForFiles: source.waitForFiles } : {}),
    ...(source.readyFile ? { readyFile: sourceLocation(sourceBase, source.readyFile) } : {}),
    extract,
  };
}

/** A source path as configured: an s3:// URL as it is, a relative path against the source folder. */
function sourceLocation(sourceBase: string, configured: string): string {
  return isS3Url(configured) ? configured : path.resolve(sourceBase, configured);
}

export function resolveConfig(file: DatasetFile, configDir: string, options: ResolveOptions = {}): DatasetConfig {
  const warehouse = path.resolve(configDir, file.warehouse);
  const sourceBase = path.resolve(options.inputDir ?? configDir);
  return {
    dataset: file.dataset,
    warehouse,
    maxConcurrentTables: file.maxConcurrentTables,
    heartbeatTimeoutSeconds: file.heartbeatTimeoutSeconds,
    tables: file.tables.map((t) => ({
      dataset: file.dataset,
      name: t.name,
      mode: t.mode ?? file.mode,
      keys: t.keys,
      columns: t.columns,
      ignore: t.ignore,
      maxDeleteShare: t.maxDeleteShare ?? file.maxDeleteShare,
      allowDeletes: t.allowDeletes ?? file.allowDeletes,
      ...(t.buckets ? { buckets: t.buckets } : {}),
      source: resolveSource(t.source, sourceBase),
      warehouse,
      retention: file.retention,
      ...(t.sinks.length ? { sinks: resolveSinks(t.sinks, file.dataset, configDir) } : {}),
      ...resolveChanges(t, t.mode ?? file.mode),
    })),
    schedules: file.schedules.map(({ businessDate, cron, ...s }) => ({
      ...s,
      timeZone: zoneSpelling(s.timeZone),
      cron: cron ?? [],
      businessDateOffsetDays: businessDate === 'scheduled-day' ? 0 : businessDate === 'previous-day' ? -1 : businessDate.offsetDays,
    })),
  };
}
