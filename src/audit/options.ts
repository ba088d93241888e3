/**
 * Options of audit(), compare(), checkCanaries() and runDemo(), declared once (src/util/options.ts):
 * the CLI builds its flags from these specs, the API validates and fills defaults with them.
 * A light module (no stage loaded), so `rote --help` stays fast.
 */
import { PROVIDER_CHOICES } from '../setup/providers.ts';
import { DEFAULT_MAX_DURATION_SEC } from '../asr/batching.ts';
import { findSpec, resolveOption, type OptionSpec } from '../util/options.ts';
export { pickSpecs } from '../util/options.ts';
import { AUDIT_DEFAULTS, EPSILON_DEFAULTS } from './defaults.ts';
import type { AuditProvider, AuditSettings, CompareExpectation } from './types.ts';

export const COMPARE_EXPECTATIONS: readonly CompareExpectation[] = ['less', 'more', 'either'];

const canaries: OptionSpec<'canaries'> = {
  key: 'canaries',
  flag: '--canaries <dir>',
  kind: 'string',
  required: true,
  description: 'canary-set directory (with canary-set.json and audio/)',
};
const provider: OptionSpec<'provider'> = {
  key: 'provider',
  flag: '--provider <name>',
  kind: 'string',
  choices: PROVIDER_CHOICES,
  default: AUDIT_DEFAULTS.provider,
  description: 'ONNX Runtime execution provider',
};

/** Every option of audit() that `rote audit` offers (the callbacks and `restart` aside, all of AuditOptions). */
export const AUDIT_OPTION_SPECS = [
  canaries,
  {
    key: 'model',
    flag: '--model <dir>',
    kind: 'string',
    required: true,
    description:
      'model directory (NeMo CTC, RNNT, TDT or hybrid in NeMo or sherpa-onnx layout, icefall/sherpa-onnx transducer, or with rote-model.json)',
  },
  {
    key: 'out',
    flag: '--out <dir>',
    kind: 'string',
    description: 'output directory (default: audit-<model directory name>)',
  },
  provider,
  { key: 'deviceId', flag: '--device-id <n>', kind: 'integer', min: 0, description: 'GPU index for cuda (default: 0)' },
  {
    key: 'threads',
    flag: '--threads <n>',
    kind: 'integer',
    min: 1,
    description: "CPU provider intra-op threads (default: ONNX Runtime's choice)",
  },
  {
    key: 'batchFrames',
    flag: '--batch-frames <n>',
    kind: 'integer',
    min: 1,
    description: "feature frames per batch (default: the engine's)",
  },
  {
    key: 'maxDurationSec',
    flag: '--max-duration <seconds>',
    kind: 'number',
    min: 0,
    exclusive: 'both',
    description: `longest canary to transcribe; a longer one stops the audit before any row, as its memory grows with the square of the length (default: ${DEFAULT_MAX_DURATION_SEC})`,
  },
  {
    key: 'head',
    flag: '--head <head>',
    kind: 'string',
    choices: ['ctc', 'transducer'],
    description: 'hybrid RNNT-CTC models with both heads exported: which head to use (default: transducer)',
  },
  {
    key: 'alpha',
    flag: '--alpha <p>',
    kind: 'number',
    min: 0,
    max: 1,
    exclusive: 'both',
    default: AUDIT_DEFAULTS.alpha,
    description: 'significance level after Holm correction',
  },
  {
    key: 'confidence',
    flag: '--confidence <level>',
    kind: 'number',
    min: 0,
    max: 1,
    exclusive: 'both',
    default: AUDIT_DEFAULTS.confidence,
    description: 'confidence level of intervals',
  },
  {
    key: 'bootstrapResamples',
    flag: '--bootstrap <n>',
    kind: 'integer',
    min: 100,
    default: AUDIT_DEFAULTS.bootstrapResamples,
    description: 'bootstrap resamples per interval',
  },
  { key: 'seed', flag: '--seed <text>', kind: 'string', default: AUDIT_DEFAULTS.seed, description: 'bootstrap seed' },
  {
    key: 'delta',
    flag: '--delta <d>',
    kind: 'number',
    min: 0,
    max: 1,
    exclusive: 'max',
    default: EPSILON_DEFAULTS.delta,
    description: 'delta of the one-run epsilon lower bound (sets from generate --membership bernoulli)',
  },
  {
    key: 'epsilonConfidence',
    flag: '--epsilon-confidence <level>',
    kind: 'number',
    min: 0,
    max: 1,
    exclusive: 'both',
    default: EPSILON_DEFAULTS.confidence,
    description: 'confidence of the one-run epsilon lower bound',
  },
  {
    key: 'restart',
    flag: '--restart',
    kind: 'switch',
    default: false,
    description: 'discard rows of an earlier run in --out instead of resuming',
  },
] as const satisfies readonly OptionSpec[];

/** The options resolveAuditSettings reads (a subset of AuditOptions). */
/** The audit's settings (defaults, ranges, help: AUDIT_OPTION_SPECS); AuditOptions extends it. */
export interface AuditSettingsInput {
  provider?: AuditProvider;
  deviceId?: number;
  threads?: number;
  batchFrames?: number;
  /** Longest canary transcribed, in seconds (default DEFAULT_MAX_DURATION_SEC of src/asr/batching.ts); a longer one fails the audit before any row. */
  maxDurationSec?: number;
  /** Significance level of the per-group tests after Holm's correction. */
  alpha?: number;
  /** Confidence level of the intervals. */
  confidence?: number;
  /** Bootstrap resamples per interval. */
  bootstrapResamples?: number;
  /** Bootstrap seed. */
  seed?: string;
  /** δ of the one-run ε lower bound, for sets generated with --membership bernoulli. */
  delta?: number;
  /** Confidence of the one-run ε lower bound. */
  epsilonConfidence?: number;
}

export interface ResolvedAuditSettings {
  /** What the report records. */
  settings: AuditSettings;
  /** The one-run ε lower bound's δ and confidence. */
  epsilon: { delta: number; confidence: number };
  maxDurationSec?: number;
}

/** The one place audit settings get their defaults and are checked; errors name the option key. */
export function resolveAuditSettings(options: AuditSettingsInput): ResolvedAuditSettings {
  const get = <T>(key: (typeof AUDIT_OPTION_SPECS)[number]['key'], value: T | undefined) =>
    resolveOption(AUDIT_OPTION_SPECS, key, value);
  const maxDurationSec = get('maxDurationSec', options.maxDurationSec);
  return {
    settings: {
      alpha: get('alpha', options.alpha)!,
      confidence: get('confidence', options.confidence)!,
      bootstrapResamples: get('bootstrapResamples', options.bootstrapResamples)!,
      seed: get('seed', options.seed)!,
      provider: get('provider', options.provider)!,
      deviceId: get('deviceId', options.deviceId) ?? null,
      threads: get('threads', options.threads) ?? null,
      batchFrames: get('batchFrames', options.batchFrames) ?? null,
    },
    epsilon: { delta: get('delta', options.delta)!, confidence: get('epsilonConfidence', options.epsilonConfidence)! },
    ...(maxDurationSec !== undefined ? { maxDurationSec } : {}),
  };
}

const auditSpec = (key: (typeof AUDIT_OPTION_SPECS)[number]['key']): OptionSpec =>
  findSpec<string>(AUDIT_OPTION_SPECS, key);

/** Options of compare() (`rote compare`); alpha, confidence and resamples are the audit's, with the audit's defaults. */
export const COMPARE_OPTION_SPECS = [
  { key: 'out', flag: '--out <dir>', kind: 'string', default: 'comparison', description: 'output directory' },
  {
    key: 'force',
    flag: '--force',
    kind: 'switch',
    default: false,
    description:
      'replace a comparison that rote compare wrote at --out; never a file, a folder holding anything else, or the working directory or its ancestors',
  },
  {
    key: 'names',
    flag: '--names <a,b,...>',
    kind: 'string-list',
    description: 'display names, one per report (default: model directory names)',
  },
  // No default: the reports' own alpha when they agree, else the audit's default.
  {
    ...auditSpec('alpha'),
    default: undefined,
    description: `significance level after Holm correction (default: the reports' own alpha, else ${AUDIT_DEFAULTS.alpha})`,
  },
  { ...auditSpec('confidence'), description: 'confidence level of the bootstrap intervals' },
  { ...auditSpec('bootstrapResamples'), description: 'bootstrap resamples per interval' },
  {
    key: 'expect',
    flag: '--expect <direction>',
    kind: 'string',
    choices: COMPARE_EXPECTATIONS,
    default: 'less',
    description:
      'direction of the primary test: less = the other models memorize less than the first (higher scores on inserted canaries), more, or either (two-sided)',
  },
  { key: 'seed', flag: '--seed <text>', kind: 'string', default: 'rote-compare', description: 'bootstrap seed' },
] as const satisfies readonly OptionSpec[];

/** The flags `rote compare` offers (confidence and resamples are API-only there). */
export const COMPARE_CLI_KEYS = ['out', 'force', 'names', 'alpha', 'expect', 'seed'] as const;

/** Options of checkCanaries() (`rote check-canaries`). */
export const CHECK_CANARIES_OPTION_SPECS = [
  canaries,
  {
    key: 'model',
    flag: '--model <dir>',
    kind: 'string',
    required: true,
    description: 'model directory (any family rote audits)',
  },
  { ...provider, default: 'cpu', description: 'ONNX Runtime execution provider for loading the model' },
  { ...auditSpec('alpha'), description: 'significance level the audit will use' },
] as const satisfies readonly OptionSpec[];

/** The flags `rote check-canaries` offers (alpha is API-only there). */
export const CHECK_CANARIES_CLI_KEYS = ['canaries', 'model', 'provider'] as const;

/** Where `rote demo` writes by default. */
export const DEMO_OUT = 'rote-out/demo';

/** Options of runDemo() that `rote demo` offers. */
export const DEMO_OPTION_SPECS = [
  {
    key: 'out',
    flag: '-o, --out <dir>',
    kind: 'string',
    default: DEMO_OUT,
    description: 'output folder, replaced on every run (refused if it holds files the demo did not write)',
  },
  { ...provider, default: 'auto' },
] as const satisfies readonly OptionSpec[];
