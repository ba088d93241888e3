/**
 * rote vs sherpa-onnx-node on the same model and the same files: identical greedy
 * transcripts on >= 99% of the utterances.
 *
 * Choice of model: the NeMo CTC model, compared with rote's sherpa-compatible
 * variant (`sherpaCompatible`: sherpa-onnx's own NeMo frontend, 'sherpa-nemo-mel',
 * and its floor(T / 4) output frames). That is the family the audit scores (CTC
 * forced score) and the harder case: sherpa-onnx does not compute NeMo's
 * features, so the default (NeMo-exact) frontend is not expected to match it.
 * The transducer (kaldi fbank in both) is compared too, and the NeMo RNNT in
 * sherpa-onnx's layout (sherpa-compatible: sherpa's NeMo transducer frontend, which
 * keeps the povey window and the 7600 Hz upper mel edge of its feature defaults). Utterances: the 40
 * committed espeak-ng sentences as they are and sped up 1.6x (as canaries are).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resample } from '../../src/audio/index.ts';
import { loadModel, transcribeFiles } from '../../src/asr/index.ts';
import { encodeWav16, readWav } from '../../src/audio/wav.ts';
import { MODELS, speechFixtures, temporaryDirectory } from './helpers.ts';
import { sherpaResults } from './sherpa-peer.ts';

function sherpaTranscripts(modelConfig: object, paths: string[]): Map<string, string> {
  return new Map([...sherpaResults(modelConfig, paths)].map(([path, result]) => [path, result.text]));
}

async function roteTranscripts(dir: string, paths: string[]): Promise<Map<string, string>> {
  const model = await loadModel(dir, { provider: 'cpu', threads: 1, sherpaCompatible: true });
  const result = new Map<string, string>();
  for await (const row of transcribeFiles(
    model,
    paths.map((path, i) => ({ id: String(i), path })),
  ))
    result.set(row.path, row.hypothesis);
  await model.close();
  return result;
}

function agreement(ours: Map<string, string>, theirs: Map<string, string>): { share: number; differences: string[] } {
  const differences = [...theirs]
    .filter(([path, text]) => ours.get(path) !== text)
    .map(([path, text]) => `${path}: rote ${JSON.stringify(ours.get(path))} vs sherpa ${JSON.stringify(text)}`);
  return { share: 1 - differences.length / theirs.size, differences };
}

const work = temporaryDirectory('parity');
const paths: string[] = [];

test.before(async () => {
  for (const s of speechFixtures()) {
    paths.push(s.path);
    const audio = await readWav(s.path);
    const fast = join(work.dir, `${s.id}-x1.6.wav`);
    writeFileSync(fast, encodeWav16(resample(audio.samples, Math.round(16000 * 1.6), 16000), 16000));
    paths.push(fast);
  }
});

test.after(() => work.remove());

test('NeMo CTC: rote (sherpa-compatible frontend) and sherpa-onnx agree on >= 99% of transcripts', async () => {
  const dir = join(MODELS, 'nemo-ctc');
  const theirs = sherpaTranscripts(
    { nemoCtc: { model: join(dir, 'model.onnx') }, tokens: join(dir, 'tokens.txt') },
    paths,
  );
  const ours = await roteTranscripts(dir, paths);
  const { share, differences } = agreement(ours, theirs);
  assert.ok(new Set(theirs.values()).size > paths.length / 2, 'transcripts differ between utterances');
  assert.ok(share >= 0.99, `agreement ${(100 * share).toFixed(1)}% of ${paths.length}:\n${differences.join('\n')}`);
});

test('transducer (kaldi fbank in both): agree on >= 99% of transcripts', async () => {
  const dir = join(MODELS, 'transducer');
  const theirs = sherpaTranscripts(
    {
      transducer: {
        encoder: join(dir, 'encoder.onnx'),
        decoder: join(dir, 'decoder.onnx'),
        joiner: join(dir, 'joiner.onnx'),
      },
      tokens: join(dir, 'tokens.txt'),
    },
    paths,
  );
  const ours = await roteTranscripts(dir, paths);
  const { share, differences } = agreement(ours, theirs);
  assert.ok(share >= 0.99, `agreement ${(100 * share).toFixed(1)}% of ${paths.length}:\n${differences.join('\n')}`);
});

test("NeMo transducer, sherpa-onnx layout (rote sherpa-compatible: sherpa's NeMo transducer frontend): agree on >= 99% of transcripts", async () => {
  const dir = join(MODELS, 'sherpa-nemo-transducer');
  const theirs = sherpaTranscripts(
    {
      transducer: {
        encoder: join(dir, 'encoder.onnx'),
        decoder: join(dir, 'decoder.onnx'),
        joiner: join(dir, 'joiner.onnx'),
      },
      tokens: join(dir, 'tokens.txt'),
    },
    paths,
  );
  const ours = await roteTranscripts(dir, paths);
  const { share, differences } = agreement(ours, theirs);
  assert.ok(new Set(theirs.values()).size > paths.length / 2, 'transcripts differ between utterances');
  assert.ok(share >= 0.99, `agreement ${(100 * share).toFixed(1)}% of ${paths.length}:\n${differences.join('\n')}`);
});

test.run();
