/** The record adapters, in the order the detector tries them. */
import type { ManifestFormat, RecordAdapter } from '../types.ts';
import { audiofolderAdapter } from './audiofolder.ts';
import { commonvoiceAdapter } from './commonvoice.ts';
import { lhotseCutsAdapter, lhotseRecordingsAdapter, lhotseSupervisionsAdapter } from './lhotse.ts';
import { nemoAdapter } from './nemo.ts';
import { speechbrainAdapter } from './speechbrain.ts';
import { wenetAdapter } from './wenet.ts';

export const RECORD_ADAPTERS: readonly RecordAdapter[] = [
  wenetAdapter,
  nemoAdapter,
  lhotseCutsAdapter,
  lhotseRecordingsAdapter,
  lhotseSupervisionsAdapter,
  commonvoiceAdapter,
  speechbrainAdapter,
  audiofolderAdapter,
];

export function adapterFor(format: Exclude<ManifestFormat, 'kaldi'>): RecordAdapter {
  const adapter = RECORD_ADAPTERS.find((a) => a.format === format);
  if (!adapter) throw new Error(`no adapter for ${format}`);
  return adapter;
}

export {
  audiofolderAdapter,
  commonvoiceAdapter,
  lhotseCutsAdapter,
  lhotseRecordingsAdapter,
  lhotseSupervisionsAdapter,
  nemoAdapter,
  speechbrainAdapter,
  wenetAdapter,
};
