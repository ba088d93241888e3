/**
 * The one module that owns ONNX Runtime: execution providers, the deliberate
 * fallback (onnxruntime-node has none: `['cuda', 'cpu']` throws when CUDA cannot
 * load), session creation and timed runs.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { RoteError } from '../util/errors.ts';
import { OptionError } from '../util/options.ts';
import { protoField } from './onnx-file.ts';

import { AUTO_ORDER, PROVIDER_NAMES, type ProviderChoice, type ProviderName } from './providers.ts';
export { AUTO_ORDER, PROVIDER_CHOICES, PROVIDER_NAMES, type ProviderChoice, type ProviderName } from './providers.ts';

export interface ProviderReport {
  used: ProviderName;
  /** Every provider tried, in order; `error` says why one did not run. */
  tried: { name: ProviderName; error?: string }[];
}

export interface RuntimeOptions {
  provider?: ProviderChoice;
  deviceId?: number;
  /** Intra-op threads for the CPU provider (default: ONNX Runtime's choice). */
  threads?: number;
}

export const SETUP_CUDA_COMMAND = 'npm run setup:cuda';

/** Where onnxruntime-node keeps libonnxruntime.so.1 on this platform (null when not found). */
export function ortBinaryDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = join(root, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

export const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/** Missing CUDA provider libraries next to libonnxruntime.so.1 (empty = all there). */
export function missingCudaProviderLibraries(): string[] {
  const dir = ortBinaryDir();
  if (process.platform !== 'linux' || process.arch !== 'x64') return CUDA_PROVIDER_LIBRARIES;
  if (!dir) return CUDA_PROVIDER_LIBRARIES;
  return CUDA_PROVIDER_LIBRARIES.filter((name) => !existsSync(join(dir, name)));
}

/** The informative part of an ONNX Runtime error: first line, without its source-file prefix and assertion text. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  let line = message.split('\n').find((l) => l.trim().length > 0)?.trim() ?? 'unknown error';
  const assertion = line.lastIndexOf(' was false. ');
  if (assertion >= 0) line = line.slice(assertion + ' was false. '.length);
  line = line.replace(/^\/\S+:\d+ \S+(\([^)]*\))*\S* /, '');
  return line.length > 400 ? `${line.slice(0, 400)}...` : line;
}

function executionProvider(name: ProviderName, deviceId: number): ort.InferenceSession.ExecutionProviderConfig {
  if (name === 'cuda') return { name: 'cuda', deviceId };
  if (name === 'webgpu') return { name: 'webgpu' };
  return { name: 'cpu' };
}

function sessionOptions(name: ProviderName, options: RuntimeOptions): ort.InferenceSession.SessionOptions {
  const result: ort.InferenceSession.SessionOptions = {
    executionProviders: [executionProvider(name, options.deviceId ?? 0)],
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  if (options.threads !== undefined) result.intraOpNumThreads = options.threads;
  return result;
}

/** Why a provider cannot run, checked before asking ONNX Runtime (null = worth trying). */
/**
 * Under `auto`, WebGPU is tried only where a GPU device node exists: on a
 * machine without one, Dawn spends ~0.3 s and prints native Vulkan warnings
 * to stderr before failing. An explicit `--provider webgpu` always tries.
 */
function autoPrecheck(name: ProviderName): string | null {
  if (name !== 'webgpu' || process.platform !== 'linux') return null;
  const nodes = ['/dev/dri', '/dev/nvidiactl', '/dev/nvidia0', '/dev/kfd'];
  if (nodes.some((node) => existsSync(node))) return null;
  return `skipped: no GPU device node (${nodes.join(', ')}) on this machine; --provider webgpu tries anyway`;
}

function precheck(name: ProviderName): string | null {
  if (name !== 'cuda') return null;
  if (process.platform !== 'linux' || process.arch !== 'x64') return `onnxruntime-node supports CUDA on Linux x64 only (this is ${process.platform} ${process.arch})`;
  const missing = missingCudaProviderLibraries();
  if (missing.length > 0) return `CUDA provider libraries not installed: ${missing.join(', ')} missing next to libonnxruntime.so.1 in ${ortBinaryDir() ?? 'onnxruntime-node'}`;
  return null;
}

function fixFor(name: ProviderName): string {
  if (name === 'cuda') return `run \`${SETUP_CUDA_COMMAND}\` (Linux x64, needs internet) to install ONNX Runtime's CUDA provider, make sure CUDA 12 and cuDNN 9 libraries are on the library path (see \`rote doctor\`), or use --provider auto or cpu`;
  if (name === 'webgpu') return 'WebGPU needs a GPU with Vulkan drivers (check `rote doctor`); use --provider auto or cpu';
  return 'check that onnxruntime-node is installed (`npm ci`)';
}

export interface SessionSet {
  sessions: ort.InferenceSession[];
  report: ProviderReport;
}

/**
 * Creates one session per model file, all on the same provider. `auto` tries
 * cuda, webgpu, cpu in order, catching each failure; a named provider that fails
 * is a RoteError naming the fix.
 */
export async function createSessions(paths: string[], options: RuntimeOptions = {}): Promise<SessionSet> {
  const requested = options.provider ?? 'auto';
  if (requested !== 'auto' && !PROVIDER_NAMES.includes(requested)) {
    throw new RoteError(`unknown provider "${String(requested)}"; use one of auto, ${PROVIDER_NAMES.join(', ')}`);
  }
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new OptionError((name) => `${name('threads')} must be a positive integer, got ${options.threads}`);
  }
  if (options.deviceId !== undefined && (!Number.isInteger(options.deviceId) || options.deviceId < 0)) {
    throw new OptionError((name) => `${name('deviceId')} must be a non-negative integer, got ${options.deviceId}`);
  }
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  const tried: ProviderReport['tried'] = [];
  for (const name of order) {
    const reason = precheck(name) ?? (requested === 'auto' ? autoPrecheck(name) : null);
    if (reason) {
      tried.push({ name, error: reason });
      continue;
    }
    const sessions: ort.InferenceSession[] = [];
    try {
      for (const path of paths) sessions.push(await ort.InferenceSession.create(path, sessionOptions(name, options)));
      tried.push({ name });
      return { sessions, report: { used: name, tried } };
    } catch (error) {
      await Promise.all(sessions.map((s) => s.release().catch(() => undefined)));
      if (name === 'cpu') {
        throw new RoteError(`ONNX Runtime cannot load ${paths.join(', ')} on the CPU: ${firstLine(error)}; check the file is a complete ONNX model`, { cause: error });
      }
      tried.push({ name, error: firstLine(error) });
    }
  }
  const last = tried[tried.length - 1]!;
  throw new RoteError(`provider ${last.name} is not available: ${last.error}. Fix: ${fixFor(last.name)}`);
}

/** One sentence per provider that did not run, for reports. */
export function describeProviderReport(report: ProviderReport): string {
  const skipped = report.tried.filter((t) => t.error).map((t) => `${t.name}: ${t.error}`);
  return skipped.length ? `ran on ${report.used} (not used: ${skipped.join('; ')})` : `ran on ${report.used}`;
}

/** Accumulates time spent inside session.run. */
export class RunClock {
  runMs = 0;
  runs = 0;
  async run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, describe: () => string): Promise<ort.InferenceSession.OnnxValueMapType> {
    const started = performance.now();
    try {
      return await session.run(feeds);
    } catch (error) {
      throw new RoteError(`model input mismatch or model failure: ${describe()}: ${firstLine(error)}`, { cause: error });
    } finally {
      this.runMs += performance.now() - started;
      this.runs++;
    }
  }
}

export { ort };

/** A minimal ONNX model (y = Identity(x), float [1]) for probing whether a provider can run at all. */
export function identityModelBytes(): Uint8Array {
  const tensorType = (name: string): number[] =>
    protoField(11, [...protoField(1, name), ...protoField(2, protoField(1, [...protoField(1, 1), ...protoField(2, protoField(1, protoField(1, 1)))]))]);
  const node = protoField(1, [...protoField(1, 'x'), ...protoField(2, 'y'), ...protoField(4, 'Identity')]);
  const graph = [...node, ...protoField(2, 'probe'), ...tensorType('x').map((b) => b)];
  const output = tensorType('y');
  output[0] = 12 * 8 + 2; // graph.output = 12 (same layout as input = 11)
  return Uint8Array.from([...protoField(1, 7), ...protoField(8, [...protoField(1, ''), ...protoField(2, 13)]), ...protoField(7, [...graph, ...output])]);
}

/** Tries to create (and run) a session on one provider; returns null when it works, else the reason. */
export async function probeProvider(name: ProviderName, options: RuntimeOptions = {}): Promise<string | null> {
  const reason = precheck(name);
  if (reason) return reason;
  try {
    const session = await ort.InferenceSession.create(identityModelBytes(), sessionOptions(name, options));
    await session.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) });
    await session.release();
    return null;
  } catch (error) {
    return firstLine(error);
  }
}
