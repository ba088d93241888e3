/**
 * `npm run bench transcribe`: rote vs sherpa-onnx-node on the same NeMo CTC model,
 * the same thread count and the same files, side by side: utterances/s, RTFx, ratio.
 *
 * Model: a larger random-weight NeMo CTC Conformer (d_model 256, 6 blocks, sherpa-onnx
 * metadata) built once by scripts/models/make_test_models.py --only-bench with Debian's
 * PyTorch into the OS temp directory; without /usr/bin/python3 + torch it falls back
 * to the tiny committed test model (then feature extraction dominates) and says so.
 * Files: the 40 committed espeak-ng sentences at speeds 1.0, 1.3 and 1.6 (sped up by
 * resampling, as canaries are), written once as 16-bit WAVs.
 * rote runs with its sherpa-compatible frontend (what sherpa computes) and default
 * batching; sherpa-onnx decodes file by file (its Node API has no batch decode).
 * Both read the WAV files themselves. Environment: ROTE_BENCH_THREADS (default 2).
 *
 * `ROTE_BENCH_TRANSCRIBE=workers npm run bench transcribe`: the feature-worker mode
 * instead (runWorkers below): where the time goes (features vs session.run per
 * utterance) and throughput with 0, 1, 2 feature workers, on the tiny test model,
 * models/baseline (if present) and a fake-fast model (one Slice node: the speed a
 * GPU would leave to the feature side), on the demo canaries (canaries/demo).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resample } from '../../src/audio/index.ts';
import {
  loadModel,
  sessionRunTime,
  transcribeFiles,
  type TranscribeItem,
  type TranscribeStats,
} from '../../src/asr/index.ts';
import { extractFeatures } from '../../src/asr/feature-extract.ts';
import { FeaturePool } from '../../src/asr/feature-pool.ts';
import { createFrontend } from '../../src/audio/index.ts';
import { readCanarySetItems } from '../../src/asr/transcribe-file.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SPEECH = join(ROOT, 'test', 'fixtures', 'models', 'speech');
const CACHE = join(tmpdir(), 'rote-bench-transcribe');
const SPEEDS = [1.0, 1.3, 1.6];

interface Sherpa {
  OfflineRecognizer: new (config: object) => {
    createStream(): { acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void };
    decode(stream: unknown): void;
    getResult(stream: unknown): { text: string };
  };
  readWave(path: string): { samples: Float32Array; sampleRate: number };
}

function benchModel(): { dir: string; description: string } {
  const dir = join(CACHE, 'bench-nemo-ctc');
  if (existsSync(join(dir, 'model.onnx')))
    return { dir, description: 'random-weight NeMo CTC Conformer, d_model 256, 6 blocks (bench-nemo-ctc)' };
  try {
    execFileSync(
      '/usr/bin/python3',
      [join(ROOT, 'scripts', 'models', 'make_test_models.py'), '--only-bench', '--out', CACHE, '--speech', SPEECH],
      { stdio: 'ignore' },
    );
    return { dir, description: 'random-weight NeMo CTC Conformer, d_model 256, 6 blocks (bench-nemo-ctc)' };
  } catch {
    return {
      dir: join(ROOT, 'test', 'fixtures', 'models', 'nemo-ctc'),
      description: 'tiny committed test model (no /usr/bin/python3 with torch to build the bench model)',
    };
  }
}

/** The 40 committed sentences at speeds 1.0, 1.3 and 1.6 as 16-bit WAVs (written once); also hf-ctc.bench.ts's files. */
export async function benchFiles(): Promise<string[]> {
  const dir = join(CACHE, 'audio');
  mkdirSync(dir, { recursive: true });
  const { utterances } = JSON.parse(readFileSync(join(SPEECH, 'texts.json'), 'utf8')) as {
    utterances: { id: string; file: string }[];
  };
  const files: string[] = [];
  for (const u of utterances) {
    const audio = await readWav(join(SPEECH, u.file));
    for (const speed of SPEEDS) {
      const path = join(dir, `${u.id}-x${speed}.wav`);
      if (!existsSync(path))
        writeFileSync(
          path,
          encodeWav16(speed === 1 ? audio.samples : resample(audio.samples, Math.round(16000 * speed), 16000), 16000),
        );
      files.push(path);
    }
  }
  return files;
}

/**
 * A CTC model that costs next to nothing: log_probs = feats[:, :, :V] (no subsampling),
 * NeMo mel features, the committed test vocabulary. Built once with Debian's python3-onnx.
 */
function fakeFastModel(): string {
  const dir = join(CACHE, 'fake-fast-ctc');
  if (existsSync(join(dir, 'model.onnx'))) return dir;
  mkdirSync(dir, { recursive: true });
  const chars = readFileSync(join(ROOT, 'test', 'fixtures', 'models', 'sidecar-ctc', 'chars.txt'), 'utf8');
  writeFileSync(join(dir, 'chars.txt'), chars);
  const vocab = chars.split('\n').filter((l) => l.length > 0).length;
  writeFileSync(
    join(dir, 'rote-model.json'),
    JSON.stringify({
      format: 1,
      family: 'ctc',
      model: 'model.onnx',
      inputs: { features: 'feats', lengths: 'feats_len', layout: 'BTF' },
      output: 'log_probs',
      outputIsLogProbs: false,
      frontend: { type: 'nemo-mel' },
      vocabulary: { file: 'chars.txt', kind: 'characters' },
      blankId: 0,
      subsampling: 1,
      outputLengthRule: 'floor',
    }),
  );
  const python = `
import onnx, sys
from onnx import helper, TensorProto as T
g = helper.make_graph(
  [helper.make_node('Constant', [], ['s'], value=helper.make_tensor('s', T.INT64, [1], [0])),
   helper.make_node('Constant', [], ['e'], value=helper.make_tensor('e', T.INT64, [1], [${vocab}])),
   helper.make_node('Constant', [], ['a'], value=helper.make_tensor('a', T.INT64, [1], [2])),
   helper.make_node('Slice', ['feats', 's', 'e', 'a'], ['log_probs'])],
  'fake_fast_ctc',
  [helper.make_tensor_value_info('feats', T.FLOAT, ['B', 'T', 80]), helper.make_tensor_value_info('feats_len', T.INT64, ['B'])],
  [helper.make_tensor_value_info('log_probs', T.FLOAT, ['B', 'T', ${vocab}])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
`;
  execFileSync('/usr/bin/python3', ['-c', python, join(dir, 'model.onnx')], { stdio: 'inherit' });
  return dir;
}

/** The feature-worker mode (ROTE_BENCH_TRANSCRIBE=workers). */
async function runWorkers(): Promise<void> {
  const threads = Number(process.env.ROTE_BENCH_THREADS ?? cpus().length);
  const rounds = Number(process.env.ROTE_BENCH_ROUNDS ?? 3);
  const canaryDir = join(ROOT, 'canaries', 'demo');
  const items: TranscribeItem[] = await readCanarySetItems(canaryDir);
  let audioSec = 0;
  for (const item of items) {
    const w = await readWav(item.path);
    audioSec += w.samples.length / w.sampleRate;
  }
  console.log(
    `files: ${items.length} demo canaries (${audioSec.toFixed(1)} s of audio); ORT threads ${threads}; machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); best of ${rounds} alternated rounds`,
  );

  // 1. Features alone (read + decode + NeMo mel), no model: main thread vs pools.
  const frontend = createFrontend({ type: 'nemo-mel' });
  const paths = items.map((i) => i.path);
  const featureRuns: Record<string, { wall: number; cpu: number }[]> = {};
  const pools = new Map<number, FeaturePool>();
  for (const n of [1, 2]) pools.set(n, await FeaturePool.start({ type: 'nemo-mel' }, n));
  for (let round = 0; round < rounds; round++) {
    for (const n of [0, 1, 2]) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      if (n === 0) for (const path of paths) extractFeatures(frontend, path);
      else await Promise.all(paths.map((path) => pools.get(n)!.extract(path)));
      const cpu = process.cpuUsage(cpuBefore);
      (featureRuns[n] ??= []).push({ wall: (performance.now() - started) / 1000, cpu: (cpu.user + cpu.system) / 1e6 });
    }
  }
  for (const pool of pools.values()) await pool.close();
  console.log(
    '\nfeatures alone (nemo-mel, WAV read + decode + features, pool already started; CPU = process CPU time, all threads):',
  );
  for (const n of [0, 1, 2]) {
    const best = featureRuns[n]!.reduce((a, b) => (b.wall < a.wall ? b : a));
    console.log(
      `  ${(n === 0 ? 'main thread' : `${n} worker${n > 1 ? 's' : ''}`).padEnd(11)}  ${(items.length / best.wall).toFixed(1).padStart(7)} utt/s  ` +
        `wall ${((1000 * best.wall) / items.length).toFixed(2)} ms/utt  CPU ${((1000 * best.cpu) / items.length).toFixed(2)} ms/utt`,
    );
  }

  // 2. Whole transcription per model and worker count.
  const models: { name: string; dir: string }[] = [
    { name: 'fake-fast (1 Slice node)', dir: fakeFastModel() },
    { name: 'test nemo-ctc (tiny)', dir: join(ROOT, 'test', 'fixtures', 'models', 'nemo-ctc') },
  ];
  if (existsSync(join(ROOT, 'models', 'baseline', 'model.onnx')))
    models.push({ name: 'models/baseline', dir: join(ROOT, 'models', 'baseline') });
  for (const { name, dir } of models) {
    const model = await loadModel(dir, { provider: 'cpu', threads });
    const best = new Map<number, { wall: number; run: number; stats: TranscribeStats }>();
    for (let round = 0; round <= rounds; round++) {
      for (const featureWorkers of [0, 1, 2]) {
        let stats: TranscribeStats | null = null;
        const before = sessionRunTime(model).seconds;
        const started = performance.now();
        let rows = 0;
        for await (const _row of transcribeFiles(model, items, { featureWorkers, onStats: (s) => (stats = s) })) rows++;
        const wall = (performance.now() - started) / 1000;
        if (rows !== items.length) throw new Error(`${name}: ${rows} rows for ${items.length} files`);
        if (round === 0) continue; // warm-up
        const previous = best.get(featureWorkers);
        if (!previous || wall < previous.wall)
          best.set(featureWorkers, { wall, run: sessionRunTime(model).seconds - before, stats: stats! });
      }
    }
    await model.close();
    console.log(`\n${name}:`);
    for (const [featureWorkers, r] of [...best.entries()].sort((a, b) => a[0] - b[0])) {
      console.log(
        `  workers ${featureWorkers}: ${(items.length / r.wall).toFixed(1).padStart(7)} utt/s  wall ${r.wall.toFixed(2)} s  ` +
          `features ${((1000 * r.stats.featureSec) / items.length).toFixed(2)} ms/utt  session.run ${((1000 * r.run) / items.length).toFixed(2)} ms/utt (${((100 * r.run) / r.wall).toFixed(0)}% of wall)  ` +
          `model waited for features ${r.stats.featureWaitSec.toFixed(2)} s`,
      );
    }
  }
}

export async function run(): Promise<void> {
  if (process.env.ROTE_BENCH_TRANSCRIBE === 'workers') return runWorkers();
  const threads = Number(process.env.ROTE_BENCH_THREADS ?? 2);
  const model = benchModel();
  const files = await benchFiles();
  let audioSec = 0;
  for (const f of files) {
    const w = await readWav(f);
    audioSec += w.samples.length / w.sampleRate;
  }
  console.log(`model: ${model.description}`);
  console.log(
    `files: ${files.length} utterances, ${audioSec.toFixed(1)} s of audio; threads: ${threads}; machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`,
  );

  const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as Sherpa;
  const recognizer = new sherpa.OfflineRecognizer({
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: {
      nemoCtc: { model: join(model.dir, 'model.onnx') },
      tokens: join(model.dir, 'tokens.txt'),
      numThreads: threads,
      provider: 'cpu',
      debug: 0,
    },
    decodingMethod: 'greedy_search',
  });
  const sherpaRun = (): { seconds: number; texts: Map<string, string> } => {
    const texts = new Map<string, string>();
    const started = performance.now();
    for (const path of files) {
      const wave = sherpa.readWave(path);
      const stream = recognizer.createStream();
      stream.acceptWaveform(wave);
      recognizer.decode(stream);
      texts.set(path, recognizer.getResult(stream).text);
    }
    return { seconds: (performance.now() - started) / 1000, texts };
  };

  const rote = await loadModel(model.dir, { provider: 'cpu', threads, sherpaCompatible: true });
  const roteRun = async (): Promise<{ seconds: number; runSeconds: number; texts: Map<string, string> }> => {
    const texts = new Map<string, string>();
    const before = sessionRunTime(rote).seconds;
    const started = performance.now();
    for await (const row of transcribeFiles(
      rote,
      files.map((path, i) => ({ id: String(i), path })),
    ))
      texts.set(row.path, row.hypothesis);
    return { seconds: (performance.now() - started) / 1000, runSeconds: sessionRunTime(rote).seconds - before, texts };
  };

  // warm-up, then alternate the two (ROTE_BENCH_ROUNDS, default 7) and report each one's median and best
  const rounds = Number(process.env.ROTE_BENCH_ROUNDS ?? 7);
  sherpaRun();
  await roteRun();
  const sherpaTimes: number[] = [];
  const roteTimes: { seconds: number; runSeconds: number }[] = [];
  let agreement = 0;
  for (let round = 0; round < rounds; round++) {
    const s = sherpaRun();
    const r = await roteRun();
    sherpaTimes.push(s.seconds);
    roteTimes.push(r);
    agreement = files.filter((f) => s.texts.get(f) === r.texts.get(f)).length / files.length;
  }
  await rote.close();
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  const sherpaMedian = median(sherpaTimes);
  const roteMedian = median(roteTimes.map((r) => r.seconds));
  const sherpaBest = Math.min(...sherpaTimes);
  const roteBest = roteTimes.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const runShare = median(roteTimes.map((r) => r.runSeconds / r.seconds));
  const row = (name: string, seconds: number, best: number, extra = ''): string =>
    `${name.padEnd(18)} ${(files.length / seconds).toFixed(1).padStart(8)} utt/s   RTFx ${(audioSec / seconds).toFixed(1).padStart(7)}   median ${seconds.toFixed(3)} s, best ${best.toFixed(3)} s${extra}`;
  console.log(`${rounds} alternated rounds after a warm-up:`);
  console.log(row('sherpa-onnx-node', sherpaMedian, sherpaBest));
  console.log(
    row('rote (batched)', roteMedian, roteBest.seconds, `   (${(100 * runShare).toFixed(0)}% in session.run)`),
  );
  console.log(
    `ratio rote / sherpa: ${(sherpaMedian / roteMedian).toFixed(2)}x of medians, ${(sherpaBest / roteBest.seconds).toFixed(2)}x of bests   identical transcripts: ${(100 * agreement).toFixed(1)}%`,
  );
}
