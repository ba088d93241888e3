import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFrontend } from '../../src/audio/index.ts';
import { padFeatures } from '../../src/asr/batching.ts';
import { createCtcEngine } from '../../src/asr/families/ctc-engine.ts';
import { readOnnxFile } from '../../src/asr/onnx-file.ts';
import { loadVocabulary } from '../../src/asr/vocabulary.ts';
import { protoField as f } from '../../src/util/protobuf.ts';
import { temporaryDirectory } from './helpers.ts';

/**
 * A raw-waveform CTC model as Hugging Face exports them, built here byte by byte:
 * input_values [B, T] float and attention_mask [B, T] int64 -> logits [B, T', V], one
 * Conv1d (kernel K, stride S, V output channels, no padding), so T' = floor((T - K) / S) + 1.
 */
const K = 4;
const S = 2;
const V = 5;
const WEIGHTS = Array.from({ length: V * K }, (_, i) => Math.sin(1.7 * i + 0.3) * 2);

function valueInfo(name: string, elemType: number, dims: (number | string)[]): number[] {
  const shape = dims.map((d) => f(1, typeof d === 'number' ? f(1, d) : f(2, d)));
  return f(1, name).concat(f(2, f(1, [...f(1, elemType), ...f(2, shape.flat())])));
}

function node(op: string, inputs: string[], outputs: string[], attributes: number[][] = []): number[] {
  return [...inputs.flatMap((i) => f(1, i)), ...outputs.flatMap((o) => f(2, o)), ...f(4, op), ...attributes.flat()];
}

const intsAttribute = (name: string, values: number[]): number[] =>
  f(5, [...f(1, name), ...f(20, 7), ...values.flatMap((v) => f(8, v))]);

function convCtcModel(): Uint8Array {
  const weight = new Float32Array(WEIGHTS);
  const initializers = [
    f(5, [...f(1, V), ...f(1, 1), ...f(1, K), ...f(2, 1), ...f(8, 'w'), ...f(9, new Uint8Array(weight.buffer))]),
    f(5, [...f(1, 1), ...f(2, 7), ...f(8, 'axes'), ...f(9, new Uint8Array(BigInt64Array.of(1n).buffer))]),
  ];
  const nodes = [
    f(1, node('Unsqueeze', ['input_values', 'axes'], ['x'])),
    f(1, node('Conv', ['x', 'w'], ['y'], [intsAttribute('kernel_shape', [K]), intsAttribute('strides', [S])])),
    f(1, node('Transpose', ['y'], ['logits'], [intsAttribute('perm', [0, 2, 1])])),
  ];
  const graph = [
    ...nodes.flat(),
    ...f(2, 'conv_ctc'),
    ...initializers.flat(),
    ...f(11, valueInfo('input_values', 1, ['B', 'T'])),
    ...f(11, valueInfo('attention_mask', 7, ['B', 'T'])),
    ...f(12, valueInfo('logits', 1, ['B', 'U', V])),
  ];
  return Uint8Array.from([...f(1, 8), ...f(8, [...f(1, ''), ...f(2, 13)]), ...f(7, graph)]);
}

/** What the model computes for one utterance, in plain JS: conv, then log-softmax per frame. */
function expectedLogProbs(samples: Float32Array): number[][] {
  const frames = Math.floor((samples.length - K) / S) + 1;
  return Array.from({ length: frames }, (_, t) => {
    const logits = Array.from({ length: V }, (_, v) => {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += WEIGHTS[v * K + k]! * samples[t * S + k]!;
      return sum;
    });
    const max = Math.max(...logits);
    const log = max + Math.log(logits.reduce((s, x) => s + Math.exp(x - max), 0));
    return logits.map((x) => x - log);
  });
}

test('CTC base: raw waveform [B, T] with an attention mask, logits log-softmaxed, lengths from a convolution', async () => {
  const { dir, remove } = temporaryDirectory('waveform-ctc');
  try {
    writeFileSync(join(dir, 'model.onnx'), convCtcModel());
    writeFileSync(join(dir, 'vocab.txt'), '<pad> 0\na 1\nb 2\nc 3\n| 4\n');
    const vocabulary = await loadVocabulary(join(dir, 'vocab.txt'), 0);
    const engine = await createCtcEngine(
      {
        family: 'sidecar-ctc',
        dir,
        modelFile: 'model.onnx',
        facts: await readOnnxFile(join(dir, 'model.onnx')),
        otherFiles: ['vocab.txt'],
        featuresInput: 'input_values',
        layout: 'BT',
        lengthsInput: null,
        maskInput: 'attention_mask',
        output: 'logits',
        outputIsLogProbs: false,
        frontend: { type: 'waveform', normalize: 'per_utterance' },
        vocabulary,
        subsampling: S,
        outputLengthRule: (samples) => Math.floor((samples - K) / S) + 1,
        detectedBecause: [],
      },
      { provider: 'cpu', threads: 1 },
    );
    try {
      assert.is(engine.padSensitive, undefined, 'a mask input: batches may be padded');
      assert.is(engine.info.files.length, 2);
      const frontend = createFrontend({ type: 'waveform', normalize: 'per_utterance' });
      const utterances = [20, 13].map((n, u) =>
        frontend.compute(Float32Array.from({ length: n }, (_, i) => Math.cos(0.9 * i + u))),
      );
      const batched = await engine.run(padFeatures(utterances));
      for (const [u, matrix] of utterances.entries()) {
        const expected = expectedLogProbs(matrix.data);
        assert.is(batched[u]!.outFrames, expected.length, `utterance ${u}: output frames from the conv stack`);
        const [alone] = await engine.run(padFeatures([matrix]));
        for (const output of [batched[u]!, alone!]) {
          const got = Array.from(output.logProbs!);
          assert.is(got.length, expected.length * V);
          expected
            .flat()
            .forEach((value, i) => assert.ok(Math.abs(got[i]! - value) < 1e-4, `utterance ${u} value ${i}`));
        }
        assert.equal(batched[u]!.tokenIds, alone!.tokenIds);
      }
    } finally {
      await engine.close();
    }
  } finally {
    remove();
  }
});

test.run();
