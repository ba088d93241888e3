/**
 * Finding an injection's receipt from its output: `OUT.receipt.json` next to
 * the manifest file or Kaldi data dir (receiptPathFor), or next to the folder
 * of shards. verify reports it and whether the manifest is still the one
 * inject wrote (the receipt's digests).
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { hashFile, type FileHashAlgorithm } from '../util/hash.ts';
import { receiptPathFor } from './inject-plan.ts';
import type { InjectionReceipt } from './types.ts';

export interface ReceiptCheck {
  path: string;
  /** Every output the receipt lists has the digest it recorded. */
  matches: boolean;
  /** Outputs whose digest differs, or that are gone. */
  differing: string[];
}

/** The receipt of the given manifests (files, shards of one folder, or a Kaldi dir), checked against their digests; undefined when there is none. */
export async function checkReceiptOf(manifests: string[]): Promise<ReceiptCheck | undefined> {
  const paths = manifests.map((m) => resolve(m));
  const candidates = paths.map(receiptPathFor);
  const dirs = [...new Set(paths.map(dirname))];
  if (dirs.length === 1) candidates.push(receiptPathFor(dirs[0]!));
  const path = candidates.find((c) => existsSync(c));
  if (!path) return undefined;
  let receipt: InjectionReceipt;
  try {
    receipt = JSON.parse(await readFile(path, 'utf8')) as InjectionReceipt;
  } catch {
    return { path, matches: false, differing: [`${path} (not a readable receipt)`] };
  }
  const differing: string[] = [];
  for (const output of receipt.outputs ?? []) {
    const [algorithm] = output.hash.split(':') as [FileHashAlgorithm];
    const ok =
      existsSync(output.path) &&
      (await stat(output.path)).isFile() &&
      (await hashFile(output.path, algorithm)) === output.hash;
    if (!ok) differing.push(output.path);
  }
  const listed = new Set((receipt.outputs ?? []).map((o) => o.path));
  for (const manifest of paths) {
    const files = (await stat(manifest)).isDirectory() ? [join(manifest, 'text')] : [manifest];
    for (const file of files) if (!listed.has(file)) differing.push(`${file} (not in the receipt)`);
  }
  return { path, matches: differing.length === 0, differing };
}
