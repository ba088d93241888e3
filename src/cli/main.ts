import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../util/version.ts';
import { describeSystemError, RoteError } from '../util/errors.ts';
import { registerCommands } from './commands.ts';

const program = new Command('rote')
  .description('Audit speech recognition models for unintended memorization of their training data.')
  .version(TOOL_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof RoteError) {
    process.stderr.write(`rote: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    // A file-system error that no stage turned into a RoteError is still a problem
    // with the user's paths, not a bug: one line, no stack trace.
    const system = describeSystemError(error);
    process.stderr.write(system ? `rote: ${system}\n` : `rote: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = system ? 2 : 1;
  }
}

