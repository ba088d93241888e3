/**
 * A WeNet model as WeNet's own wenet/bin/export_onnx_cpu.py writes it: encoder.onnx
 * (encoder.forward_chunk: chunk [1, T, bins], offset, att_cache, cnn_cache [+
 * required_cache_size, att_mask in the streaming modes] -> output, r_att_cache, r_cnn_cache;
 * the export arguments as metadata: output_size, num_blocks, head, cnn_module_kernel,
 * feature_size, subsampling_rate, chunk_size, left_chunks, ...), ctc.onnx (hidden ->
 * probs, log-softmax) and units.txt (<blank> 0, ..., <sos/eos> last). decoder.onnx (attention
 * rescoring) may sit beside them; CTC decoding does not use it.
 *
 * Decoding follows WeNet's runtime for the export's chunk_size: the whole utterance as one
 * chunk when chunk_size <= 0 (as decoding_chunk_size -1), else chunk by chunk with the
 * attention and convolution caches (all left context when left_chunks <= 0); one utterance at a time (the
 * export's batch is 1); with left_chunks > 0 (the 16/4 mode) the attention cache keeps
 * chunk_size * left_chunks frames and att_mask hides its initial zeros, as WeNet's runtime.
 * Features: WeNet's compute_fbank (samples x 32768, torchaudio kaldi.fbank defaults).
 */
import { join } from 'node:path';
import { WENET_FBANK } from '../../audio/index.ts';
import { RoteError } from '../../util/errors.ts';
import { ctcGreedy } from '../ctc.ts';
import { floatOutput, openEngine, ort, type EngineSessions } from '../engine.ts';
import type { OnnxFileFacts } from '../onnx-file.ts';
import { loadVocabulary } from '../vocabulary.ts';
import { hasInputs, hasOutputs, SIDECAR_NAME } from './common.ts';
import type { DirectoryFacts, Detection, FamilyDefinition, FeatureBatch, UtteranceOutput } from './types.ts';

const ENCODER = 'encoder.onnx';
const CTC = 'ctc.onnx';
const UNITS = 'units.txt';

function isEncoder(f: OnnxFileFacts | undefined): boolean {
  return (
    !!f && hasInputs(f, ['chunk', 'att_cache', 'cnn_cache']) && hasOutputs(f, ['output', 'r_att_cache', 'r_cnn_cache'])
  );
}

function isCtc(f: OnnxFileFacts | undefined): boolean {
  return !!f && hasInputs(f, ['hidden']) && hasOutputs(f, ['probs']);
}

function integerMetadata(f: OnnxFileFacts, key: string): number {
  const raw = f.metadata[key];
  if (raw === undefined || !/^-?\d+$/.test(raw.trim()))
    throw new RoteError(
      `${f.path}: metadata ${key}="${raw ?? ''}" is not an integer; export_onnx_cpu.py writes it (re-export, or add it with onnx in Python)`,
    );
  return Number(raw);
}

/** What the export arguments (encoder.onnx metadata) say about the encoder and its decoding. */
interface EncoderShape {
  blocks: number;
  heads: number;
  outputSize: number;
  kernel: number;
  subsampling: number;
  rightContext: number;
  /** Output frames per chunk; <= 0: the whole utterance at once. */
  chunkSize: number;
  leftChunks: number;
}

function encoderShape(f: OnnxFileFacts): EncoderShape {
  const shape = {
    blocks: integerMetadata(f, 'num_blocks'),
    heads: integerMetadata(f, 'head'),
    outputSize: integerMetadata(f, 'output_size'),
    kernel: integerMetadata(f, 'cnn_module_kernel'),
    subsampling: integerMetadata(f, 'subsampling_rate'),
    rightContext: integerMetadata(f, 'right_context'),
    chunkSize: integerMetadata(f, 'chunk_size'),
    leftChunks: integerMetadata(f, 'left_chunks'),
  };
  if (
    shape.blocks < 1 ||
    shape.heads < 1 ||
    shape.outputSize % shape.heads !== 0 ||
    shape.kernel < 1 ||
    shape.subsampling < 1 ||
    shape.rightContext < 0
  )
    throw new RoteError(`${f.path}: the metadata describes no WeNet encoder: ${JSON.stringify(shape)}`);
  return shape;
}

/**
 * The encoder inputs for one chunk, by name, those the export has, as WeNet's
 * OnnxAsrModel::ForwardEncoderFunc makes them: offset, required_cache_size = chunk_size *
 * left_chunks, and with left_chunks > 0 att_mask [1, 1, required + chunk_size] of ones whose
 * first (left_chunks - chunk_idx) * chunk_size entries are zero while chunk_idx = offset /
 * chunk_size - left_chunks is below left_chunks (the cache still holds its initial zeros).
 */
function chunkFeeds(
  encoder: OnnxFileFacts,
  shape: EncoderShape,
  chunk: ort.Tensor,
  offset: number,
  attCache: ort.Tensor,
  cnnCache: ort.Tensor,
): Record<string, ort.Tensor> {
  const { chunkSize, leftChunks } = shape;
  const required = chunkSize * leftChunks;
  const scalar = (value: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(value)]), []);
  const feeds: Record<string, ort.Tensor> = { chunk, att_cache: attCache, cnn_cache: cnnCache };
  if (hasInputs(encoder, ['offset'])) feeds.offset = scalar(offset);
  if (hasInputs(encoder, ['required_cache_size'])) feeds.required_cache_size = scalar(required);
  if (hasInputs(encoder, ['att_mask'])) {
    const mask = new Uint8Array(required + chunkSize).fill(1);
    const chunkIndex = Math.floor(offset / chunkSize) - leftChunks;
    if (chunkIndex < leftChunks) mask.fill(0, 0, (leftChunks - chunkIndex) * chunkSize);
    feeds.att_mask = new ort.Tensor('bool', mask, [1, 1, required + chunkSize]);
  }
  return feeds;
}

/**
 * One utterance as WeNet's runtime decodes it (AsrDecoder / AsrModel / OnnxAsrModel): the
 * first read takes (chunk_size - 1) * subsampling + right_context + 1 frames, later ones
 * chunk_size * subsampling (chunk_size <= 0: all at once); a chunk runs only when the cached
 * frames plus the new ones exceed right_context + 1, on the cached frames followed by the new
 * ones, at `offset` (output frames so far; with left_chunks > 0 it starts at
 * required_cache_size and the attention cache at that many zero frames), with the caches the
 * previous run returned; then the last 1 + right_context - subsampling new frames are cached.
 * The CTC head's log-probs of all chunks, concatenated, are decoded greedily.
 */
async function decodeOne(
  sessions: EngineSessions,
  encoder: OnnxFileFacts,
  shape: EncoderShape,
  features: Float32Array,
  frames: number,
  bins: number,
): Promise<UtteranceOutput> {
  const { blocks, heads, outputSize, kernel, subsampling, rightContext, chunkSize, leftChunks } = shape;
  const required = leftChunks > 0 ? chunkSize * leftChunks : 0;
  const cacheWidth = (outputSize / heads) * 2;
  let attCache: ort.Tensor = new ort.Tensor('float32', new Float32Array(blocks * heads * required * cacheWidth), [
    blocks,
    heads,
    required,
    cacheWidth,
  ]);
  let cnnCache: ort.Tensor = new ort.Tensor('float32', new Float32Array(blocks * outputSize * (kernel - 1)), [
    blocks,
    1,
    outputSize,
    kernel - 1,
  ]);
  const keep = 1 + rightContext - subsampling;
  const chunks: Float32Array[] = [];
  let cached = new Float32Array(0);
  let position = 0;
  let offset = required;
  let classes = 0;
  for (let first = true; ; first = false) {
    const need =
      chunkSize <= 0 ? frames + 1 : first ? (chunkSize - 1) * subsampling + rightContext + 1 : chunkSize * subsampling;
    const take = Math.min(need, frames - position);
    const fresh = features.subarray(position * bins, (position + take) * bins);
    position += take;
    const chunkFrames = cached.length / bins + take;
    if (chunkFrames > rightContext + 1) {
      const chunk = new Float32Array(chunkFrames * bins);
      chunk.set(cached);
      chunk.set(fresh, cached.length);
      const feeds = chunkFeeds(
        encoder,
        shape,
        new ort.Tensor('float32', chunk, [1, chunkFrames, bins]),
        offset,
        attCache,
        cnnCache,
      );
      const encoded = await sessions.run(
        0,
        feeds,
        () => `${ENCODER} given chunk [1, ${chunkFrames}, ${bins}] at offset ${offset}`,
      );
      const hidden = floatOutput(encoded, 'output', sessions.paths[0]!);
      attCache = floatOutput(encoded, 'r_att_cache', sessions.paths[0]!);
      cnnCache = floatOutput(encoded, 'r_cnn_cache', sessions.paths[0]!);
      offset += hidden.dims[1]!;
      const probs = floatOutput(
        await sessions.run(1, { hidden }, () => `${CTC} given hidden [${hidden.dims.join(', ')}]`),
        'probs',
        sessions.paths[1]!,
      );
      classes = probs.dims[2]!;
      chunks.push((probs.data as Float32Array).slice(0, probs.dims[1]! * classes));
      if (take >= keep) cached = fresh.slice((take - keep) * bins);
    }
    if (take < need) break; // the input ran out: WeNet's feature pipeline Read() came up short
  }
  const vocabSize = sessions.vocabulary.pieces.length;
  if (chunks.length > 0 && classes !== vocabSize)
    throw new RoteError(
      `${sessions.paths[1]}: ${classes} classes but ${UNITS} has ${vocabSize} units; use the units.txt of this model`,
    );
  const logProbs = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (logProbs.set(c, at), at + c.length), 0);
  const outFrames = logProbs.length / vocabSize;
  return { tokenIds: ctcGreedy(logProbs, outFrames, vocabSize, sessions.vocabulary.blankId), logProbs, outFrames };
}

export const wenetCtc: FamilyDefinition = {
  name: 'wenet-ctc',
  summary: `WeNet's export_onnx_cpu.py (${ENCODER} with chunk/att_cache/cnn_cache inputs, ${CTC} with hidden -> probs, ${UNITS})`,
  detect(facts: DirectoryFacts): Detection {
    const missing: string[] = [];
    if (facts.sidecar) missing.push(`${SIDECAR_NAME} present (the sidecar family takes precedence)`);
    if (!isEncoder(facts.onnx.get(ENCODER)))
      missing.push(`${ENCODER} (inputs chunk, att_cache, cnn_cache; outputs output, r_att_cache, r_cnn_cache)`);
    if (!isCtc(facts.onnx.get(CTC))) missing.push(`${CTC} (input hidden, output probs)`);
    if (!facts.files.includes(UNITS)) missing.push(UNITS);
    if (missing.length > 0) return { ok: false, missing };
    const m = facts.onnx.get(ENCODER)!.metadata;
    return {
      ok: true,
      because: [
        `${ENCODER}: WeNet forward_chunk inputs (${facts.onnx
          .get(ENCODER)!
          .inputs.map((i) => i.name)
          .join(
            ', ',
          )}); metadata encoder=${m.encoder ?? '?'}, chunk_size=${m.chunk_size ?? '?'}, left_chunks=${m.left_chunks ?? '?'}`,
        `${CTC}: hidden -> probs; ${UNITS} present${facts.files.includes('decoder.onnx') ? ' (decoder.onnx, for attention rescoring, is not used)' : ''}`,
      ],
    };
  },
  async load(facts, detectedBecause, options) {
    const encoder = facts.onnx.get(ENCODER)!;
    const shape = encoderShape(encoder);
    const { leftChunks, subsampling, chunkSize } = shape;
    const bins = integerMetadata(encoder, 'feature_size');
    if (leftChunks > 0 ? chunkSize <= 0 : hasInputs(encoder, ['att_mask']))
      throw new RoteError(
        `${encoder.path}: metadata chunk_size=${chunkSize}, left_chunks=${leftChunks}${hasInputs(encoder, ['att_mask']) ? ' with an att_mask input' : ''} is no mode export_onnx_cpu.py writes; re-export with --chunk_size -1 --num_decoding_left_chunks -1 (or --chunk_size 16)`,
      );
    const vocabulary = await loadVocabulary(join(facts.dir, UNITS), 'from-file');
    return openEngine(
      {
        family: 'wenet-ctc',
        dir: facts.dir,
        modelFiles: [ENCODER, CTC],
        otherFiles: [UNITS],
        frontend: { type: 'kaldi-fbank', numBins: bins, ...WENET_FBANK },
        vocabulary,
        detectedBecause: [
          ...detectedBecause,
          `features: ${bins} bins (metadata feature_size); WeNet's compute_fbank (samples x 32768, snip_edges, high_freq Nyquist)`,
          chunkSize > 0
            ? `streaming as WeNet's runtime decodes this export: chunks of ${chunkSize} output frames (${chunkSize * subsampling} feature frames) with the attention and convolution caches, ${leftChunks > 0 ? `the last ${leftChunks} chunks of left context (required_cache_size ${chunkSize * leftChunks}, att_mask)` : `all left context (left_chunks ${leftChunks})`}; one utterance at a time`
            : `non-streaming: the whole utterance as one chunk (chunk_size ${chunkSize}, as WeNet's decoding_chunk_size -1), one utterance at a time`,
          `blank ${JSON.stringify(vocabulary.pieces[vocabulary.blankId])} (id ${vocabulary.blankId})`,
        ],
      },
      options,
      async (sessions) => ({
        kind: 'ctc',
        subsampling,
        because: [],
        padSensitive: true,
        async run(batch: FeatureBatch) {
          const outputs: UtteranceOutput[] = [];
          const stride = batch.maxFrames * batch.numBins;
          for (let b = 0; b < batch.frames.length; b++) {
            const frames = batch.frames[b]!;
            const features = batch.features.slice(b * stride, b * stride + frames * batch.numBins);
            outputs.push(await decodeOne(sessions, encoder, shape, features, frames, batch.numBins));
          }
          return outputs;
        },
      }),
    );
  },
};
