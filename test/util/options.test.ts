import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OptionError, resolveOption, type OptionSpec } from '../../src/util/options.ts';
import { AUDIT_OPTION_SPECS, COMPARE_OPTION_SPECS, resolveAuditSettings } from '../../src/audit/options.ts';
import { AUDIT_DEFAULTS, EPSILON_DEFAULTS } from '../../src/audit/defaults.ts';
import { PROVIDER_CHOICES, PROVIDER_NAMES } from '../../src/asr/runtime.ts';

const SPECS: OptionSpec[] = [
  {
    key: 'perGroup',
    flag: '--per-group <n>',
    kind: 'integer',
    min: 1,
    max: 100,
    default: 16,
    description: 'canaries per group',
  },
  { key: 'alpha', flag: '--alpha <p>', kind: 'number', min: 0, max: 1, exclusive: 'both', description: 'level' },
  { key: 'counts', flag: '--counts <list>', kind: 'integer-list', min: 1, max: 9, description: 'counts' },
  { key: 'mode', flag: '--mode <m>', kind: 'string', choices: ['a', 'b'], default: 'a', description: 'mode' },
  { key: 'out', flag: '--out <dir>', kind: 'string', required: true, description: 'out' },
];

function thrown(action: () => unknown): OptionError {
  try {
    action();
  } catch (error) {
    assert.instance(error, OptionError);
    return error as OptionError;
  }
  throw new Error('expected an OptionError');
}

test('resolveOption applies the default, keeps a given value and leaves an absent option without default undefined', () => {
  assert.is(resolveOption(SPECS, 'perGroup', undefined), 16);
  assert.is(resolveOption(SPECS, 'perGroup', 3), 3);
  assert.is(resolveOption(SPECS, 'alpha', undefined), undefined);
  assert.is(resolveOption(SPECS, 'mode', undefined), 'a');
});

test('a bad value is an OptionError naming the key; render names it any other way (the CLI: the flag)', () => {
  const range = thrown(() => resolveOption(SPECS, 'perGroup', 101));
  assert.is(range.message, 'perGroup must be an integer from 1 to 100, got 101');
  assert.equal(range.keys, ['perGroup']);
  assert.is(
    range.render((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`),
    '--per-group must be an integer from 1 to 100, got 101',
  );
  assert.is(
    thrown(() => resolveOption(SPECS, 'perGroup', 2.5)).message,
    'perGroup must be an integer from 1 to 100, got 2.5',
  );
  assert.is(thrown(() => resolveOption(SPECS, 'alpha', 1)).message, 'alpha must be between 0 and 1 (exclusive), got 1');
  assert.is(
    thrown(() => resolveOption(SPECS, 'counts', [1, 12, 3])).message,
    'counts (each value) must be an integer from 1 to 9, got 12',
  );
  assert.is(thrown(() => resolveOption(SPECS, 'mode', 'c')).message, 'mode must be a or b, got "c"');
  assert.is(thrown(() => resolveOption(SPECS, 'out', undefined)).message, 'out is required');
});

test('resolveAuditSettings: the audit defaults, each checked in one place', () => {
  const { settings, epsilon, maxDurationSec } = resolveAuditSettings({});
  assert.equal(settings, {
    alpha: AUDIT_DEFAULTS.alpha,
    confidence: AUDIT_DEFAULTS.confidence,
    bootstrapResamples: AUDIT_DEFAULTS.bootstrapResamples,
    seed: AUDIT_DEFAULTS.seed,
    provider: AUDIT_DEFAULTS.provider,
    deviceId: null,
    threads: null,
    batchFrames: null,
  });
  assert.equal(epsilon, EPSILON_DEFAULTS);
  assert.is(maxDurationSec, undefined);
  assert.is(thrown(() => resolveAuditSettings({ threads: 0 })).message, 'threads must be a positive integer, got 0');
  assert.is(
    thrown(() => resolveAuditSettings({ deviceId: -1 })).message,
    'deviceId must be a non-negative integer, got -1',
  );
  assert.is(
    thrown(() => resolveAuditSettings({ bootstrapResamples: 50 })).message,
    'bootstrapResamples must be an integer >= 100, got 50',
  );
  assert.is(
    thrown(() => resolveAuditSettings({ provider: 'tpu' as never })).message,
    `provider must be ${PROVIDER_CHOICES.slice(0, -1).join(', ')} or cpu, got "tpu"`,
  );
});

test('one provider vocabulary; compare shares the audit defaults', () => {
  assert.equal([...PROVIDER_CHOICES], ['auto', ...PROVIDER_NAMES]);
  assert.equal(AUDIT_OPTION_SPECS.find((spec) => spec.key === 'provider')!.choices, PROVIDER_CHOICES);
  const compareSpecs: readonly OptionSpec[] = COMPARE_OPTION_SPECS;
  const auditSpecs: readonly OptionSpec[] = AUDIT_OPTION_SPECS;
  for (const key of ['confidence', 'bootstrapResamples']) {
    assert.is(
      compareSpecs.find((spec) => spec.key === key)!.default,
      auditSpecs.find((spec) => spec.key === key)!.default,
    );
  }
});

test.run();
