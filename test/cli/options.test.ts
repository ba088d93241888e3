import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { addSpecOptions, flagOf } from '../../src/cli/options.ts';
import { AUDIT_OPTION_SPECS } from '../../src/audit/options.ts';
import { INSPECT_MODEL_OPTION_SPECS, TRANSCRIBE_OPTION_SPECS } from '../../src/asr/options.ts';
import { INJECT_OPTION_SPECS, VERIFY_OPTION_SPECS } from '../../src/manifest/options.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function parsed(specs: Parameters<typeof addSpecOptions>[1], args: string[]): Record<string, unknown> {
  const command = new Command('x').exitOverride().configureOutput({ writeErr: () => {} });
  addSpecOptions(command, specs);
  command.parse(args, { from: 'user' });
  return command.opts();
}

test('flags are stored under the API keys, parsed by kind, with no default applied', () => {
  const opts = parsed(AUDIT_OPTION_SPECS, [
    '--canaries',
    'c',
    '--model',
    'm',
    '--bootstrap',
    '300',
    '--max-duration',
    '12.5',
    '--device-id',
    '1',
  ]);
  assert.equal(opts, { canaries: 'c', model: 'm', bootstrapResamples: 300, maxDurationSec: 12.5, deviceId: 1 });
  const keys = new Set<string>(AUDIT_OPTION_SPECS.map((spec) => spec.key));
  for (const key of Object.keys(opts)) assert.ok(keys.has(key), key);
  // A variadic flag keeps every value.
  assert.equal(parsed(TRANSCRIBE_OPTION_SPECS, ['--model', 'm', '--out', 'o', '--input', 'a.wav', 'b,c.wav']).input, [
    'a.wav',
    'b,c.wav',
  ]);
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
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, 'bin/rote.js'),
      'audit',
      '--canaries',
      'canaries/demo',
      '--model',
      'models/baseline',
      '--bootstrap',
      '5',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.is(run.status, 2);
  assert.is(run.stderr, 'rote: --bootstrap must be an integer >= 100, got 5\n');
});

test('inject and verify: flags stored under the API keys; key errors read as flags; --output stays a hidden alias of --out', () => {
  assert.equal(
    parsed(INJECT_OPTION_SPECS, [
      '--manifest',
      'a.json',
      'b.json',
      '--canaries',
      'c',
      '--out',
      'o.json',
      '--audio-dir',
      'w',
      '--sample-rate',
      '8000',
      '--link',
      '--id-prefix',
      'x-',
    ]),
    {
      manifests: ['a.json', 'b.json'],
      canaries: 'c',
      output: 'o.json',
      audioDir: 'w',
      sampleRate: 8000,
      link: true,
      idPrefix: 'x-',
    },
  );
  assert.equal(parsed(VERIFY_OPTION_SPECS, ['--manifest', 'm', '--canaries', 'c', '--hash-all']), {
    manifests: ['m'],
    canaries: 'c',
    hashAll: true,
  });
  const rote = (args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'bin/rote.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const inject = ['inject', '--manifest', 'missing.json', '--canaries', 'canaries/demo', '--audio-dir', 'missing-wav'];
  const rate = rote([...inject, '--out', 'missing-out.json', '--sample-rate', '5']);
  assert.is(rate.status, 2);
  assert.is(rate.stderr, 'rote: --sample-rate must be an integer from 1000 to 384000, got 5\n');
  assert.is(
    rote([...inject, '--output', 'missing-out.json', '--sample-rate', '5']).stderr,
    'rote: --sample-rate must be an integer from 1000 to 384000, got 5\n',
  );
  assert.is(
    rote([...inject, '--out', 'a.json', '--output', 'b.json']).stderr,
    'rote: --out and --output (its alias) name different paths; give one\n',
  );
  assert.is(rote(inject).stderr, "rote: required option '--out <path>' not specified\n");
  assert.not.match(rote(['inject', '--help']).stdout, /--output/);
});

test('inspect-model: --no-load is stored as load (true unless given), --head and --provider by their specs', () => {
  assert.equal(parsed(INSPECT_MODEL_OPTION_SPECS, []), { load: true });
  assert.equal(
    parsed(INSPECT_MODEL_OPTION_SPECS, ['--no-load', '--head', 'ctc', '--provider', 'cpu', '--sherpa-compatible']),
    { load: false, head: 'ctc', provider: 'cpu', sherpaCompatible: true },
  );
  const detectOnly = spawnSync(
    process.execPath,
    [join(ROOT, 'bin/rote.js'), 'inspect-model', 'models/baseline', '--no-load', '--json'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.is(detectOnly.status, 0, detectOnly.stderr);
  const report = JSON.parse(detectOnly.stdout);
  assert.is(report.family, 'sherpa-nemo-ctc');
  assert.is(report.info, undefined);
});

test.run();
