import type { Command } from 'commander';
import { registerGenerate } from './generate.ts';
import { registerDemo } from './demo.ts';
import { registerInject } from './inject.ts';
import { registerVerify } from './verify.ts';
import { registerTranscribe } from './transcribe.ts';
import { registerInspectModel } from './inspect-model.ts';
import { registerDoctor } from './doctor.ts';
import { registerAudit } from './audit.ts';
import { registerCompare } from './compare.ts';
import { registerTrajectory } from './trajectory.ts';
import { registerCheckCanaries } from './check-canaries.ts';
import { registerImportCanaries } from './import-canaries.ts';

/**
 * Every rote command, in the order of the data path. Each module adds one import and one call.
 * Command modules import only light modules at the top (commander, option lists, defaults, types)
 * and load their stage inside the action (`await import(...)`), so `rote --help` loads no stage.
 */
export function registerCommands(program: Command): void {
  void program;
  registerGenerate(program);
  registerImportCanaries(program);
  registerCheckCanaries(program);
  registerInject(program);
  registerVerify(program);
  registerTranscribe(program);
  registerInspectModel(program);
  registerAudit(program);
  registerCompare(program);
  registerTrajectory(program);
  registerDoctor(program);
  registerDemo(program);
}
