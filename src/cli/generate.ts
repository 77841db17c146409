import { Command } from 'commander';
import { generate } from '../generator/generate';
import { fraction, integer } from './options';

export function generateCommand(): Command {
  return new Command('generate')
    .description('write synthetic day-1 and day-2 CSV snapshots with a known change mix, and a dataset config for them')
    .requiredOption('--out <dir>', 'output folder')
    .option('--initial <n>', 'rows on day 1 (and day 2)', integer, 10_000)
    .option('--incremental <m>', 'day-2 changes are drawn from the first M keys (default: --initial)', integer)
    .option('--keys <k>', 'key columns (UUID text)', integer, 5)
    .option('--nonkeys <v>', 'non-key columns (integers)', integer, 10)
    .option('--delete <fraction>', 'of the M keys: deleted, each replaced by a new key', fraction, 0.2)
    .option('--update <fraction>', 'of the M keys: every non-key value changed', fraction, 0.4)
    .option('--unchanged <fraction>', 'of the M keys: left as they are', fraction, 0.4)
    .option('--seed <s>', 'same seed, same bytes', integer, 42)
    .option('--table <name>', 'table name, also the CSV file name', 'records')
    .option('--date-placeholder', 'write DIR/<date>/<table>.csv and use {date} in the source path (no --input needed)')
    .action(async (opts: {
      out: string;
      initial: number;
      incremental?: number;
      keys: number;
      nonkeys: number;
      delete: number;
      update: number;
      unchanged: number;
      seed: number;
      table: string;
      datePlaceholder?: boolean;
    }) => {
      const started = Date.now();
      const result = await generate({ ...opts, outDir: opts.out });
      const e = result.expected;
      const day2Rows = e.inserts + e.updates + e.unchanged;
      process.stdout.write(
        `${result.files.day1}: ${e.day1Rows} rows\n` +
          `${result.files.day2}: ${day2Rows} rows\n` +
          `${result.files.config}: dataset config\n` +
          `expected day 2: I=${e.inserts} U=${e.updates} N=${e.unchanged} D=${e.deletes} (${Date.now() - started} ms)\n`,
      );
    });
}
