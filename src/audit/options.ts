/**
 * Options of audit(), compare(), checkCanaries() and runDemo(), declared once (src/util/options.ts):
 * the CLI builds its flags from these specs, the API validates and fills defaults with them.
 * A light module (no stage loaded), so `rote --help` stays fast.
 */
import { DEFAULT_MAX_DURATION_SEC } from '../asr/batching.ts';
import { DEVICE_ID_OPTION, HEAD_OPTION, PROVIDER_OPTION, THREADS_OPTION } from '../asr/options.ts';
import { findSpec, resolveOptions, type OptionSpec, type OptionsOf } from '../util/options.ts';
export { pickSpecs } from '../util/options.ts';
import { AUDIT_DEFAULTS, EPSILON_DEFAULTS } from './defaults.ts';
import type { AuditSettings, CompareExpectation } from './report/types.ts';

export const COMPARE_EXPECTATIONS: readonly CompareExpectation[] = ['less', 'more', 'either'];

const canaries = {
  key: 'canaries',
  flag: '--canaries <dir>',
  kind: 'string',
  required: true,
  description: 'canary-set directory (with canary-set.json and audio/)',
} as const satisfies OptionSpec;
const provider = {
  ...PROVIDER_OPTION,
  default: AUDIT_DEFAULTS.provider,
  description: 'ONNX Runtime execution provider',
} as const satisfies OptionSpec;

/** The audit's settings: how it runs the model and its statistics (resolveAuditSettings; AuditSettingsInput). */
const AUDIT_SETTING_SPECS = [
  provider,
  { ...DEVICE_ID_OPTION, description: 'GPU index for cuda (default: 0)' },
  { ...THREADS_OPTION, description: "CPU provider intra-op threads (default: ONNX Runtime's choice)" },
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
  HEAD_OPTION,
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
] as const satisfies readonly OptionSpec[];

/** Every option of audit() that `rote audit` offers (the callbacks aside, all of AuditOptions). */
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
  ...AUDIT_SETTING_SPECS,
  {
    key: 'restart',
    flag: '--restart',
    kind: 'switch',
    default: false,
    description: 'discard rows of an earlier run in --out instead of resuming',
  },
] as const satisfies readonly OptionSpec[];

/** The audit's settings (types, defaults, ranges, help: AUDIT_SETTING_SPECS); AuditOptions extends it. */
export type AuditSettingsInput = OptionsOf<typeof AUDIT_SETTING_SPECS>;

export interface ResolvedAuditSettings {
  /** What the report records. */
  settings: AuditSettings;
  /** The one-run ε lower bound's δ and confidence. */
  epsilon: { delta: number; confidence: number };
  maxDurationSec?: number;
}

/** The one place audit settings get their defaults and are checked; errors name the option key. */
export function resolveAuditSettings(options: AuditSettingsInput): ResolvedAuditSettings {
  const resolved = resolveOptions(AUDIT_SETTING_SPECS, options);
  return {
    settings: {
      alpha: resolved.alpha,
      confidence: resolved.confidence,
      bootstrapResamples: resolved.bootstrapResamples,
      seed: resolved.seed,
      provider: resolved.provider,
      deviceId: resolved.deviceId ?? null,
      threads: resolved.threads ?? null,
      batchFrames: resolved.batchFrames ?? null,
    },
    epsilon: { delta: resolved.delta, confidence: resolved.epsilonConfidence },
    ...(resolved.maxDurationSec !== undefined ? { maxDurationSec: resolved.maxDurationSec } : {}),
  };
}

type AuditOptionSpec = (typeof AUDIT_OPTION_SPECS)[number];
/** The audit's spec of `key`, with its literal types (so the lists that spread it keep deriving their types). */
const auditSpec = <Key extends AuditOptionSpec['key']>(key: Key) =>
  findSpec<string>(AUDIT_OPTION_SPECS, key) as Extract<AuditOptionSpec, { key: Key }>;

/** Options of compare(); alpha, confidence and resamples are the audit's, with the audit's defaults. */
export const COMPARE_SETTING_SPECS = [
  {
    key: 'names',
    flag: '--names <a,b,...>',
    kind: 'string-list',
    description: 'display names, one per report (default: model directory names, or A, B, ... when those repeat)',
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

/** Options of `rote compare`: where writeComparisonReport writes, then compare()'s (COMPARE_SETTING_SPECS). */
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
  ...COMPARE_SETTING_SPECS,
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
  { ...PROVIDER_OPTION, default: 'cpu', description: 'ONNX Runtime execution provider for loading the model' },
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
  { ...PROVIDER_OPTION, description: 'ONNX Runtime execution provider' },
] as const satisfies readonly OptionSpec[];
