import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerGenerate } from '../../src/cli/generate.ts';
import { generateCanarySet, GENERATE_DEFAULTS, GENERATE_OPTION_SPECS } from '../../src/canary/index.ts';

function program(): Command {
  const root = new Command('rote').exitOverride().configureOutput({ writeErr: () => {} });
  registerGenerate(root);
  return root;
}

test('--help documents every API option with its default', () => {
  const generate = program().commands.find((c) => c.name() === 'generate')!;
  const help = generate.helpInformation({ error: false }).replace(/\s+/g, ' ');
  for (const spec of GENERATE_OPTION_SPECS) {
    const long = spec.flag.match(/--[a-z-]+/)![0];
    assert.ok(help.includes(long), `${long} missing from --help`);
    const camel = long.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    assert.is(camel, spec.key, `${long} does not map to the API option ${spec.key}`);
    if (spec.key !== 'out') assert.ok(/\(default: [^)]/.test(spec.description), `${long} does not name its default`);
  }
  for (const [key, value] of Object.entries(GENERATE_DEFAULTS)) {
    const spec = GENERATE_OPTION_SPECS.find((s) => s.key === key)!;
    assert.ok(
      spec.description.includes(`(default: ${Array.isArray(value) ? value.join(',') : value}`),
      `--help shows a default for ${key} other than the API's`,
    );
  }
});

test('the command passes its flags to generateCanarySet unchanged', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rote-test-cli-'));
  try {
    const args = [
      '--seed',
      'cli',
      '--repetitions',
      '1,3',
      '--per-group',
      '1',
      '--holdout',
      '2',
      '--speed',
      '2.5',
      '--voices',
      'en-gb, en-us+m1',
      '--rate',
      '120',
      '--sample-rate',
      '8000',
    ];
    await program().parseAsync(['generate', '--out', join(root, 'cli'), '--quiet', ...args], { from: 'user' });
    const api = await generateCanarySet({
      out: join(root, 'api'),
      seed: 'cli',
      repetitions: [1, 3],
      perGroup: 1,
      holdout: 2,
      speed: 2.5,
      voices: ['en-gb', 'en-us+m1'],
      rate: 120,
      sampleRate: 8000,
    });
    assert.is(await readFile(join(root, 'cli', 'canary-set.json'), 'utf8'), await readFile(api.setPath, 'utf8'));
    let message = '';
    try {
      await program().parseAsync(['generate', '--out', join(root, 'x'), '--words', 'six'], { from: 'user' });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /--words <n>' argument 'six' is invalid\. expected an integer, got "six"/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
