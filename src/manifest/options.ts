/**
 * Options of injectCanaries (`rote inject`) and verifyInjection (`rote verify`), declared once
 * (src/util/options.ts): the CLI builds its flags from these specs, the API fills defaults and
 * validates with them. A light module (no manifest readers), so `--help` stays fast.
 */
import type { OptionSpec } from '../util/options.ts';
import { FILE_HASH_ALGORITHMS } from '../util/hash.ts';
import { CHECK_DEPTHS, FULL_CHECK_RECORDS, MANIFEST_FORMATS } from './types.ts';

const MANIFEST_HELP = 'training manifest file(s), a glob in the file name (quote it), or a Kaldi data dir';
const FORMAT_HELP = 'manifest format (default: detected)';

/** Lowest and highest corpus sample rate inject accepts (Hz). */
export const INJECT_SAMPLE_RATE_RANGE = { min: 1000, max: 384_000 } as const;

export const INJECT_OPTION_SPECS = [
  { key: 'manifests', flag: '--manifest <paths...>', kind: 'string-list', required: true, description: MANIFEST_HELP },
  {
    key: 'canaries',
    flag: '--canaries <dir>',
    kind: 'string',
    required: true,
    description: 'canary-set directory or its for-training/ directory',
  },
  {
    key: 'output',
    flag: '--out <path>',
    kind: 'string',
    required: true,
    description: 'output manifest file (one input) or directory (shards, lhotse pair, Kaldi data dir); required',
  },
  {
    key: 'audioDir',
    flag: '--audio-dir <dir>',
    kind: 'string',
    required: true,
    description: 'directory the canary WAVs are written to (created if missing)',
  },
  { key: 'format', flag: '--format <format>', kind: 'string', choices: MANIFEST_FORMATS, description: FORMAT_HELP },
  {
    key: 'seed',
    flag: '--seed <seed>',
    kind: 'string',
    description: 'seed for ids and positions (default: the canary set id)',
  },
  {
    key: 'link',
    flag: '--link',
    kind: 'switch',
    default: false,
    description: 'hard-link canary audio instead of copying it',
  },
  {
    key: 'idPrefix',
    flag: '--id-prefix <prefix>',
    kind: 'string',
    default: '',
    description: 'prefix for inserted record ids (default: none, ids shaped like the corpus ids)',
  },
  {
    key: 'sampleRate',
    flag: '--sample-rate <hz>',
    kind: 'integer',
    ...INJECT_SAMPLE_RATE_RANGE,
    description: `corpus sample rate, ${INJECT_SAMPLE_RATE_RANGE.min}..${INJECT_SAMPLE_RATE_RANGE.max} (default: read from the manifest or its first audio file)`,
  },
  {
    key: 'receipt',
    flag: '--receipt <path>',
    kind: 'string',
    description: "receipt path (default: the output's path + .receipt.json, next to it, e.g. train.json.receipt.json)",
  },
  {
    key: 'force',
    flag: '--force',
    kind: 'switch',
    default: false,
    description: 'replace an existing output manifest (and its receipt); without it, inject refuses to overwrite',
  },
  {
    key: 'check',
    flag: '--check <depth>',
    kind: 'string',
    choices: CHECK_DEPTHS,
    default: 'structure',
    description:
      `how deeply NeMo-style JSON lines are checked before anything is written: "structure" parses the first ${FULL_CHECK_RECORDS} records and checks every later ` +
      'line is a UTF-8 JSON object on one line; "full" parses every line (about 1.8x the time on large manifests); other formats are always checked in full',
  },
  {
    key: 'hash',
    flag: '--hash <algorithm>',
    kind: 'string',
    choices: FILE_HASH_ALGORITHMS,
    default: 'xxh3',
    description:
      'digest of input and output files in the receipt: xxh3 identifies files (fast), sha256 also resists deliberate tampering',
  },
] as const satisfies readonly OptionSpec[];

export const VERIFY_OPTION_SPECS = [
  { key: 'manifests', flag: '--manifest <paths...>', kind: 'string-list', required: true, description: MANIFEST_HELP },
  {
    key: 'canaries',
    flag: '--canaries <dir>',
    kind: 'string',
    required: true,
    description: 'the full canary-set directory (with canary-set.json)',
  },
  { key: 'format', flag: '--format <format>', kind: 'string', choices: MANIFEST_FORMATS, description: FORMAT_HELP },
  {
    key: 'hashAll',
    flag: '--hash-all',
    kind: 'switch',
    default: false,
    description:
      "hash every record's audio, finding canary audio under any transcript (default: only records whose text matches a canary)",
  },
  {
    key: 'allowUnverifiable',
    flag: '--allow-unverifiable',
    kind: 'switch',
    default: false,
    description: 'accept records whose canary audio cannot be read (listed, exit 0) instead of failing with exit 5',
  },
] as const satisfies readonly OptionSpec[];
