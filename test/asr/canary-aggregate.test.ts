/**
 * NeMo Canary's aggregate tokenizer (one SentencePiece vocabulary per language after the special
 * tokens' one) on the fixtures canary-agg-onnx-asr and canary-agg-sherpa of
 * scripts/models/make_canary_models.py (an English and a German block sharing pieces; sherpa's
 * tokens.txt spells "▁" as a space, as its export writes it): the decoder score of a canary set in
 * language L tokenizes the text with L's own block, as NeMo trains (the torch reference
 * scripts/models/canary_reference.py -> expected.json), not with each piece's first id; a language
 * with a prompt token but no vocabulary of its own is refused.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel, tokenizeReference, transcribeFiles } from '../../src/asr/index.ts';
import { engineOf } from '../../src/asr/model.ts';
import { MODELS, SPEECH, temporaryDirectory } from './helpers.ts';

const LAYOUTS = ['canary-agg-onnx-asr', 'canary-agg-sherpa'] as const;
const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));

interface ExpectedUtterance {
  id: string;
  file: string;
  generatedIds: number[];
  transcript: string;
  reference: string;
  referenceIds: number[];
  logLikelihood: number;
  characters: number;
  firstIdReferenceIds?: number[];
  firstIdLogLikelihood?: number;
}
interface Expected {
  blocks: Record<string, [number, number]>;
  languages: Record<string, { prompt: number[]; utterances: ExpectedUtterance[] }>;
}
const expectedOf = (layout: string): Expected =>
  JSON.parse(readFileSync(join(MODELS, layout, 'expected.json'), 'utf8')) as Expected;

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-4 * Math.abs(b);

test('the goldens: each language in its own block, the German text with first ids a different sequence and score', () => {
  for (const layout of LAYOUTS) {
    const e = expectedOf(layout);
    for (const [language, { utterances }] of Object.entries(e.languages)) {
      const [start, end] = e.blocks[language]!;
      for (const u of utterances) {
        assert.ok(
          u.referenceIds.slice(0, -1).every((id) => id >= start && id < end),
          `${layout} ${language} ${u.id}`,
        );
        assert.ok(u.generatedIds.length >= 4 && u.generatedIds.at(-1) === 3, `${layout} ${language} ${u.id}`);
      }
    }
    for (const u of e.languages.de!.utterances) {
      assert.not.equal(u.firstIdReferenceIds, u.referenceIds);
      assert.ok(Math.abs(u.firstIdLogLikelihood! - u.logLikelihood) > 1, `${layout} ${u.id}`);
    }
  }
});

for (const layout of LAYOUTS)
  for (const language of ['en', 'de'] as const)
    test(`${layout}: a canary set in "${language}": the prompt, transcripts and the decoder score in the ${language} block equal the torch reference`, async () => {
      const e = expectedOf(layout).languages[language]!;
      const model = await loadModel(join(MODELS, layout), { provider: 'cpu', threads: 1, language });
      try {
        assert.ok(
          model.info.detectedBecause.some((l) => l.includes(`prompt ${JSON.stringify(e.prompt)}`)),
          model.info.detectedBecause.join('\n'),
        );
        const vocabulary = engineOf(model).vocabulary;
        const items = e.utterances.map((u) => ({ id: u.id, path: join(SPEECH, u.file), reference: u.reference }));
        const rows = [];
        for await (const row of transcribeFiles(model, items, { batchFrames: 60000, featureWorkers: 0 }))
          rows.push(row);
        assert.is(rows.length, e.utterances.length);
        for (const row of rows) {
          const u = e.utterances.find((x) => x.id === row.id)!;
          assert.equal(row.tokenIds, u.generatedIds.slice(0, -1), row.id);
          assert.is(row.hypothesis, u.transcript, row.id);
          assert.equal(tokenizeReference(vocabulary, u.reference).ids, u.referenceIds.slice(0, -1), row.id);
          const score = row.referenceScore!;
          assert.is(score.tokens, u.referenceIds.length - 1, row.id);
          assert.ok(
            close(score.logLikelihood, u.logLikelihood),
            `${row.id}: ${score.logLikelihood} vs ${u.logLikelihood}`,
          );
          if (u.firstIdLogLikelihood !== undefined)
            assert.not.ok(close(score.logLikelihood, u.firstIdLogLikelihood), row.id);
        }
      } finally {
        await model.close();
      }
    });

test('a language with a prompt token but no vocabulary of its own is refused, naming the file and the blocks', async () => {
  for (const [layout, file] of [
    ['canary-agg-onnx-asr', 'vocab.txt'],
    ['canary-agg-sherpa', 'tokens.txt'],
  ] as const) {
    const error = await loadModel(join(MODELS, layout), { provider: 'cpu', language: 'es' }).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(error, layout);
    assert.match(error.message, new RegExp(`${file}: none of the 2 text vocabularies .* is "es"'s own`));
    assert.match(error.message, /ids 20-92 en, ids 93-167 de/);
  }
});

test('one text vocabulary after the special tokens\' spells every language, the special "▁" never used', async () => {
  const { dir, remove } = temporaryDirectory('canary-one-text-block');
  try {
    const source = join(MODELS, 'canary-agg-onnx-asr');
    for (const name of readdirSync(source)) copyFileSync(join(source, name), join(dir, name));
    const vocab = readFileSync(join(source, 'vocab.txt'), 'utf8').replace('\n<unk> 93\n', '\n<unused> 93\n');
    assert.ok(vocab.includes('<unused> 93'));
    writeFileSync(join(dir, 'vocab.txt'), vocab);
    for (const language of ['de', 'es']) {
      const model = await loadModel(dir, { provider: 'cpu', language });
      try {
        assert.ok(model.info.detectedBecause.some((l) => l.includes('one text vocabulary (ids 20-167)')));
        const ids = tokenizeReference(engineOf(model).vocabulary, 'über die brücke').ids;
        assert.ok(ids.length > 0 && ids.every((id) => id >= 20 && id <= 167), JSON.stringify(ids));
        assert.ok(ids.includes(21), 'the text block\'s "▁"');
      } finally {
        await model.close();
      }
    }
  } finally {
    remove();
  }
});

test('inspect-model names the blocks and the one the reference is spelled with', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [
    ROTE,
    'inspect-model',
    join(MODELS, 'canary-agg-sherpa'),
  ]);
  assert.match(stdout, /aggregate tokenizer, 3 SentencePiece vocabularies/);
  assert.match(stdout, /special tokens ids 0-19; ids 20-92 en, ids 93-167 de/);
  assert.match(stdout, /the reference in "en" is spelled with the pieces of ids 20-92/);
});

test.run();
