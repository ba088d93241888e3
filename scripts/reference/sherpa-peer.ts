/**
 * sherpa-onnx-node as a peer engine on a reference model: transcribes every
 * canary of canaries/demo with sherpa-onnx (its own NeMo frontend, greedy CTC),
 * with rote's NeMo-exact frontend (what the audit uses) and with rote's
 * sherpa-compatible variant, and records transcript agreement and CER per group.
 * sherpa-onnx's NeMo frontend is not NeMo's (CONTRIBUTING.md, "Models users bring"), so its
 * agreement with the NeMo-exact path may be lower; that is reported, not hidden.
 *
 *   node --import tsx scripts/reference/sherpa-peer.ts [--model models/baseline] [--canaries canaries/demo]
 *     [--out scripts/reference/results/sherpa-peer-baseline.json]
 *
 * model-cards.ts puts the result into the model's MODEL_CARD.md.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel, transcribeFiles } from '../../src/asr/index.ts';
import { errorRates, groupLabel, normalizeTranscript } from '../../src/audit/index.ts';
import { readCanarySet } from '../../src/canary/index.ts';
import { writeFileAtomic } from '../../src/util/atomic.ts';

const require = createRequire(import.meta.url);

interface SherpaRecognizer {
  createStream(): { acceptWaveform(wave: { samples: Float32Array; sampleRate: number }): void };
  decode(stream: unknown): void;
  getResult(stream: unknown): { text: string };
}
const sherpa = require('sherpa-onnx-node') as {
  OfflineRecognizer: new (config: object) => SherpaRecognizer;
  readWave(path: string): { samples: Float32Array; sampleRate: number };
};

export interface EngineSummary {
  /** Mean per-canary CER per group (normalized text, as the audit scores it). */
  cerByGroup: Record<string, number>;
}

export interface SherpaPeerResult {
  kind: 'rote-sherpa-peer';
  model: string;
  canarySet: string;
  canaries: number;
  versions: { sherpaOnnxNode: string; onnxruntimeNode: string; node: string };
  engines: { sherpa: EngineSummary; roteNemo: EngineSummary; roteSherpaCompatible: EngineSummary };
  /** Canaries whose normalized transcripts are identical. */
  agreement: {
    sherpaVsRoteNemo: { same: number; total: number; byGroup: Record<string, string> };
    sherpaVsRoteSherpaCompatible: { same: number; total: number; byGroup: Record<string, string> };
  };
  /** A few disagreements, for the eye. */
  examples: {
    id: string;
    group: string;
    reference: string;
    sherpa: string;
    roteNemo: string;
    roteSherpaCompatible: string;
  }[];
  seconds: number;
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

function sherpaTranscripts(modelDir: string, items: { id: string; path: string }[]): Map<string, string> {
  const recognizer = new sherpa.OfflineRecognizer({
    featConfig: { sampleRate: 16000, featureDim: 80 },
    modelConfig: {
      nemoCtc: { model: join(modelDir, 'model.onnx') },
      tokens: join(modelDir, 'tokens.txt'),
      numThreads: 1,
      provider: 'cpu',
      debug: 0,
    },
    decodingMethod: 'greedy_search',
  });
  const result = new Map<string, string>();
  for (const item of items) {
    const wave = sherpa.readWave(item.path);
    const stream = recognizer.createStream();
    stream.acceptWaveform({ samples: wave.samples, sampleRate: wave.sampleRate });
    recognizer.decode(stream);
    result.set(item.id, recognizer.getResult(stream).text);
  }
  return result;
}

async function roteTranscripts(
  modelDir: string,
  items: { id: string; path: string }[],
  sherpaCompatible: boolean,
): Promise<Map<string, string>> {
  const model = await loadModel(modelDir, { provider: 'cpu', threads: 1, sherpaCompatible });
  const result = new Map<string, string>();
  try {
    for await (const row of transcribeFiles(model, items)) result.set(row.id, row.hypothesis);
  } finally {
    await model.close();
  }
  return result;
}

export async function sherpaPeer(modelDir: string, canariesDir: string): Promise<SherpaPeerResult> {
  const started = Date.now();
  const set = await readCanarySet(canariesDir);
  const items = set.canaries.map((canary) => ({ id: canary.id, path: join(canariesDir, canary.audio) }));
  const sherpaText = sherpaTranscripts(modelDir, items);
  const roteNemo = await roteTranscripts(modelDir, items, false);
  const roteSherpa = await roteTranscripts(modelDir, items, true);
  const groups = [null, ...[...set.parameters.repetitions].sort((a, b) => a - b)];
  const inGroup = (repetitions: number | null) => set.canaries.filter((canary) => canary.repetitions === repetitions);
  const summary = (texts: Map<string, string>): EngineSummary => ({
    cerByGroup: Object.fromEntries(
      groups.map((repetitions) => {
        const canaries = inGroup(repetitions);
        const mean =
          canaries.reduce((sum, canary) => sum + errorRates(canary.text, texts.get(canary.id)!).cer, 0) /
          canaries.length;
        return [groupLabel(repetitions), Number(mean.toFixed(4))];
      }),
    ),
  });
  const same = (a: Map<string, string>, id: string) =>
    normalizeTranscript(a.get(id)!) === normalizeTranscript(sherpaText.get(id)!);
  const agreementWith = (other: Map<string, string>) => ({
    same: set.canaries.filter((canary) => same(other, canary.id)).length,
    total: set.canaries.length,
    byGroup: Object.fromEntries(
      groups.map((repetitions) => {
        const canaries = inGroup(repetitions);
        return [
          groupLabel(repetitions),
          `${canaries.filter((canary) => same(other, canary.id)).length}/${canaries.length}`,
        ];
      }),
    ),
  });
  const examples = set.canaries
    .filter((canary) => !same(roteNemo, canary.id) || !same(roteSherpa, canary.id))
    .slice(0, 6)
    .map((canary) => ({
      id: canary.id,
      group: groupLabel(canary.repetitions),
      reference: canary.text,
      sherpa: sherpaText.get(canary.id)!,
      roteNemo: roteNemo.get(canary.id)!,
      roteSherpaCompatible: roteSherpa.get(canary.id)!,
    }));
  return {
    kind: 'rote-sherpa-peer',
    model: relative(process.cwd(), resolve(modelDir)) || modelDir,
    canarySet: set.setId,
    canaries: set.canaries.length,
    versions: {
      sherpaOnnxNode: packageVersion('sherpa-onnx-node'),
      onnxruntimeNode: packageVersion('onnxruntime-node'),
      node: process.version,
    },
    engines: { sherpa: summary(sherpaText), roteNemo: summary(roteNemo), roteSherpaCompatible: summary(roteSherpa) },
    agreement: { sherpaVsRoteNemo: agreementWith(roteNemo), sherpaVsRoteSherpaCompatible: agreementWith(roteSherpa) },
    examples,
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/baseline' },
      canaries: { type: 'string', default: 'canaries/demo' },
      out: { type: 'string', default: 'scripts/reference/results/sherpa-peer-baseline.json' },
    },
  });
  const result = await sherpaPeer(values.model!, values.canaries!);
  await writeFileAtomic(values.out!, `${JSON.stringify(result, null, 1)}\n`);
  const { sherpaVsRoteNemo: a, sherpaVsRoteSherpaCompatible: b } = result.agreement;
  process.stdout.write(
    `sherpa-onnx ${result.versions.sherpaOnnxNode} on ${result.model}, ${result.canaries} canaries (${result.seconds} s)\n` +
      `agreement with rote (NeMo frontend): ${a.same}/${a.total}; with rote --sherpa-compatible: ${b.same}/${b.total}\n` +
      `sherpa CER by group: ${JSON.stringify(result.engines.sherpa.cerByGroup)}\nwrote ${values.out}\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
