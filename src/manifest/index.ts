/**
 * The manifest stage: training-manifest adapters, streaming canary injection
 * and receipt-free verification.
 */
export { injectCanaries, type InjectOptions } from './inject.ts';
export { verifyInjection, type VerifyOptions } from './verify.ts';
export { detectManifestFormat, detectFileFormat, expandManifestPaths } from './detect.ts';
export { RECORD_ADAPTERS, adapterFor } from './formats/index.ts';
export { isKaldiDir, kaldiUtterances } from './formats/kaldi.ts';
export { iterateRecords, scanBatches, scanRecords } from './lines.ts';
export { normalizeText } from './ids.ts';
export * from './types.ts';

import { iterateRecords } from './lines.ts';
import { adapterFor } from './formats/index.ts';
import type { Header, ManifestFormat, RawRecord } from './types.ts';

/** The records of one manifest file as an async iterator, each with its original bytes. */
export async function* readManifest(path: string, format: Exclude<ManifestFormat, 'kaldi'>): AsyncGenerator<RawRecord> {
  const adapter = adapterFor(format);
  let header: Header | undefined;
  for await (const raw of iterateRecords(path, { quoted: adapter.quoted })) {
    if (raw.blank) continue;
    const where = { file: path, line: raw.line };
    if (adapter.header && !header) {
      header = adapter.parseHeader!(raw.text, where);
      continue;
    }
    yield { where, bytes: raw.bytes, record: adapter.parse(raw.text, where, header) };
  }
}
