import { adapterFor } from './formats/index.ts';
import { iterateRecords } from './stream/lines.ts';
import type { Header, ManifestFormat, RawRecord, RecordAdapter } from './types.ts';

/** The records of one manifest file read with `adapter`, each with its place and original bytes; blank lines skipped, the header parsed first. */
export async function* readRecords(path: string, adapter: RecordAdapter): AsyncGenerator<RawRecord> {
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

/** The records of one manifest file as an async iterator, each with its original bytes. */
export async function* readManifest(path: string, format: Exclude<ManifestFormat, 'kaldi'>): AsyncGenerator<RawRecord> {
  yield* readRecords(path, adapterFor(format));
}
