/** sherpa-onnx-node (a devDependency) as the peer of the parity tests: one offline recognizer, greedy, one file at a time. */
import { createRequire } from 'node:module';

interface SherpaRecognizer {
  createStream(): { acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void };
  decode(stream: unknown): void;
  getResult(stream: unknown): { text: string; tokens: string[] };
}

export const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as {
  OfflineRecognizer: new (config: object) => SherpaRecognizer;
  readWave(path: string): { samples: Float32Array; sampleRate: number };
};

/**
 * sherpa-onnx's text and tokens for each file, with `modelConfig` (one thread on the CPU unless it says
 * otherwise) and `featureDim` mel bins.
 */
export function sherpaResults(
  modelConfig: object,
  paths: string[],
  featureDim = 80,
): Map<string, { text: string; tokens: string[] }> {
  const recognizer = new sherpa.OfflineRecognizer({
    featConfig: { sampleRate: 16000, featureDim },
    modelConfig: { numThreads: 1, provider: 'cpu', debug: 0, ...modelConfig },
    decodingMethod: 'greedy_search',
  });
  const results = new Map<string, { text: string; tokens: string[] }>();
  for (const path of paths) {
    const wave = sherpa.readWave(path);
    const stream = recognizer.createStream();
    stream.acceptWaveform({ samples: wave.samples, sampleRate: wave.sampleRate });
    recognizer.decode(stream);
    const { text, tokens } = recognizer.getResult(stream);
    results.set(path, { text, tokens });
  }
  return results;
}
