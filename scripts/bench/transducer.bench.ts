/**
 * `npm run bench transducer`: rote vs sherpa-onnx-node on the same NeMo RNNT (CPU, same
 * thread count, same files): utterances/s, RTFx, the ratio, and how many transcripts agree.
 *
 * Model: a random-weight NeMo RNNT (Conformer encoder d_model 256, 6 blocks; LSTM
 * prediction network 2 x 320) built once by scripts/models/make_test_models.py
 * --only-bench-transducer with Debian's PyTorch into the OS temp directory, in
 * sherpa-onnx's layout (decoder state batch fixed at 1, as sherpa-onnx distributes
 * them) and NeMo's own (encoder + decoder_joint, batch free). sherpa-onnx reads the
 * first; rote reads both, with --sherpa-compatible features (sherpa's NeMo transducer
 * frontend) so the transcripts can be compared. Without /usr/bin/python3 + torch it
 * falls back to the tiny committed test models and says so.
 * Files: the 40 committed espeak-ng sentences at speeds 1.0, 1.3 and 1.6.
 * sherpa-onnx decodes file by file (its Node API has no batch decode); rote batches.
 * The '+ teacher-forced score' lanes also score each sentence's text (what an audit does).
 * Environment: ROTE_BENCH_THREADS (default 2), ROTE_BENCH_ROUNDS (default 3, best of).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resample } from '../../src/audio/index.ts';
import { loadModel, transcribeFiles } from '../../src/asr/index.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SPEECH = join(ROOT, 'test', 'fixtures', 'models', 'speech');
const CACHE = join(tmpdir(), 'rote-bench-transducer');
const SPEEDS = [1.0, 1.3, 1.6];

interface Sherpa {
  OfflineRecognizer: new (config: object) => {
    createStream(): { acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void };
    decode(stream: unknown): void;
    getResult(stream: unknown): { text: string };
  };
  readWave(path: string): { samples: Float32Array; sampleRate: number };
}

function benchModels(): { sherpaDir: string; nemoDir: string; description: string } {
  const sherpaDir = join(CACHE, 'bench-sherpa-nemo-transducer');
  const nemoDir = join(CACHE, 'bench-nemo-transducer');
  const description = 'random-weight NeMo RNNT, Conformer d_model 256 x 6 blocks, LSTM 2 x 320';
  if (existsSync(join(sherpaDir, 'encoder.onnx')) && existsSync(join(nemoDir, 'encoder-model.onnx')))
    return { sherpaDir, nemoDir, description };
  try {
    execFileSync(
      '/usr/bin/python3',
      [
        join(ROOT, 'scripts', 'models', 'make_test_models.py'),
        '--only-bench-transducer',
        '--out',
        CACHE,
        '--speech',
        SPEECH,
      ],
      { stdio: 'ignore' },
    );
    return { sherpaDir, nemoDir, description };
  } catch {
    const models = join(ROOT, 'test', 'fixtures', 'models');
    return {
      sherpaDir: join(models, 'sherpa-nemo-transducer'),
      nemoDir: join(models, 'nemo-transducer'),
      description: 'tiny committed test models (no /usr/bin/python3 with torch to build the bench model)',
    };
  }
}

async function benchFiles(): Promise<{ paths: string[]; audioSec: number }> {
  const dir = join(CACHE, 'audio');
  mkdirSync(dir, { recursive: true });
  const { utterances } = JSON.parse(readFileSync(join(SPEECH, 'texts.json'), 'utf8')) as {
    utterances: { id: string; file: string }[];
  };
  const paths: string[] = [];
  let audioSec = 0;
  for (const u of utterances) {
    const audio = await readWav(join(SPEECH, u.file));
    for (const speed of SPEEDS) {
      const path = join(dir, `${u.id}-x${speed}.wav`);
      const samples = speed === 1 ? audio.samples : resample(audio.samples, Math.round(16000 * speed), 16000);
      if (!existsSync(path)) writeFileSync(path, encodeWav16(samples, 16000));
      audioSec += samples.length / 16000;
      paths.push(path);
    }
  }
  return { paths, audioSec };
}

export async function run(): Promise<void> {
  const threads = Number(process.env.ROTE_BENCH_THREADS ?? 2);
  const rounds = Number(process.env.ROTE_BENCH_ROUNDS ?? 3);
  const { sherpaDir, nemoDir, description } = benchModels();
  const { paths, audioSec } = await benchFiles();
  const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as Sherpa;
  console.log(`model: ${description}`);
  console.log(
    `files: ${paths.length} (${audioSec.toFixed(1)} s of audio); ${threads} ORT threads each; machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); best of ${rounds} alternated rounds after a warm-up`,
  );

  const recognizer = new sherpa.OfflineRecognizer({
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: {
      transducer: {
        encoder: join(sherpaDir, 'encoder.onnx'),
        decoder: join(sherpaDir, 'decoder.onnx'),
        joiner: join(sherpaDir, 'joiner.onnx'),
      },
      tokens: join(sherpaDir, 'tokens.txt'),
      numThreads: threads,
      provider: 'cpu',
      debug: 0,
    },
    decodingMethod: 'greedy_search',
  });
  const sherpaRun = (): Map<string, string> => {
    const out = new Map<string, string>();
    for (const path of paths) {
      const wave = sherpa.readWave(path);
      const stream = recognizer.createStream();
      stream.acceptWaveform({ samples: wave.samples, sampleRate: wave.sampleRate });
      recognizer.decode(stream);
      out.set(path, recognizer.getResult(stream).text);
    }
    return out;
  };
  const texts = new Map<string, string>();
  const { utterances } = JSON.parse(readFileSync(join(SPEECH, 'texts.json'), 'utf8')) as {
    utterances: { id: string; text: string }[];
  };
  for (const path of paths) texts.set(path, utterances.find((u) => path.includes(`${u.id}-x`))!.text);
  const sherpaLayout = await loadModel(sherpaDir, { provider: 'cpu', threads, sherpaCompatible: true });
  const nemoLayout = await loadModel(nemoDir, { provider: 'cpu', threads, sherpaCompatible: true });
  const roteModels = [
    { name: 'rote, sherpa-onnx layout (prediction network row by row)', model: sherpaLayout, score: false },
    { name: 'rote, NeMo layout (decoder_joint, batched)', model: nemoLayout, score: false },
    { name: 'rote, sherpa-onnx layout + teacher-forced score', model: sherpaLayout, score: true },
    { name: 'rote, NeMo layout + teacher-forced score', model: nemoLayout, score: true },
  ];
  const roteRun = async (model: typeof nemoLayout, score: boolean): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    const items = paths.map((path, i) => ({ id: String(i), path, ...(score ? { reference: texts.get(path)! } : {}) }));
    for await (const row of transcribeFiles(model, items, { featureWorkers: 0 })) out.set(row.path, row.hypothesis);
    return out;
  };

  const best = new Map<string, number>();
  const transcripts = new Map<string, Map<string, string>>();
  const time = async (
    name: string,
    work: () => Promise<Map<string, string>> | Map<string, string>,
    record: boolean,
  ): Promise<void> => {
    const started = performance.now();
    const out = await work();
    const wall = (performance.now() - started) / 1000;
    transcripts.set(name, out);
    if (record) best.set(name, Math.min(best.get(name) ?? Infinity, wall));
  };
  for (let round = 0; round <= rounds; round++) {
    await time('sherpa-onnx-node 1.13.8 (file by file)', sherpaRun, round > 0);
    for (const r of roteModels) await time(r.name, () => roteRun(r.model, r.score), round > 0);
  }
  await sherpaLayout.close();
  await nemoLayout.close();

  const sherpaName = 'sherpa-onnx-node 1.13.8 (file by file)';
  const sherpaWall = best.get(sherpaName)!;
  const theirs = transcripts.get(sherpaName)!;
  for (const [name, wall] of best) {
    const ours = transcripts.get(name)!;
    const same = paths.filter((p) => ours.get(p) === theirs.get(p)).length;
    console.log(
      `  ${name.padEnd(60)} ${(paths.length / wall).toFixed(1).padStart(7)} utt/s  RTFx ${(audioSec / wall).toFixed(1).padStart(6)}  ` +
        `wall ${wall.toFixed(2)} s  ${name === sherpaName ? '' : `${(sherpaWall / wall).toFixed(2)}x sherpa  transcripts equal to sherpa: ${same}/${paths.length}`}`,
    );
  }
}
