import type { Command } from 'commander';

/** Every rote command, in the order of the data path. Each module adds one import and one call. */
export function registerCommands(program: Command): void {
  void program;
}
