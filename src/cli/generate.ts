import { Command } from 'commander';
import { generate } from '../generator/generate';
import { generateChanges } from '../generator/generate-changes';
import { fraction, integer } from './options';

export function generateCommand(): Command {
  return new Command('generate')
    .description('write synthetic day-1 and day-2 CSV snapshots with a known change mix, and a dataset config for them')
    .requiredOption('--out <dir>', 'output folder')
    .option('--initial <n>', 'rows on day 1 (and day 2)', integer, 10_000)
    .option('--incremental <m>', 'day-2 changes are drawn from the first M keys (default: --initial)', integer)
    .option('--keys <k>', 'key columns (UUID text) (default: 5; 1 with --changes)', integer)
    .option('--nonkeys <v>', 'non-key columns (integers)', integer, 10)
    .option('--delete <fraction>', 'of the M keys: deleted, each replaced by a new key (default: 0.2; of the touched keys with --changes)', fraction)
    .option('--update <fraction>', 'of the M keys: every non-key value changed (default: 0.4; 0.6 of the touched keys with --changes)', fraction)
    .option('--unchanged <fraction>', 'of the M keys: left as they are', fraction, 0.4)
    .option('--seed <s>', 'same seed, same bytes', integer, 42)
    .option('--table <name>', 'table name, also the CSV file name (default: records; events with --changes)')
    .option('--date-placeholder', 'write DIR/<date>/<table>.csv and use {date} in the source path (no --input needed)')
    .option('--changes', 'write change records instead (mode: changes): day-1 insert events, day-2 events over --touched keys')
    .option('--events <e>', 'with --changes: day-2 events before duplicates and stale copies (default: --initial)', integer)
    .option('--touched <k>', 'with --changes: keys the day-2 events are about (default: events / 2)', integer)
    .option('--insert <fraction>', 'with --changes: of the touched keys, new ones (--insert + --update + --delete = 1)', fraction, 0.2)
    .option('--duplicates <fraction>', 'with --changes: day-2 events delivered twice', fraction, 0.05)
    .option('--stale <fraction>', 'with --changes: late copies of day-1 events in day 2, as a share of the events', fraction, 0.05)
    .action(async (opts: {
      out: string;
      initial: number;
      incremental?: number;
      keys?: number;
      nonkeys: number;
      delete?: number;
      update?: number;
      unchanged: number;
      seed: number;
      table?: string;
      datePlaceholder?: boolean;
      changes?: boolean;
      events?: number;
      touched?: number;
      insert: number;
      duplicates: number;
      stale: number;
    }) => {
      const started = Date.now();
      if (opts.changes) {
        const result = await generateChanges({ ...opts, outDir: opts.out });
        const { counts: c, changes: e } = result.expected;
        process.stdout.write(
          `${result.files.day1}: ${result.expected.day1Events} insert events\n` +
            `${result.files.day2}: ${e.events} events (I ${e.inserts}, U ${e.updates}, D ${e.deletes}; ${e.duplicates} duplicates, ${e.stale} stale)\n` +
            `${result.files.config}: dataset config\n` +
            `expected day 2: I=${c.I} U=${c.U} D=${c.D} X=${c.X} N=${c.N} (${Date.now() - started} ms)\n`,
        );
        return;
      }
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
