/** Shared fixtures for the ASR tests: the committed test models and speech (scripts/models/make_test_models.py). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
export const SPEECH = join(MODELS, 'speech');

export interface SpeechFixture {
  id: string;
  path: string;
  text: string;
}

export function speechFixtures(): SpeechFixture[] {
  const { utterances } = JSON.parse(readFileSync(join(SPEECH, 'texts.json'), 'utf8')) as {
    utterances: { id: string; file: string; text: string }[];
  };
  return utterances.map((u) => ({ id: u.id, path: join(SPEECH, u.file), text: u.text }));
}

/** A fresh temporary directory and its remover. */
export function temporaryDirectory(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `rote-asr-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One utterance of a Whisper fixture's expected.json (scripts/models/whisper_reference.py). */
export interface WhisperExpectedUtterance {
  id: string;
  file: string;
  transcript: string;
  generatedIds: number[];
  generatedIdsWithoutSuppression: number[];
  stoppedAt: 'end-of-text' | 'max_length';
  reference: string;
  referenceIds: number[];
  logLikelihood: number;
  characters: number;
  perCharacter: number;
}

/** A Whisper fixture's expected.json: the prompt and the reference's greedy tokens and teacher-forced scores. */
export function readWhisperExpected(modelDir: string): { prompt: number[]; utterances: WhisperExpectedUtterance[] } {
  return JSON.parse(readFileSync(join(modelDir, 'expected.json'), 'utf8')) as {
    prompt: number[];
    utterances: WhisperExpectedUtterance[];
  };
}
