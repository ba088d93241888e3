import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { addSpecOptions, flagOf } from '../../src/cli/options.ts';
import { AUDIT_OPTION_SPECS } from '../../src/audit/options.ts';
import { TRANSCRIBE_OPTION_SPECS } from '../../src/asr/options.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function parsed(specs: Parameters<typeof addSpecOptions>[1], args: string[]): Record<string, unknown> {
  const command = new Command('x').exitOverride().configureOutput({ writeErr: () => {} });
  addSpecOptions(command, specs);
  command.parse(args, { from: 'user' });
  return command.opts();
}

test('flags are stored under the API keys, parsed by kind, with no default applied', () => {
  const opts = parsed(AUDIT_OPTION_SPECS, ['--canaries', 'c', '--model', 'm', '--bootstrap', '300', '--max-duration', '12.5', '--device-id', '1']);
  assert.equal(opts, { canaries: 'c', model: 'm', bootstrapResamples: 300, maxDurationSec: 12.5, deviceId: 1 });
  const keys = new Set<string>(AUDIT_OPTION_SPECS.map((spec) => spec.key));
  for (const key of Object.keys(opts)) assert.ok(keys.has(key), key);
  // A variadic flag keeps every value.
  assert.equal(parsed(TRANSCRIBE_OPTION_SPECS, ['--model', 'm', '--out', 'o', '--input', 'a.wav', 'b,c.wav']).input, ['a.wav', 'b,c.wav']);
});

test('flagOf maps a key to its flag on the command, else to --kebab-case', () => {
  const command = new Command('x');
  addSpecOptions(command, AUDIT_OPTION_SPECS);
  assert.is(flagOf(command, 'bootstrapResamples'), '--bootstrap');
  assert.is(flagOf(command, 'maxDurationSec'), '--max-duration');
  assert.is(flagOf(command, 'perGroup'), '--per-group');
  assert.is(flagOf(null, 'deviceId'), '--device-id');
});

test('a library error naming a key reaches the command line as the flag', () => {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/rote.js'), 'audit', '--canaries', 'canaries/demo', '--model', 'models/baseline', '--bootstrap', '5'], { cwd: ROOT, encoding: 'utf8' });
  assert.is(run.status, 2);
  assert.is(run.stderr, 'rote: --bootstrap must be an integer >= 100, got 5\n');
});

test.run();
