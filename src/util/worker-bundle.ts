/**
 * Worker entries written in TypeScript start as one esbuild bundle (esbuild is
 * installed already: tsx is built on it): the entry and everything it imports
 * become one ES module, started from a data: URL with no execArgv, so no worker
 * loads tsx (measured: ~0.12 s to a ready worker, against ~0.5-0.8 s through
 * tsx). Each entry is bundled once per process.
 */
import { fileURLToPath } from 'node:url';
import { RoteError } from './errors.ts';

const bundles = new Map<string, Promise<URL>>();

/** The bundle of `entry` as a data: URL for `new Worker`; `what` names it in errors ("the feature worker"). */
export function workerBundle(entry: URL, what: string): Promise<URL> {
  let bundle = bundles.get(entry.href);
  if (!bundle) {
    bundle = (async () => {
      const { build } = await import('esbuild');
      const result = await build({
        entryPoints: [fileURLToPath(entry)],
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        write: false,
        logLevel: 'silent',
        // The bundled modules use import.meta.url only to createRequire packages
        // (wavefile, fft.js, @node-rs/xxhash): resolve them from the entry's real location.
        define: { 'import.meta.url': JSON.stringify(entry.href) },
      });
      const code = result.outputFiles[0]!.text;
      return new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    })();
    bundle.catch(() => bundles.delete(entry.href));
    bundles.set(entry.href, bundle);
  }
  return bundle.catch((error: unknown) => {
    throw new RoteError(
      `cannot bundle ${what} (${error instanceof Error ? error.message : String(error)}); esbuild comes with the dependencies: run npm ci`,
      { cause: error },
    );
  });
}
