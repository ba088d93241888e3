import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OptionError,
  resolveOption,
  resolveOptions,
  type OptionSpec,
  type OptionsOf,
  type ResolvedOptions,
} from '../../src/util/options.ts';
import {
  AUDIT_OPTION_SPECS,
  CHECK_CANARIES_OPTION_SPECS,
  COMPARE_OPTION_SPECS,
  DEMO_OPTION_SPECS,
  resolveAuditSettings,
} from '../../src/audit/options.ts';
import { AUDIT_DEFAULTS, EPSILON_DEFAULTS } from '../../src/audit/defaults.ts';
import { PROVIDER_CHOICES, PROVIDER_NAMES } from '../../src/asr/runtime.ts';
import { HEAD_CHOICES, INSPECT_MODEL_OPTION_SPECS, TRANSCRIBE_OPTION_SPECS } from '../../src/asr/options.ts';
import { detectModel, loadModel } from '../../src/asr/index.ts';
import { MODELS } from '../asr/helpers.ts';
import { openJournal, JOURNAL_FORMAT } from '../../src/audit/pipeline/journal.ts';
import { detectFileFormat } from '../../src/manifest/detect.ts';
import { resolveGenerateOptions, type GenerateOptions } from '../../src/canary/options.ts';
import { importCanarySet, type ImportCanariesOptions } from '../../src/canary/import.ts';
import type { CompareOptions } from '../../src/audit/compare/compare.ts';

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

const CONST_SPECS = [
  { key: 'perGroup', flag: '--per-group <n>', kind: 'integer', min: 1, default: 16, description: 'per group' },
  { key: 'mode', flag: '--mode <m>', kind: 'string', choices: ['a', 'b'], description: 'mode' },
  { key: 'out', flag: '--out <dir>', kind: 'string', required: true, description: 'out' },
  { key: 'names', flag: '--names <list>', kind: 'string-list', description: 'names' },
  { key: 'force', flag: '--force', kind: 'switch', default: false, description: 'force' },
] as const satisfies readonly OptionSpec[];

test('resolveOptions: every option of a spec list, defaults filled in and each checked; the types follow the specs', () => {
  const input: OptionsOf<typeof CONST_SPECS> & { onProgress?: () => void } = { out: 'x', onProgress: () => {} };
  const resolved: ResolvedOptions<typeof CONST_SPECS> = resolveOptions(CONST_SPECS, input);
  assert.equal(resolved, { perGroup: 16, mode: undefined, out: 'x', names: undefined, force: false });
  // The derived types: a default or `required` makes a value certain, choices narrow a string.
  const perGroup: number = resolved.perGroup;
  const force: boolean = resolved.force;
  const mode: 'a' | 'b' | undefined = resolved.mode;
  assert.equal([perGroup, force, mode], [16, false, undefined]);
  // @ts-expect-error a choice outside the spec's choices is a type error too
  const wrong: OptionsOf<typeof CONST_SPECS> = { out: 'x', mode: 'c' };
  // @ts-expect-error a required option cannot be left out
  const missing: OptionsOf<typeof CONST_SPECS> = {};
  assert.is(thrown(() => resolveOptions(CONST_SPECS, wrong)).message, 'mode must be a or b, got "c"');
  assert.is(thrown(() => resolveOptions(CONST_SPECS, missing)).message, 'out is required');
  assert.is(
    thrown(() => resolveOptions(CONST_SPECS, { out: 'x', perGroup: 0 })).message,
    'perGroup must be a positive integer, got 0',
  );
});

test('provider and head: one spec each, shared by every command that opens a model', () => {
  const lists: Array<readonly OptionSpec[]> = [
    TRANSCRIBE_OPTION_SPECS,
    INSPECT_MODEL_OPTION_SPECS,
    AUDIT_OPTION_SPECS,
    CHECK_CANARIES_OPTION_SPECS,
    DEMO_OPTION_SPECS,
  ];
  for (const specs of lists) {
    assert.is(specs.find((spec) => spec.key === 'provider')!.choices, PROVIDER_CHOICES);
    const head = specs.find((spec) => spec.key === 'head');
    if (head) assert.is(head.choices, HEAD_CHOICES);
  }
  assert.equal([...HEAD_CHOICES], ['ctc', 'transducer']);
});

async function rejection(promise: Promise<unknown>): Promise<OptionError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(error, OptionError);
  return error as OptionError;
}

test('on the way to ONNX Runtime, provider, threads and deviceId are checked by their specs: the same message as the API gives', async () => {
  const dir = join(MODELS, 'sidecar-ctc');
  const provider = await rejection(loadModel(dir, { provider: 'tpu' as never }));
  assert.is(provider.message, thrown(() => resolveAuditSettings({ provider: 'tpu' as never })).message);
  assert.is(
    provider.render((key) => `--${key}`),
    `--provider must be ${PROVIDER_CHOICES.join(', ').replace(/, cpu$/, ' or cpu')}, got "tpu"`,
  );
  const threads = await rejection(loadModel(dir, { threads: 0 }));
  assert.is(threads.message, 'threads must be a positive integer, got 0');
  const deviceId = await rejection(loadModel(dir, { deviceId: -1 }));
  assert.is(deviceId.message, 'deviceId must be a non-negative integer, got -1');
});

test('generate, import-canaries and compare take their options types from their spec lists, and check every option by its spec', async () => {
  // The types: each key of the spec list, typed by its kind and choices, plus the callback.
  const generate: GenerateOptions = { out: 'x', speedMethod: 'resample', onProgress: () => {} };
  // @ts-expect-error a choice outside the spec's choices is a type error
  const wrongMethod: GenerateOptions = { out: 'x', speedMethod: 'stretch' };
  const imported: ImportCanariesOptions = { list: 'l.tsv', out: 'o', membership: 'bernoulli' };
  // @ts-expect-error the list is required
  const noList: ImportCanariesOptions = { out: 'o' };
  const compared: CompareOptions = { names: ['a', 'b'], expect: 'either' };
  // @ts-expect-error where compare writes is writeComparisonReport's, not compare()'s
  const withOut: CompareOptions = { out: 'dir' };
  assert.equal([generate.out, imported.membership, compared.expect], ['x', 'bernoulli', 'either']);
  assert.ok(wrongMethod && noList && withOut);
  // Every option is checked by its spec, also those the code only passes on: the message names the key.
  assert.is(
    thrown(() => resolveGenerateOptions({ out: 'x', ttsVersion: 3 as never })).message,
    'ttsVersion must be a string, got 3',
  );
  // Before the list is read (it does not exist).
  const force = await rejection(importCanarySet({ list: 'missing.tsv', out: 'o', force: 'yes' as never }));
  assert.is(
    force.render((key) => `--${key}`),
    '--force must be true or false, got "yes"',
  );
});

test('the model registry names options by key (the CLI shows its flags): a file as the model', async () => {
  const file = join(MODELS, 'sidecar-ctc', 'rote-model.json');
  const notDirectory = await rejection(detectModel(file));
  assert.equal(notDirectory.keys, ['model']);
  assert.is(
    notDirectory.message,
    `${file}: model must be a directory holding the model's .onnx file(s) and tokens file`,
  );
  assert.match(
    notDirectory.render((key) => `--${key}`),
    `${file}: --model must be a directory`,
  );
});

test('library errors that ask for another option value name its key: a damaged audit journal, a manifest of no known format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rote-option-keys-'));
  try {
    const journal = join(dir, 'rows.jsonl');
    writeFileSync(journal, 'not json\n');
    const header = {
      kind: 'rote-audit-rows',
      format: JOURNAL_FORMAT,
      setId: 's',
      canarySetSha256: 'c',
      modelFingerprint: 'm',
      transcription: { provider: 'cpu', batchFrames: null },
    } as const;
    const damaged = await rejection(openJournal(journal, header));
    assert.equal(damaged.keys, ['out', 'restart']);
    assert.is(
      damaged.render((key) => `--${key}`),
      `${journal}: line 1 is not an audit journal header; use another --out directory or --restart`,
    );
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    const nothing = await rejection(detectFileFormat(empty));
    assert.equal(nothing.keys, ['format']);
    assert.match(
      nothing.render((key) => `--${key}`),
      'nothing to detect the format from (pass --format)',
    );
    const prose = join(dir, 'notes.txt');
    writeFileSync(prose, 'just some words\n');
    const unknown = await rejection(detectFileFormat(prose));
    assert.equal(unknown.keys, ['format']);
    assert.match(
      unknown.render((key) => `--${key}`),
      /unknown manifest format; .*\(force one with --format\)$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
