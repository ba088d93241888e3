import { type Command, InvalidArgumentError, Option } from 'commander';
import { generateCanarySet, GENERATE_DEFAULTS, type GenerateOptions, type GenerateResult } from '../canary/index.ts';
import { describeVoices } from '../canary/voices.ts';
import { createProgress } from './progress.ts';

const d = GENERATE_DEFAULTS;

function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return Number(value);
}
function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return parsed;
}
function integerList(value: string): number[] {
  return value.split(',').map((part) => integer(part));
}
function list(value: string): string[] {
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}

interface GenerateFlags {
  out: string;
  seed: string;
  words: number;
  repetitions: number[];
  perGroup: number;
  holdout: number;
  wordlist?: string;
  excludeWords?: string;
  voices?: string[];
  rate: number;
  pitch: number;
  speed: number;
  speedMethod: 'tempo' | 'resample';
  sampleRate: number;
  ttsCommand?: string;
  ttsVersion?: string;
  concurrency?: number;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export function summarize(result: GenerateResult): object {
  const p = result.set.parameters;
  const inserted = result.set.canaries.filter((c) => c.repetitions !== null).length;
  return {
    dir: result.dir,
    setId: result.set.setId,
    canaries: result.set.canaries.length,
    inserted,
    heldOut: result.set.canaries.length - inserted,
    groups: Object.fromEntries(p.repetitions.map((r) => [`x${r}`, p.perGroup])),
    speed: p.speed,
    speedMethod: p.speedMethod,
    sampleRate: p.sampleRate,
    audioSeconds: Math.round(result.set.canaries.reduce((sum, c) => sum + c.durationSec, 0) * 100) / 100,
    forTraining: result.trainingDir,
    seconds: Math.round(result.seconds * 100) / 100,
    warnings: result.warnings,
  };
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .summary('generate a reproducible set of sped-up TTS canaries')
    .description(
      'Generate a canary set: seeded random-word texts, synthesized with TTS (embedded espeak-ng by default), sped up, ' +
        'assigned to repetition groups and a held-out group. Writes DIR/canary-set.json (the auditor\'s copy), DIR/audio/*.wav, ' +
        'and DIR/for-training/ (ONLY the inserted canaries: give this part to the training team).\n\n' +
        'Frame-rate trap: the default --rate is 100 words/min on purpose. At espeak\'s usual 175 wpm, 3x tempo gives ~46 characters/s, ' +
        'more than a character CTC model with 4x subsampling (25 output frames/s) can emit, so no alignment exists and the canary ' +
        'can never be recognized, memorized or not. Keep speed x rate low enough for the audited model\'s output frame rate.',
    )
    .requiredOption('-o, --out <dir>', 'output directory of the canary set (required)')
    .option('--seed <text>', 'PRNG seed; same seed and options give byte-identical output', d.seed)
    .option('--words <n>', 'words per canary', integer, d.words)
    .addOption(new Option('--repetitions <list>', 'comma-separated repetition counts, one inserted group each').argParser(integerList).default([...d.repetitions], d.repetitions.join(',')))
    .option('--per-group <n>', 'canaries per inserted group', integer, d.perGroup)
    .option('--holdout <n>', 'held-out canaries, never trained on (>= 100 recommended: exposure resolution is log2 of it)', integer, d.holdout)
    .option('--wordlist <file>', 'word list, one lower-case word per line (default: canaries/words-en.txt, 3710 common words)')
    .option('--exclude-words <file>', 'remove words found in this file (word list, text, or JSON-lines training manifest) for out-of-distribution canaries')
    .option('--voices <list>', `comma-separated voices, rotated within each group (default: ${d.voices.join(',')}); ${describeVoices(false)}`, list)
    .option('--rate <wpm>', 'speaking rate in words per minute (espeak -s, 80..450); slow on purpose, see above', integer, d.rate)
    .option('--pitch <n>', 'pitch 0..99 (espeak -p)', integer, d.pitch)
    .option('--speed <factor>', 'speed-up factor, 1 to 8', number, d.speed)
    .addOption(new Option('--speed-method <method>', 'tempo keeps the pitch (ffmpeg atempo); resample raises it (low-pass, then playbackRate)').choices(['tempo', 'resample']).default(d.speedMethod))
    .option('--sample-rate <hz>', 'output sample rate (e.g. 8000 for telephone corpora)', integer, d.sampleRate)
    .option(
      '--tts-command <template>',
      'external TTS instead of espeak-ng: a shell command with placeholders {text} {out} (required), {voice} {rate} {pitch}, each ' +
        'substituted single-quoted; it must write a WAV file to {out}. Example: \'espeak-ng -v {voice} -s {rate} -w {out} {text}\'',
    )
    .option('--tts-version <text>', 'engine version recorded with --tts-command (default: the template)')
    .option('--concurrency <n>', 'parallel TTS workers (default: number of cores)', integer)
    .option('--force', 'replace an existing non-empty output directory', false)
    .option('-q, --quiet', 'print nothing but errors', false)
    .option('--json', 'print a JSON summary on stdout instead of text', false)
    .action(async (flags: GenerateFlags) => {
      const progress = createProgress('generate', flags.holdout + flags.perGroup * flags.repetitions.length, { quiet: flags.quiet || flags.json });
      const options: GenerateOptions = {
        out: flags.out,
        seed: flags.seed,
        words: flags.words,
        repetitions: flags.repetitions,
        perGroup: flags.perGroup,
        holdout: flags.holdout,
        wordlist: flags.wordlist,
        excludeWords: flags.excludeWords,
        voices: flags.voices,
        rate: flags.rate,
        pitch: flags.pitch,
        speed: flags.speed,
        speedMethod: flags.speedMethod,
        sampleRate: flags.sampleRate,
        ttsCommand: flags.ttsCommand,
        ttsVersion: flags.ttsVersion,
        concurrency: flags.concurrency,
        force: flags.force,
        onProgress: () => progress.increment(),
      };
      let result: GenerateResult;
      try {
        result = await generateCanarySet(options);
      } finally {
        progress.stop();
      }
      const summary = summarize(result);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else if (!flags.quiet) {
        printSummary(result);
      }
    });
}

export function printSummary(result: GenerateResult): void {
  const p = result.set.parameters;
  const inserted = result.set.canaries.filter((c) => c.repetitions !== null).length;
  const lines = [
    `wrote ${result.set.canaries.length} canaries to ${result.dir} in ${result.seconds.toFixed(1)} s`,
    `  inserted: ${inserted} (${p.perGroup} each at repetitions ${p.repetitions.join(', ')}); held out: ${p.holdout}`,
    `  ${p.wordsPerCanary} words each, ${p.speed}x ${p.speedMethod}, ${p.sampleRate} Hz, rate ${p.rate} wpm, voices ${p.voices.join(', ')}`,
    `  set id ${result.set.setId.slice(0, 16)}...; auditor's copy: ${result.setPath}`,
    `  give the training team ONLY: ${result.trainingDir}`,
    ...result.warnings.map((w) => `  warning: ${w}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
