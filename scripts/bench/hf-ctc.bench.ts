/**
 * `npm run bench hf-ctc`: rote vs transformers.js (`@huggingface/transformers`, which runs
 * Optimum's files on onnxruntime-node) on the same Hugging Face CTC models and the same
 * files, in one process, rounds alternated: utterances/s, ratio, agreeing transcripts.
 *
 * The peer is ~470 MB, so it is not in package.json: `sh scripts/bench/peers/install.sh`
 * puts a pinned version into .cache/peers/ (ignored by git), with onnxruntime-node pinned to
 * the version rote uses (the same ONNX Runtime library and kernels for both). Without it
 * this bench says how to install it and returns.
 *
 * Models: the committed fixtures test/fixtures/models/hf-ctc (Optimum's export: input_values
 * only, feat_extract_norm "group") and hf-ctc-masked (a custom export with attention_mask on a
 * "layer" model), which are tiny (conv_dim 16, hidden 32, one layer: the frontend and the
 * framework dominate, not the model), and two larger random-weight models of the same two
 * kinds (conv_dim 128, hidden 256, 4 layers), built once by
 * scripts/models/make_ctc_family_models.py --only-bench-hf with Debian's PyTorch into the OS
 * temp directory (skipped, with a note, without /usr/bin/python3 + torch).
 * Files: the transcribe bench's 120 (40 espeak-ng sentences at 1.0x, 1.3x, 1.6x).
 *
 * transformers.js loads a model from `<dir>/onnx/model.onnx` and needs a `tokenizer.json`,
 * which an Optimum export of Wav2Vec2CTCTokenizer does not have: the peer gets a view of the
 * same model in a temporary folder (links to the same model.onnx and JSON files, and a
 * tokenizer.json written from vocab.json, added_tokens.json, special_tokens_map.json and
 * tokenizer_config.json: those tokens, marked special, and its CTC decoder).
 * Both read the WAVs in the timed loop (the peer through rote's WAV reader: its own needs a
 * browser's AudioContext); the peer's pipeline decodes file by file (it has no batch path for
 * CTC); rote batches where the model allows (hf-ctc-masked), and runs Optimum's export one
 * file at a time (padding would change its output).
 *
 * Environment: ROTE_BENCH_THREADS (default 2, both), ROTE_BENCH_ROUNDS (default 5),
 * ROTE_BENCH_MODELS (comma-separated names to run), ROTE_BENCH_PEER_NO_SPIN=1 (give the peer
 * rote's CPU setting, intra-op threads that do not spin; by default it keeps ONNX Runtime's).
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, sessionRunTime, transcribeFiles } from '../../src/asr/index.ts';
import { readWavSync } from '../../src/audio/wav.ts';
import { benchFiles } from './transcribe.bench.ts';
import { loadTransformersPeer } from './peers/transformers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'fixtures', 'models');
const BENCH_MODELS = join(tmpdir(), 'rote-bench-hf-ctc');

interface Transformers {
  env: { allowRemoteModels: boolean; localModelPath: string };
  pipeline(
    task: 'automatic-speech-recognition',
    model: string,
    options: object,
  ): Promise<((audio: Float32Array) => Promise<{ text: string }>) & { dispose(): Promise<void> }>;
}

interface BenchModel {
  name: string;
  dir: string;
  description: string;
}

function benchModels(): BenchModel[] {
  const models: BenchModel[] = [
    {
      name: 'hf-ctc',
      dir: join(FIXTURES, 'hf-ctc'),
      description: 'committed fixture, tiny (conv_dim 16, hidden 32, 1 layer); Optimum export, "group"',
    },
    {
      name: 'hf-ctc-masked',
      dir: join(FIXTURES, 'hf-ctc-masked'),
      description: 'committed fixture, tiny; attention_mask export, "layer"',
    },
  ];
  const larger = [
    {
      name: 'bench-hf-ctc',
      dir: join(BENCH_MODELS, 'bench-hf-ctc'),
      description: 'random weights, conv_dim 128, hidden 256, 4 layers; Optimum export, "group"',
    },
    {
      name: 'bench-hf-ctc-masked',
      dir: join(BENCH_MODELS, 'bench-hf-ctc-masked'),
      description: 'random weights, conv_dim 128, hidden 256, 4 layers; attention_mask export, "layer"',
    },
  ];
  if (!larger.every((m) => existsSync(join(m.dir, 'model.onnx')))) {
    try {
      execFileSync(
        '/usr/bin/python3',
        [
          join(ROOT, 'scripts', 'models', 'make_ctc_family_models.py'),
          '--only-bench-hf',
          '--out',
          BENCH_MODELS,
          '--speech',
          join(FIXTURES, 'speech'),
        ],
        { stdio: 'ignore' },
      );
    } catch {
      console.log('(larger models skipped: building them needs /usr/bin/python3 with torch)');
      return models;
    }
  }
  return [...models, ...larger];
}

/**
 * The folder transformers.js loads: the model's own files linked, model.onnx as onnx/model.onnx,
 * and a tokenizer.json holding the same vocabulary with its special tokens and a CTC decoder.
 */
function peerView(root: string, model: BenchModel): void {
  const view = join(root, model.name);
  mkdirSync(join(view, 'onnx'), { recursive: true });
  for (const file of readdirSync(model.dir))
    symlinkSync(join(model.dir, file), file === 'model.onnx' ? join(view, 'onnx', file) : join(view, file));
  const json = (name: string): Record<string, unknown> =>
    existsSync(join(model.dir, name))
      ? (JSON.parse(readFileSync(join(model.dir, name), 'utf8')) as Record<string, unknown>)
      : {};
  const vocab = { ...json('vocab.json'), ...json('added_tokens.json') } as Record<string, number>;
  const config = json('tokenizer_config.json');
  const specials = new Set(
    [...Object.values(json('special_tokens_map.json')), config.pad_token, config.unk_token].filter(
      (t): t is string => typeof t === 'string',
    ),
  );
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(vocab)
      .filter(([token]) => specials.has(token))
      .sort((a, b) => a[1] - b[1])
      .map(([content, id]) => ({
        id,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: {
      type: 'CTC',
      pad_token: config.pad_token,
      word_delimiter_token: config.word_delimiter_token ?? '|',
      cleanup: true,
    },
    model: { vocab },
  };
  writeFileSync(join(view, 'tokenizer.json'), JSON.stringify(tokenizer));
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Runs of one letter merged: what remains equal when the only difference is a repeat kept apart by a blank. */
const collapseRepeats = (text: string): string => text.replace(/(.)\1+/g, '$1');

async function benchOne(
  transformers: Transformers,
  viewRoot: string,
  model: BenchModel,
  files: string[],
  threads: number,
  rounds: number,
): Promise<void> {
  const peerOptions: Record<string, unknown> = { intraOpNumThreads: threads, interOpNumThreads: 1 };
  if (process.env.ROTE_BENCH_PEER_NO_SPIN === '1')
    peerOptions.extra = { session: { intra_op: { allow_spinning: '0' } } };
  const peer = await transformers.pipeline('automatic-speech-recognition', model.name, {
    local_files_only: true,
    device: 'cpu',
    dtype: 'fp32',
    session_options: peerOptions,
  });
  const rote = await loadModel(model.dir, { provider: 'cpu', threads });
  const peerRun = async (): Promise<{ seconds: number; texts: string[] }> => {
    const texts: string[] = [];
    const started = performance.now();
    for (const path of files) texts.push((await peer(readWavSync(path).samples)).text);
    return { seconds: (performance.now() - started) / 1000, texts };
  };
  const roteRun = async (): Promise<{ seconds: number; runSeconds: number; texts: string[] }> => {
    const texts = new Map<string, string>();
    const before = sessionRunTime(rote).seconds;
    const started = performance.now();
    for await (const row of transcribeFiles(
      rote,
      files.map((path, i) => ({ id: String(i), path })),
    ))
      texts.set(row.path, row.hypothesis);
    const seconds = (performance.now() - started) / 1000;
    return { seconds, runSeconds: sessionRunTime(rote).seconds - before, texts: files.map((f) => texts.get(f)!) };
  };

  await peerRun(); // warm-up
  await roteRun();
  const peerTimes: number[] = [];
  const roteTimes: { seconds: number; runSeconds: number }[] = [];
  let last = { peer: [] as string[], rote: [] as string[] };
  for (let round = 0; round < rounds; round++) {
    const p = await peerRun();
    const r = await roteRun();
    peerTimes.push(p.seconds);
    roteTimes.push(r);
    last = { peer: p.texts, rote: r.texts };
  }
  await rote.close();
  await peer.dispose();

  const raw = files.filter((_, i) => last.peer[i] === last.rote[i]).length;
  const collapsed = files.filter((_, i) => collapseRepeats(last.peer[i]!) === collapseRepeats(last.rote[i]!)).length;
  const peerMedian = median(peerTimes);
  const roteMedian = median(roteTimes.map((r) => r.seconds));
  const peerBest = Math.min(...peerTimes);
  const roteBest = Math.min(...roteTimes.map((r) => r.seconds));
  const runShare = median(roteTimes.map((r) => r.runSeconds / r.seconds));
  const row = (name: string, seconds: number, best: number, extra = ''): string =>
    `  ${name.padEnd(16)} ${(files.length / seconds).toFixed(1).padStart(7)} utt/s   median ${seconds.toFixed(3)} s, best ${best.toFixed(3)} s${extra}`;
  console.log(`\n${model.name}: ${model.description}`);
  console.log(row('transformers.js', peerMedian, peerBest));
  console.log(row('rote', roteMedian, roteBest, `   (${(100 * runShare).toFixed(0)}% in session.run)`));
  console.log(
    `  ratio rote / transformers.js: ${(peerMedian / roteMedian).toFixed(2)}x of medians, ${(peerBest / roteBest).toFixed(2)}x of bests` +
      `   same transcript: ${raw}/${files.length}; after merging repeated letters: ${collapsed}/${files.length}`,
  );
  const differing = files.findIndex((_, i) => last.peer[i] !== last.rote[i]);
  if (differing >= 0)
    console.log(
      `  e.g. file ${differing}: rote "${last.rote[differing]}"\n                  transformers.js "${last.peer[differing]}"`,
    );
}

export async function run(): Promise<void> {
  const peer = await loadTransformersPeer<Transformers>('hf-ctc');
  if (!peer) return;
  const threads = Number(process.env.ROTE_BENCH_THREADS ?? 2);
  const rounds = Number(process.env.ROTE_BENCH_ROUNDS ?? 5);
  const wanted = process.env.ROTE_BENCH_MODELS?.split(',');
  const models = benchModels().filter((m) => !wanted || wanted.includes(m.name));
  const files = await benchFiles();
  const audioSec = files.reduce((sum, f) => {
    const w = readWavSync(f);
    return sum + w.samples.length / w.sampleRate;
  }, 0);
  const { transformers, version: peerVersion } = peer;
  console.log(
    `files: ${files.length} utterances, ${audioSec.toFixed(1)} s of audio; threads: ${threads} (both); machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`,
  );
  console.log(
    `peer: @huggingface/transformers ${peerVersion}, ORT intra-op threads ${process.env.ROTE_BENCH_PEER_NO_SPIN === '1' ? 'not spinning (as rote)' : 'spinning (ORT default)'}; ${rounds} alternated rounds after a warm-up, medians`,
  );
  const viewRoot = mkdtempSync(join(tmpdir(), 'rote-bench-peer-view-'));
  try {
    transformers.env.allowRemoteModels = false;
    transformers.env.localModelPath = viewRoot;
    for (const model of models) {
      peerView(viewRoot, model);
      await benchOne(transformers, viewRoot, model, files, threads, rounds);
    }
  } finally {
    rmSync(viewRoot, { recursive: true, force: true });
  }
}
