import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../util/version.ts';
import { describeSystemError, RoteError } from '../util/errors.ts';
import { OptionError } from '../util/options.ts';
import { registerCommands } from './commands.ts';
import { flagOf } from './options.ts';

const program = new Command('rote')
  .description('Audit speech recognition models for unintended memorization of their training data.')
  .version(TOOL_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerCommands(program);
// Library errors name option keys (perGroup); the command that ran turns them into its flags (--per-group).
let running: Command | null = null;
program.hook('preAction', (_program, command) => {
  running = command;
});

// Every exit other than 0 says why: a command's verdict (its own output), an error printed below, or this last word
// for a run that ends before finishing (work left waiting on something that will never come, process.exit elsewhere).
let finished = false;
process.on('exit', (code) => {
  if (finished) return;
  // Node exits with 13 when the command's promise can never settle (it reports 0 here, before setting it).
  const status = code || 13;
  const why = code
    ? 'after the error above'
    : 'it was left waiting on work that will never complete (a worker thread or child process may have died)';
  process.stderr.write(`rote: stopped with exit code ${status} before the command finished: ${why}\n`);
  process.exitCode = status;
});

// A reader that goes away (`rote ... --json | head`) ends the run quietly, with the status the command set.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    finished = true;
    process.exit(process.exitCode ?? 0);
  });
}

try {
  await program.parseAsync(process.argv);
  finished = true;
} catch (error) {
  finished = true;
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof RoteError) {
    const message = error instanceof OptionError ? error.render((key) => flagOf(running, key)) : error.message;
    process.stderr.write(`rote: ${message}\n`);
    process.exitCode = error.exitCode;
  } else {
    // A file-system error that no stage turned into a RoteError is still a problem
    // with the user's paths, not a bug: one line, no stack trace.
    const system = describeSystemError(error);
    process.stderr.write(
      system ? `rote: ${system}\n` : `rote: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`,
    );
    process.exitCode = system ? 2 : 1;
  }
}
