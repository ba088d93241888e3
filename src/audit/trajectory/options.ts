/**
 * Options of trajectory() (`rote trajectory`), declared once (src/util/options.ts). A light module: no
 * stage is loaded, so `rote --help` stays fast. The audit's settings are the audit's own specs.
 */
import { findSpec, type OptionSpec } from '../../util/options.ts';
import { AUDIT_OPTION_SPECS, COMPARE_OPTION_SPECS } from '../options.ts';

const auditSpec = (key: (typeof AUDIT_OPTION_SPECS)[number]['key']): OptionSpec =>
  findSpec<string>(AUDIT_OPTION_SPECS, key);

export const TRAJECTORY_OPTION_SPECS = [
  auditSpec('canaries'),
  {
    key: 'series',
    flag: '--series <name=checkpoints...>',
    kind: 'string-list',
    required: true,
    description:
      "a series of checkpoints, repeatable: NAME=GLOB (quoted, e.g. baseline='ckpt/baseline/step-*': the step is read from each directory's name, " +
      'step-1200, checkpoint-1200, or its last number) or NAME=STEP:DIR,STEP:DIR; the first series is the reference of the per-step comparisons',
  },
  {
    key: 'out',
    flag: '--out <dir>',
    kind: 'string',
    default: 'trajectory',
    description:
      'output folder: trajectory.{json,md,html}, one audit per checkpoint in audits/<series>/<step>/ (reused when done, resumed when cut short) ' +
      'and one comparison per common step in comparisons/step-<N>/',
  },
  findSpec<string>(COMPARE_OPTION_SPECS, 'expect'),
  auditSpec('provider'),
  auditSpec('deviceId'),
  auditSpec('threads'),
  auditSpec('batchFrames'),
  auditSpec('alpha'),
  auditSpec('confidence'),
  auditSpec('bootstrapResamples'),
  auditSpec('seed'),
] as const satisfies readonly OptionSpec[];
