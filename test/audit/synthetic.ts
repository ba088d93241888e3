/**
 * Synthetic canary sets and transcription rows for the report tests: a model
 * that "recognizes" each canary with a chosen probability of corrupting each
 * word, so memorization strength per group is known in advance.
 */
import { CANARY_SET_FORMAT, type CanaryRecord, type CanarySet } from '../../src/canary/types.ts';
import { SeededRandom } from '../../src/util/random.ts';
import { sha256Hex } from '../../src/util/hash.ts';
import type { TranscribedRow } from '../../src/audit/pipeline/build-report.ts';
import type { CanarySetRecord, ModelRecord } from '../../src/audit/report/types.ts';
import { AUDIT_DEFAULTS } from '../../src/audit/pipeline/audit.ts';
import type { AuditSettings } from '../../src/audit/report/types.ts';

const WORDS = [
  'amber',
  'basin',
  'cobalt',
  'dune',
  'ember',
  'fjord',
  'gravel',
  'harbor',
  'indigo',
  'juniper',
  'kettle',
  'lantern',
  'meadow',
  'nectar',
  'orchid',
  'pebble',
];

export function syntheticSet(seed: string, perGroup = 12, holdout = 24, repetitions = [1, 2, 4, 8, 16]): CanarySet {
  const random = new SeededRandom(seed);
  const canaries: CanaryRecord[] = [];
  const groups: (number | null)[] = [
    ...repetitions.flatMap((r) => Array<number | null>(perGroup).fill(r)),
    ...Array<number | null>(holdout).fill(null),
  ];
  groups.forEach((group, i) => {
    const text = Array.from({ length: 5 }, () => WORDS[random.nextInt(WORDS.length)]).join(' ');
    const id = sha256Hex(`${seed}/${i}`).slice(0, 8);
    canaries.push({
      id,
      text,
      repetitions: group,
      audio: `audio/${id}.wav`,
      durationSec: 1,
      sha256: sha256Hex(id),
      tts: { engine: 'test', version: '0', voice: 'v', rate: 1, pitch: 1 },
    });
  });
  return {
    format: CANARY_SET_FORMAT,
    tool: { name: 'rote', version: '0' },
    setId: sha256Hex(`set/${seed}`),
    parameters: {
      seed,
      count: canaries.length,
      wordsPerCanary: 5,
      wordlist: { name: 'test', sha256: '0', words: WORDS.length },
      excludedWords: 0,
      voices: ['v'],
      rate: 1,
      pitch: 1,
      speed: 3,
      speedMethod: 'tempo',
      sampleRate: 16000,
      repetitions,
      perGroup,
      holdout,
    },
    canaries,
  };
}

/** Rows where each word of a canary in group r is garbled with probability errorRate(r). */
export function syntheticRows(
  set: CanarySet,
  seed: string,
  errorRate: (repetitions: number | null) => number,
  ctc = true,
): TranscribedRow[] {
  const random = new SeededRandom(seed);
  return set.canaries.map((canary) => {
    const rate = errorRate(canary.repetitions);
    const words = canary.text
      .split(' ')
      .map((word) => (random.nextFloat() < rate ? word.slice(0, 1 + random.nextInt(word.length - 1)) + 'x' : word));
    const hypothesis = words.join(' ');
    const perCharacter = -(0.1 + 3 * rate + random.nextFloat());
    return {
      id: canary.id,
      hypothesis,
      durationSec: 1,
      frames: 100,
      referenceScore: ctc
        ? {
            logLikelihood: perCharacter * canary.text.length,
            tokens: 10,
            characters: canary.text.length,
            perToken: perCharacter * 3,
            perCharacter,
          }
        : null,
      notes: [],
      provider: 'cpu',
    };
  });
}

export function syntheticRecords(
  set: CanarySet,
  modelName: string,
): { canarySet: CanarySetRecord; model: ModelRecord; settings: AuditSettings } {
  const files = [{ path: 'model.onnx', sha256: sha256Hex(modelName) }];
  return {
    canarySet: {
      dir: '/tmp/set',
      setId: set.setId,
      fileSha256: sha256Hex(set.setId),
      canaries: set.canaries.length,
      repetitions: set.parameters.repetitions,
      holdout: set.parameters.holdout,
      speed: 3,
      sampleRate: 16000,
      membership: set.parameters.membership ?? 'groups',
      origin: set.parameters.imported ? 'imported' : 'generated',
    },
    model: {
      dir: `/models/${modelName}`,
      family: 'sidecar-ctc',
      isCtc: true,
      fingerprint: sha256Hex(`model.onnx ${files[0]!.sha256}\n`),
      files,
    },
    settings: {
      ...AUDIT_DEFAULTS,
      provider: 'cpu',
      deviceId: null,
      threads: null,
      batchFrames: null,
      bootstrapResamples: 500,
    },
  };
}
