/**
 * transformers.js, the peer of the Hugging Face benches (hf-ctc, whisper), from where
 * scripts/bench/peers/install.sh puts it (.cache/peers, ignored by git; ~470 MB, so not a dependency).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = join(
  ROOT,
  '.cache',
  'peers',
  'node_modules',
  '@huggingface',
  'transformers',
  'dist',
  'transformers.node.mjs',
);

/** The module and its version, or null (after saying how to install it) when it is not installed. */
export async function loadTransformersPeer<T>(bench: string): Promise<{ transformers: T; version: string } | null> {
  if (!existsSync(ENTRY)) {
    console.log(
      'transformers.js is not installed (it is ~470 MB, so it is not a dependency of rote): run\n' +
        '  sh scripts/bench/peers/install.sh\n' +
        'which puts a pinned @huggingface/transformers into .cache/peers/ (ignored by git), then\n' +
        `  npm run bench ${bench}`,
    );
    return null;
  }
  const transformers = (await import(pathToFileURL(ENTRY).href)) as T;
  const version = (JSON.parse(readFileSync(join(ENTRY, '..', '..', 'package.json'), 'utf8')) as { version: string })
    .version;
  return { transformers, version };
}
