import { Command } from 'commander';
import { checkConfigText, formatProblems, readConfigText } from '../config/load';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a dataset config and report every problem with its field path and line')
    .argument('<config>', 'dataset config file (YAML)')
    .action((configPath: string) => {
      const { problems } = checkConfigText(readConfigText(configPath));
      if (problems.length === 0) {
        process.stdout.write(`${configPath}: valid\n`);
        return;
      }
      process.stderr.write(`${formatProblems(configPath, problems)}\n${problems.length} problem(s) in ${configPath}\n`);
      process.exitCode = 1;
    });
}
