/**
 * Format detection: a directory with wav.scp + text is a Kaldi data dir; a
 * file is judged by its first record (and header line for CSV/TSV).
 * Several files must agree, except lhotse's recordings + supervisions pair.
 */
import { stat, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RoteError } from '../util/errors.ts';
import { OptionError } from '../util/options.ts';
import { refuseNonRegularFile } from '../util/input-file.ts';
import { explainLinkLoop } from '../util/output-guard.ts';
import { iterateRecords } from './stream/lines.ts';
import { RECORD_ADAPTERS } from './formats/index.ts';
import { KALDI_EXPECTS, isKaldiDir } from './formats/kaldi.ts';
import type { Header, ManifestFormat } from './types.ts';

/** Why a manifest must be a regular file. */
const MANIFEST_READ_TWICE = 'rote reads a manifest more than once: to detect its format, then to check and copy it';

export interface DetectedFile {
  path: string;
  format: ManifestFormat;
}

async function firstRecord(path: string): Promise<{ text: string; line: number } | undefined> {
  for await (const record of iterateRecords(path, { quoted: false })) {
    if (!record.blank) return { text: record.text, line: record.line };
  }
  return undefined;
}

function triedMessage(): string {
  return [...RECORD_ADAPTERS.map((a) => `${a.format} (${a.expects})`), `kaldi (${KALDI_EXPECTS})`].join('; ');
}

/** The format of one manifest file or Kaldi directory. */
export async function detectFileFormat(path: string): Promise<ManifestFormat> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw explainLinkLoop(error, path);
    throw new RoteError(`${path}: no such manifest file or directory`, { cause: error });
  }
  await refuseNonRegularFile(path, { what: 'the manifest', why: MANIFEST_READ_TWICE, directories: true });
  if (info.isDirectory()) {
    if (await isKaldiDir(path)) return 'kaldi';
    throw new RoteError(`${path}: a directory but not a Kaldi data dir (${KALDI_EXPECTS}); formats tried: kaldi`);
  }
  if (basename(path) === 'wav.scp' || basename(path) === 'text') {
    if (await isKaldiDir(dirname(path))) return 'kaldi';
  }
  const first = await firstRecord(path);
  if (!first)
    throw new OptionError(
      (name) => `${path}: empty manifest; nothing to detect the format from (pass ${name('format')})`,
    );
  const headerCandidates: Header[] = [];
  for (const delimiter of ['\t', ',']) {
    if (!first.text.includes(delimiter)) continue;
    headerCandidates.push({
      columns: first.text
        .replace(/^\uFEFF/, '')
        .split(delimiter)
        .map((c) => c.trim().replace(/^"(.*)"$/, '$1')),
      delimiter,
    });
  }
  for (const adapter of RECORD_ADAPTERS) {
    if (adapter.header) {
      for (const header of headerCandidates) {
        if (adapter.matches('', header, path)) return adapter.format;
      }
    } else if (adapter.matches(first.text, undefined, path)) {
      return adapter.format;
    }
  }
  throw new OptionError(
    (name) =>
      `${path}:${first.line}: unknown manifest format; formats tried: ${triedMessage()} (force one with ${name('format')})`,
  );
}

/**
 * The format shared by all `paths`. Lhotse recordings and supervisions may be
 * given together (they form one corpus); any other mix is an error.
 */
export async function detectManifestFormat(
  paths: string[],
): Promise<{ format: ManifestFormat; files: DetectedFile[] }> {
  if (paths.length === 0) throw new RoteError('no manifest given');
  const files: DetectedFile[] = [];
  for (const path of paths) files.push({ path, format: await detectFileFormat(path) });
  const formats = [...new Set(files.map((f) => f.format))];
  if (formats.length === 1) return { format: formats[0]!, files };
  if (formats.length === 2 && formats.includes('lhotse-recordings') && formats.includes('lhotse-supervisions')) {
    return { format: 'lhotse-supervisions', files };
  }
  throw new RoteError(
    `mixed manifest formats: ${files.map((f) => `${f.path} is ${f.format}`).join(', ')}; give files of one format (lhotse recordings + supervisions may be combined)`,
  );
}

/**
 * The format of every input, for inject and verify alike: detected, or the
 * one forced with --format. A forced lhotse format still lets each file of a
 * recordings + supervisions pair be read as what it is.
 */
export async function manifestFormats(
  paths: string[],
  forced?: ManifestFormat,
): Promise<{ format: ManifestFormat; files: DetectedFile[] }> {
  for (const path of paths)
    await refuseNonRegularFile(path, { what: 'the manifest', why: MANIFEST_READ_TWICE, directories: true });
  if (forced && !forced.startsWith('lhotse-'))
    return { format: forced, files: paths.map((path) => ({ path, format: forced })) };
  const detected = await detectManifestFormat(paths);
  if (!forced) return detected;
  return {
    format: forced,
    files: detected.files.map((f) => ({ path: f.path, format: f.format.startsWith('lhotse-') ? f.format : forced })),
  };
}

/** Expands the user's manifest arguments: plain paths, directories, and `*`/`?` globs in the last path component. */
export async function expandManifestPaths(patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of patterns) {
    if (!/[*?[]/.test(pattern)) {
      out.push(resolve(pattern));
      continue;
    }
    const dir = dirname(pattern);
    if (/[*?[]/.test(dir))
      throw new RoteError(`${pattern}: globs are supported in the file name only, not in directories`);
    const regex = new RegExp(
      `^${basename(pattern)
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      throw new RoteError(`${pattern}: cannot list ${dir} (${(error as NodeJS.ErrnoException).code})`, {
        cause: error,
      });
    }
    const matched = names.filter((name) => regex.test(name) && !name.startsWith('.')).sort();
    if (matched.length === 0) throw new RoteError(`${pattern}: matches no file`);
    out.push(...matched.map((name) => resolve(join(dir, name))));
  }
  return [...new Set(out)];
}
