import { Command } from 'commander';
import { loadConfig } from '../config/load';
import { Engine } from '../engine/duckdb';
import { engineSettings } from '../settings';
import { vacuumWarehouse } from '../warehouse/vacuum';
import { positiveInteger } from './options';

export function vacuumCommand(): Command {
  return new Command('vacuum')
    .description("remove the files of abandoned runs from a dataset's warehouse (uncommitted data files, stale stage files)")
    .requiredOption('--config <file>', 'dataset config (YAML)')
    .option('--older-than-hours <n>', 'only files older than this (at least 1), so runs in progress keep theirs', positiveInteger, 24)
    .action(async (opts: { config: string; olderThanHours: number }) => {
      const config = loadConfig(opts.config);
      const engine = await Engine.create(engineSettings());
      try {
        const { lakeFiles, workEntries } = await vacuumWarehouse(engine, config.warehouse, opts.olderThanHours);
        for (const file of [...lakeFiles, ...workEntries]) process.stdout.write(`removed ${file}\n`);
        process.stdout.write(`vacuum of ${config.warehouse}: ${lakeFiles.length} uncommitted data file(s), ${workEntries.length} stage or temporary file(s) removed\n`);
      } finally {
        await engine.close();
      }
    });
}
