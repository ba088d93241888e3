/**
 * `npm run bench whisper`: rote vs transformers.js (`@huggingface/transformers`, the ASR
 * pipeline on the same Optimum Whisper files, same onnxruntime-node) on a random-weight
 * Whisper of whisper-tiny's size, in one process, rounds alternated: files/s, the ratio,
 * equal greedy transcripts; then where rote's time goes (encoder, first decoder pass, cached
 * steps) and what the teacher-forced decoder score costs next to one greedy decode.
 *
 * Model: scripts/models/make_whisper_bench_model.py (d_model 384, 4+4 layers, 6 heads, FFN
 * 1536, vocabulary 51865 with Whisper's special tokens, 80 mels; greedy decoding emits ~20
 * tokens and stops at <|endoftext|>), built once with Debian's PyTorch into the OS temp
 * directory. Files: the first ROTE_BENCH_FILES (default 12) of the transcribe bench's 120
 * (espeak-ng sentences at 1.0x, 1.3x, 1.6x), with their sentences as references for the score.
 *
 * The peer is installed by `sh scripts/bench/peers/install.sh` (see hf-ctc.bench.ts); it loads
 * `<dir>/onnx/encoder_model.onnx` and `onnx/decoder_model_merged.onnx` (its only decoder
 * layout), so it gets a view of the export with links to the same files. It is called as
 * users call it, one file at a time: `pipe(samples, { language: 'en', task: 'transcribe' })`
 * (greedy, generation_config's max_length, suppress_tokens and begin_suppress_tokens, no
 * timestamps). rote runs `transcribeFiles` with its default batching, on the split decoders
 * (decoder_model.onnx + decoder_with_past_model.onnx, what rote picks when both layouts are
 * there) and on the merged decoder (a view without the split files): the peer's files exactly.
 * Both read the WAVs in the timed loop (the peer through rote's WAV reader).
 *
 * Then rote vs sherpa-onnx-node (devDependency) on the sherpa-onnx export of the same weights
 * (`<dir>/sherpa/tiny-{encoder,decoder}.onnx`, tiny-tokens.txt): see sherpaSideBySide.
 *
 * Environment: ROTE_BENCH_THREADS (default 2, both), ROTE_BENCH_ROUNDS (default 3),
 * ROTE_BENCH_FILES (default 12), ROTE_BENCH_PEER_NO_SPIN=1 (transformers.js's intra-op threads do not
 * spin, as rote's; by default they keep ONNX Runtime's spinning; sherpa-onnx's always spin), ROTE_BENCH_BATCH_FRAMES (comma-separated --batch-frames values
 * for an extra rote-only sweep, e.g. 3000,6000,12000,24000: 1, 2, 4, 8 windows per batch).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, transcribeFiles, type AsrModel, type TranscribeItem } from '../../src/asr/index.ts';
import { RunClock } from '../../src/asr/runtime.ts';
import { readWavSync } from '../../src/audio/wav.ts';
import { benchFiles } from './transcribe.bench.ts';
import { loadTransformersPeer } from './peers/transformers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SPEECH = join(ROOT, 'test', 'fixtures', 'models', 'speech');
const BENCH_MODEL = join(tmpdir(), 'rote-bench-whisper');
const OPTIMUM = join(BENCH_MODEL, 'optimum');
const SHERPA = join(BENCH_MODEL, 'sherpa');
const SPLIT_FILES = ['decoder_model.onnx', 'decoder_with_past_model.onnx'];

type Pipe = ((audio: Float32Array, options: object) => Promise<{ text: string }>) & { dispose(): Promise<void> };
interface Transformers {
  env: { allowRemoteModels: boolean; localModelPath: string };
  pipeline(task: 'automatic-speech-recognition', model: string, options: object): Promise<Pipe>;
}

interface SherpaRecognizer {
  createStream(): { acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void };
  decode(stream: unknown): void;
  getResult(stream: unknown): { text: string };
}
interface Sherpa {
  OfflineRecognizer: new (config: object) => SherpaRecognizer;
  readWave(path: string): { samples: Float32Array; sampleRate: number };
}

function buildModel(): boolean {
  if (existsSync(join(OPTIMUM, 'decoder_model_merged.onnx')) && existsSync(join(SHERPA, 'tiny-tokens.txt')))
    return true;
  try {
    execFileSync(
      '/usr/bin/python3',
      [join(ROOT, 'scripts', 'models', 'make_whisper_bench_model.py'), '--out', BENCH_MODEL],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    console.log('(skipped: building the bench Whisper needs /usr/bin/python3 with torch and onnx)');
    return false;
  }
}

/** Links to the export's files: `onnx/` holding the ONNX files (transformers.js), or without the split decoders (rote, merged). */
function view(root: string, name: string, kind: 'peer' | 'merged'): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const file of readdirSync(OPTIMUM)) {
    if (kind === 'merged' && SPLIT_FILES.includes(file)) continue;
    const into = kind === 'peer' && file.endsWith('.onnx') ? join(dir, 'onnx', file) : join(dir, file);
    symlinkSync(join(OPTIMUM, file), into);
  }
  return dir;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Session time by part, from the describe() text of each run: encoder, first decoder pass, cached steps. */
const parts = new Map<string, { ms: number; runs: number }>();
function countRunsByPart(): void {
  const run = RunClock.prototype.run;
  RunClock.prototype.run = async function (session, feeds, describe) {
    const started = performance.now();
    try {
      return await run.call(this, session, feeds, describe);
    } finally {
      const text = describe();
      const part = text.startsWith('encoder')
        ? 'encoder'
        : text.includes('past tokens')
          ? 'decoder steps'
          : 'decoder full pass';
      const entry = parts.get(part) ?? { ms: 0, runs: 0 };
      entry.ms += performance.now() - started;
      entry.runs++;
      parts.set(part, entry);
    }
  };
}

async function roteRun(model: AsrModel, items: TranscribeItem[], batchFrames?: number): Promise<Timed> {
  const texts = new Map<string, string>();
  const started = clocks();
  for await (const row of transcribeFiles(model, items, batchFrames ? { batchFrames } : {}))
    texts.set(row.path, row.hypothesis);
  return { ...since(started), texts };
}

const load = (): string => loadavg()[0].toFixed(2);

interface Timed {
  /** Wall seconds, and CPU seconds of this process (user + system, all threads): less sensitive to other load. */
  seconds: number;
  cpuSeconds: number;
  texts: Map<string, string>;
}
const clocks = (): { wall: number; cpu: NodeJS.CpuUsage } => ({ wall: performance.now(), cpu: process.cpuUsage() });
function since(start: { wall: number; cpu: NodeJS.CpuUsage }): { seconds: number; cpuSeconds: number } {
  const cpu = process.cpuUsage(start.cpu);
  return { seconds: (performance.now() - start.wall) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** A warm-up of every side, then `rounds` rounds, each running every side once. */
async function alternate(
  sides: Record<string, () => Promise<Timed>>,
  rounds: number,
): Promise<{
  times: Map<string, number[]>;
  cpuTimes: Map<string, number[]>;
  last: Map<string, Map<string, string>>;
  loads: string[];
}> {
  const times = new Map<string, number[]>(Object.keys(sides).map((name) => [name, []]));
  const cpuTimes = new Map<string, number[]>(Object.keys(sides).map((name) => [name, []]));
  const loads: string[] = [];
  const last = new Map<string, Map<string, string>>();
  for (const run of Object.values(sides)) await run(); // warm-up
  for (let round = 0; round < rounds; round++) {
    loads.push(load());
    for (const [name, run] of Object.entries(sides)) {
      const result = await run();
      times.get(name)!.push(result.seconds);
      cpuTimes.get(name)!.push(result.cpuSeconds);
      last.set(name, result.texts);
    }
  }
  loads.push(load());
  return { times, cpuTimes, last, loads };
}

function report(
  peerName: string,
  times: Map<string, number[]>,
  cpuTimes: Map<string, number[]>,
  loads: string[],
  count: number,
): void {
  const peerMedian = median(times.get(peerName)!);
  const peerCpu = median(cpuTimes.get(peerName)!);
  console.log(`\nload average (1 min) at each round's start and the end: ${loads.join(', ')}`);
  for (const [name, values] of times) {
    const m = median(values);
    const cpu = median(cpuTimes.get(name)!);
    const ratio =
      name === peerName ? '' : `   ${(peerMedian / m).toFixed(2)}x wall, ${(peerCpu / cpu).toFixed(2)}x CPU`;
    console.log(
      `  ${name.padEnd(24)} ${(count / m).toFixed(3).padStart(7)} files/s   median ${m.toFixed(2)} s (${values.map((v) => v.toFixed(2)).join(', ')}), CPU ${cpu.toFixed(2)} s${ratio}`,
    );
  }
}

async function sideBySide(
  transformers: Transformers,
  viewRoot: string,
  files: string[],
  threads: number,
  rounds: number,
): Promise<void> {
  const sessionOptions: Record<string, unknown> = { intraOpNumThreads: threads, interOpNumThreads: 1 };
  if (process.env.ROTE_BENCH_PEER_NO_SPIN === '1')
    sessionOptions.extra = { session: { intra_op: { allow_spinning: '0' } } };
  const peer = await transformers.pipeline('automatic-speech-recognition', 'peer', {
    local_files_only: true,
    device: 'cpu',
    dtype: 'fp32',
    session_options: sessionOptions,
  });
  const split = await loadModel(OPTIMUM, { provider: 'cpu', threads });
  const merged = await loadModel(view(viewRoot, 'merged', 'merged'), { provider: 'cpu', threads });
  const items = files.map((path, i) => ({ id: String(i), path }));
  const peerRun = async (): Promise<Timed> => {
    const texts = new Map<string, string>();
    const started = clocks();
    for (const path of files)
      texts.set(path, (await peer(readWavSync(path).samples, { language: 'en', task: 'transcribe' })).text);
    return { ...since(started), texts };
  };
  const sides = {
    'transformers.js': peerRun,
    'rote (split)': () => roteRun(split, items),
    'rote (merged)': () => roteRun(merged, items),
  };
  const { times, cpuTimes, last, loads } = await alternate(sides, rounds);
  await split.close();
  await merged.close();
  await peer.dispose();
  report('transformers.js', times, cpuTimes, loads, files.length);
  const peerTexts = last.get('transformers.js')!;
  for (const name of ['rote (split)', 'rote (merged)']) {
    const texts = last.get(name)!;
    const raw = files.filter((f) => texts.get(f) === peerTexts.get(f)).length;
    const trimmed = files.filter((f) => texts.get(f) === peerTexts.get(f)!.trim()).length;
    console.log(
      `  ${name} vs transformers.js: same transcript ${raw}/${files.length}; after trimming the peer's leading space: ${trimmed}/${files.length}`,
    );
    const differing = files.find((f) => texts.get(f) !== peerTexts.get(f)!.trim());
    if (differing)
      console.log(
        `    e.g. ${basename(differing)}: rote "${texts.get(differing)}"\n    transformers.js "${peerTexts.get(differing)}"`,
      );
  }
  const tokens = [...last.get('rote (split)')!.values()].map((t) => t.split(' ').length);
  console.log(`  words per transcript: ${Math.min(...tokens)}..${Math.max(...tokens)}, median ${median(tokens)}`);
}

/**
 * rote vs sherpa-onnx-node on the sherpa-onnx export of the same weights. sherpa-onnx runs Whisper its own way
 * (features of the audio alone plus 1000 zero frames, not a 30 s window; nothing suppressed; at most 6 tokens per
 * second of audio), which rote reproduces with `sherpaCompatible` (then one file per batch: padding would change
 * the encoder's input). rote's default (openai/whisper's rules on the Optimum files, batched) is listed too: it
 * computes a different thing (a 30 s window) and its transcripts are not compared.
 */
async function sherpaSideBySide(files: string[], threads: number, rounds: number): Promise<void> {
  const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as Sherpa;
  const recognizer = new sherpa.OfflineRecognizer({
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: {
      whisper: {
        encoder: join(SHERPA, 'tiny-encoder.onnx'),
        decoder: join(SHERPA, 'tiny-decoder.onnx'),
        language: 'en',
        task: 'transcribe',
      },
      tokens: join(SHERPA, 'tiny-tokens.txt'),
      numThreads: threads,
      provider: 'cpu',
      debug: 0,
    },
    decodingMethod: 'greedy_search',
  });
  const compatible = await loadModel(SHERPA, { provider: 'cpu', threads, sherpaCompatible: true });
  const openai = await loadModel(OPTIMUM, { provider: 'cpu', threads });
  const items = files.map((path, i) => ({ id: String(i), path }));
  const sherpaRun = async (): Promise<Timed> => {
    const texts = new Map<string, string>();
    const started = clocks();
    for (const path of files) {
      const wave = sherpa.readWave(path);
      const stream = recognizer.createStream();
      stream.acceptWaveform({ samples: wave.samples, sampleRate: wave.sampleRate });
      recognizer.decode(stream);
      texts.set(path, recognizer.getResult(stream).text);
    }
    return { ...since(started), texts };
  };
  const sides = {
    'sherpa-onnx-node': sherpaRun,
    'rote (sherpa-compatible)': () => roteRun(compatible, items),
    'rote (default, Optimum)': () => roteRun(openai, items),
  };
  const { times, cpuTimes, last, loads } = await alternate(sides, rounds);
  await compatible.close();
  await openai.close();
  report('sherpa-onnx-node', times, cpuTimes, loads, files.length);
  const theirs = last.get('sherpa-onnx-node')!;
  const ours = last.get('rote (sherpa-compatible)')!;
  const same = files.filter((f) => ours.get(f) === theirs.get(f)!.trim()).length;
  console.log(
    `  rote (sherpa-compatible) vs sherpa-onnx-node: same transcript ${same}/${files.length} (after trimming sherpa-onnx's trailing space); distinct transcripts: ${new Set(ours.values()).size}`,
  );
  const differing = files.find((f) => ours.get(f) !== theirs.get(f)!.trim());
  if (differing)
    console.log(
      `    e.g. ${basename(differing)}: rote "${ours.get(differing)}"\n    sherpa-onnx "${theirs.get(differing)}"`,
    );
}

/** Where rote's time goes, and the teacher-forced score's cost next to one greedy decode. */
async function scoreCost(files: string[], threads: number, rounds: number): Promise<void> {
  const { utterances } = JSON.parse(readFileSync(join(SPEECH, 'texts.json'), 'utf8')) as {
    utterances: { id: string; text: string }[];
  };
  const text = new Map(utterances.map((u) => [u.id, u.text]));
  const items = files.map((path, i) => ({ id: String(i), path }));
  const scored = items.map((item) => ({ ...item, reference: text.get(basename(item.path).replace(/-x.*$/, ''))! }));
  const model = await loadModel(OPTIMUM, { provider: 'cpu', threads });
  countRunsByPart();
  const byPart = async (withScore: boolean): Promise<Record<string, number>> => {
    parts.clear();
    const started = performance.now();
    let scores = 0;
    for await (const row of transcribeFiles(model, withScore ? scored : items)) if (row.referenceScore) scores++;
    if (withScore && scores !== files.length) throw new Error(`only ${scores}/${files.length} rows were scored`);
    const out: Record<string, number> = { wall: (performance.now() - started) / 1000 };
    for (const [part, { ms }] of parts) out[part] = ms / 1000;
    return out;
  };
  await byPart(true); // warm-up
  const greedy: Record<string, number>[] = [];
  const withScore: Record<string, number>[] = [];
  const loads: string[] = [];
  for (let round = 0; round < rounds; round++) {
    loads.push(load());
    greedy.push(await byPart(false));
    withScore.push(await byPart(true));
  }
  loads.push(load());
  await model.close();
  const per = (rows: Record<string, number>[], key: string): number =>
    (1000 * median(rows.map((r) => r[key] ?? 0))) / files.length;
  console.log(`\nrote (split decoders, default batching) per file, medians of ${rounds}; load ${loads.join(', ')}`);
  for (const key of ['wall', 'encoder', 'decoder full pass', 'decoder steps'])
    console.log(
      `  ${key.padEnd(18)} ${per(greedy, key).toFixed(1).padStart(7)} ms transcribing   ${per(withScore, key).toFixed(1).padStart(7)} ms with the decoder score`,
    );
  const greedyDecode = per(greedy, 'decoder full pass') + per(greedy, 'decoder steps');
  const score = per(withScore, 'decoder full pass') - per(greedy, 'decoder full pass');
  console.log(
    `  one greedy decode (first pass + cached steps): ${greedyDecode.toFixed(1)} ms/file; the teacher-forced score (what it adds to the full pass): ${score.toFixed(1)} ms/file = ${((100 * score) / greedyDecode).toFixed(0)}% of it; wall ${(per(withScore, 'wall') - per(greedy, 'wall')).toFixed(1)} ms/file more`,
  );
}

/**
 * rote alone by budget: every budget once as a warm-up (ONNX Runtime's arena grows on the first
 * batch of a new size), then `rounds` rounds over all budgets in turn; medians.
 */
async function batchSweep(files: string[], threads: number, budgets: number[], rounds: number): Promise<void> {
  const model = await loadModel(OPTIMUM, { provider: 'cpu', threads });
  const items = files.map((path, i) => ({ id: String(i), path }));
  const sides = Object.fromEntries(budgets.map((budget) => [String(budget), () => roteRun(model, items, budget)]));
  const { times, cpuTimes, loads } = await alternate(sides, rounds);
  await model.close();
  console.log(`\nrote (split) by --batch-frames (3000 frames = one Whisper window); load ${loads.join(', ')}`);
  for (const budget of budgets) {
    const wall = median(times.get(String(budget))!);
    console.log(
      `  ${String(budget).padStart(6)}: ${(files.length / wall).toFixed(3)} files/s (median ${wall.toFixed(2)} s, CPU ${median(cpuTimes.get(String(budget))!).toFixed(2)} s)`,
    );
  }
  console.log(`  rss after the sweep (peak so far): ${(process.memoryUsage().rss / 1e9).toFixed(2)} GB`);
}

export async function run(): Promise<void> {
  const peer = await loadTransformersPeer<Transformers>('whisper');
  if (!peer) return;
  if (!buildModel()) return;
  const threads = Number(process.env.ROTE_BENCH_THREADS ?? 2);
  const rounds = Number(process.env.ROTE_BENCH_ROUNDS ?? 3);
  const files = (await benchFiles()).slice(0, Number(process.env.ROTE_BENCH_FILES ?? 12));
  const { transformers, version: peerVersion } = peer;
  console.log(
    `model: random-weight Whisper of whisper-tiny's size (d_model 384, 4+4 layers, 6 heads, vocabulary 51865, 80 mels), ${OPTIMUM}`,
  );
  console.log(
    `files: ${files.length}; threads: ${threads} (both); machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); ` +
      `peer: @huggingface/transformers ${peerVersion}, ORT intra-op threads ${process.env.ROTE_BENCH_PEER_NO_SPIN === '1' ? 'not spinning (as rote)' : 'spinning (ORT default)'}; ${rounds} alternated rounds after a warm-up, medians`,
  );
  const viewRoot = mkdtempSync(join(tmpdir(), 'rote-bench-whisper-view-'));
  try {
    transformers.env.allowRemoteModels = false;
    transformers.env.localModelPath = viewRoot;
    view(viewRoot, 'peer', 'peer');
    await sideBySide(transformers, viewRoot, files, threads, rounds);
  } finally {
    rmSync(viewRoot, { recursive: true, force: true });
  }
  await sherpaSideBySide(files, threads, rounds);
  await scoreCost(files, threads, rounds);
  const budgets = process.env.ROTE_BENCH_BATCH_FRAMES?.split(',').map(Number);
  if (budgets?.length) await batchSweep(files, threads, budgets, rounds);
}
