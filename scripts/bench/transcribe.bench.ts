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
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resample } from '../../src/audio/index.ts';
import { loadModel, sessionRunTime, transcribeFiles } from '../../src/asr/index.ts';
import { encodeWav16, readWav } from '../../src/util/wav.ts';

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
  if (existsSync(join(dir, 'model.onnx'))) return { dir, description: 'random-weight NeMo CTC Conformer, d_model 256, 6 blocks (bench-nemo-ctc)' };
  try {
    execFileSync('/usr/bin/python3', [join(ROOT, 'scripts', 'models', 'make_test_models.py'), '--only-bench', '--out', CACHE, '--speech', SPEECH], { stdio: 'ignore' });
    return { dir, description: 'random-weight NeMo CTC Conformer, d_model 256, 6 blocks (bench-nemo-ctc)' };
  } catch {
    return { dir: join(ROOT, 'test', 'fixtures', 'models', 'nemo-ctc'), description: 'tiny committed test model (no /usr/bin/python3 with torch to build the bench model)' };
  }
}

async function benchFiles(): Promise<string[]> {
  const dir = join(CACHE, 'audio');
  mkdirSync(dir, { recursive: true });
  const { utterances } = JSON.parse(readFileSync(join(SPEECH, 'texts.json'), 'utf8')) as { utterances: { id: string; file: string }[] };
  const files: string[] = [];
  for (const u of utterances) {
    const audio = await readWav(join(SPEECH, u.file));
    for (const speed of SPEEDS) {
      const path = join(dir, `${u.id}-x${speed}.wav`);
      if (!existsSync(path)) writeFileSync(path, encodeWav16(speed === 1 ? audio.samples : resample(audio.samples, Math.round(16000 * speed), 16000), 16000));
      files.push(path);
    }
  }
  return files;
}

export async function run(): Promise<void> {
  const threads = Number(process.env.ROTE_BENCH_THREADS ?? 2);
  const model = benchModel();
  const files = await benchFiles();
  let audioSec = 0;
  for (const f of files) {
    const w = await readWav(f);
    audioSec += w.samples.length / w.sampleRate;
  }
  console.log(`model: ${model.description}`);
  console.log(`files: ${files.length} utterances, ${audioSec.toFixed(1)} s of audio; threads: ${threads}; machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);

  const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as Sherpa;
  const recognizer = new sherpa.OfflineRecognizer({
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: { nemoCtc: { model: join(model.dir, 'model.onnx') }, tokens: join(model.dir, 'tokens.txt'), numThreads: threads, provider: 'cpu', debug: 0 },
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
    for await (const row of transcribeFiles(rote, files.map((path, i) => ({ id: String(i), path })))) texts.set(row.path, row.hypothesis);
    return { seconds: (performance.now() - started) / 1000, runSeconds: sessionRunTime(rote).seconds - before, texts };
  };

  // warm-up, then alternate the two twice and keep each one's best
  sherpaRun();
  await roteRun();
  const sherpaTimes: number[] = [];
  const roteTimes: { seconds: number; runSeconds: number }[] = [];
  let agreement = 0;
  for (let round = 0; round < 2; round++) {
    const s = sherpaRun();
    const r = await roteRun();
    sherpaTimes.push(s.seconds);
    roteTimes.push(r);
    agreement = files.filter((f) => s.texts.get(f) === r.texts.get(f)).length / files.length;
  }
  await rote.close();
  const sherpaBest = Math.min(...sherpaTimes);
  const roteBest = roteTimes.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const row = (name: string, seconds: number, extra = ''): string =>
    `${name.padEnd(18)} ${(files.length / seconds).toFixed(1).padStart(8)} utt/s   RTFx ${(audioSec / seconds).toFixed(1).padStart(7)}   ${seconds.toFixed(2)} s${extra}`;
  console.log(row('sherpa-onnx-node', sherpaBest));
  console.log(row('rote (batched)', roteBest.seconds, `   (${((100 * roteBest.runSeconds) / roteBest.seconds).toFixed(0)}% in session.run)`));
  console.log(`ratio rote / sherpa: ${(sherpaBest / roteBest.seconds).toFixed(2)}x   identical transcripts: ${(100 * agreement).toFixed(1)}%`);
}
