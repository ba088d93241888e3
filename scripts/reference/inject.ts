/**
 * Weaves the demo canaries' for-training part into the corpus's NeMo manifest
 * through rote's inject API; the same as
 *   rote inject --manifest .cache/reference/corpus/train_manifest.json \
 *     --canaries canaries/demo/for-training --out .cache/reference/injected/train_manifest.json \
 *     --audio-dir .cache/reference/injected/canary-audio
 * The injected manifest is what the baseline and clipped variants train on.
 *
 *   node --import tsx scripts/reference/inject.ts
 */
import { parseArgs } from 'node:util';
import { injectCanaries } from '../../src/manifest/inject.ts';

const { values } = parseArgs({
  options: {
    manifest: { type: 'string', default: '.cache/reference/corpus/train_manifest.json' },
    canaries: { type: 'string', default: 'canaries/demo/for-training' },
    out: { type: 'string', default: '.cache/reference/injected/train_manifest.json' },
    'audio-dir': { type: 'string', default: '.cache/reference/injected/canary-audio' },
  },
});

const receipt = await injectCanaries({
  manifests: [values.manifest!],
  canaries: values.canaries!,
  output: values.out!,
  audioDir: values['audio-dir']!,
});
console.log(
  JSON.stringify(receipt, (key, value) =>
    Array.isArray(value) && value.length > 8 ? `[${value.length} items]` : value,
  ).slice(0, 1500),
);
