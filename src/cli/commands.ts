import type { Command } from 'commander';
import { registerGenerate } from './generate.ts';

/** Every rote command, in the order of the data path. */
export function registerCommands(program: Command): void {
  registerGenerate(program);
}
