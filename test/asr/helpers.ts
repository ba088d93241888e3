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
