import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Digests of whole manifest files (the injection receipt). XXH3-64 is the
 * default: the receipt's hashes identify files, they do not authenticate
 * them, and it costs next to nothing (~20 GB/s through @node-rs/xxhash's
 * native code here, against ~1.4 GB/s for OpenSSL's sha256 and ~4 GB/s for
 * xxh128 in WebAssembly). Where the native package cannot load, hash-wasm's
 * XXH3-64 gives the same digest, slower. sha256 is there for receipts that
 * must resist deliberate tampering. Digests print as "<algorithm>:<hex>"
 * (xxh3: 16 hex digits, as `xxhsum -H3` prints them).
 */
export type FileHashAlgorithm = 'xxh3' | 'sha256';
export const FILE_HASH_ALGORITHMS: readonly FileHashAlgorithm[] = ['xxh3', 'sha256'];

/** A streaming digest; `digest()` returns "<algorithm>:<hex>". */
export interface StreamingHash {
  update(data: Uint8Array): void;
  digest(): string;
}

interface NativeXxh3 {
  update(input: Uint8Array): unknown;
  digest(): bigint;
}
type NativeXxhash = { xxh3: { Xxh3: { withSeed(seed?: bigint): NativeXxh3 } } };

let native: NativeXxhash | null | undefined;

/** @node-rs/xxhash, or null where its native binary does not load (then hash-wasm stands in). */
function nativeXxhash(): NativeXxhash | null {
  if (native === undefined) {
    try {
      native = createRequire(import.meta.url)('@node-rs/xxhash') as NativeXxhash;
    } catch {
      native = null;
    }
  }
  return native;
}

/** Which XXH3 implementation createFileHash uses: 'native' or 'wasm' (forced with `implementation`). */
export type Xxh3Implementation = 'native' | 'wasm';

export function xxh3Implementation(): Xxh3Implementation {
  return nativeXxhash() ? 'native' : 'wasm';
}

export async function createFileHash(
  algorithm: FileHashAlgorithm,
  implementation: Xxh3Implementation = xxh3Implementation(),
): Promise<StreamingHash> {
  if (algorithm === 'sha256') {
    const hash = createHash('sha256');
    return { update: (data) => void hash.update(data), digest: () => `sha256:${hash.digest('hex')}` };
  }
  const xxhash = implementation === 'native' ? nativeXxhash() : null;
  if (xxhash) {
    const hash = xxhash.xxh3.Xxh3.withSeed(0n);
    return {
      update: (data) => void hash.update(data),
      digest: () => `xxh3:${hash.digest().toString(16).padStart(16, '0')}`,
    };
  }
  // Through require, like the native package: worker bundles (src/util/worker-bundle.ts) then leave it out.
  const { createXXHash3 } = createRequire(import.meta.url)('hash-wasm') as typeof import('hash-wasm');
  const hash = await createXXHash3();
  hash.init();
  return { update: (data) => void hash.update(data), digest: () => `xxh3:${hash.digest('hex')}` };
}

/** The digest of a file's stored bytes, streamed. */
export async function hashFile(path: string, algorithm: FileHashAlgorithm): Promise<string> {
  const hash = await createFileHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest();
}
