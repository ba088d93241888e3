/**
 * Which execution providers can run on this machine, why one cannot, and the fix: the
 * checks before ONNX Runtime is asked (platform, the CUDA libraries of cuda.ts, a GPU
 * device node for WebGPU), ONNX Runtime's errors made readable, the session options
 * each provider gets, and a probe that runs a tiny model on one provider in a child
 * process (probe-child.mjs). Used by src/asr/runtime.ts (fallback and errors) and by
 * doctor.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-node';
import { protoField } from '../util/protobuf.ts';
import {
  CUDA_PROVIDER_PACKAGE,
  cudaLibraryReport,
  dlopenError,
  ortBinaryDir,
  pipCommandFor,
  REEXEC_MARKER,
  SETUP_CUDA_COMMAND,
  type CudaLibraryReport,
} from './cuda.ts';
import type { ProviderName } from './providers.ts';

/** Session settings that depend on the machine, not the model. */
export interface ProviderOptions {
  deviceId?: number;
  /** Intra-op threads for the CPU provider (default: ONNX Runtime's choice). */
  threads?: number;
}

/** The informative part of an ONNX Runtime error: first line, without its source-file prefix and assertion text. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  let line =
    message
      .split('\n')
      .find((l) => l.trim().length > 0)
      ?.trim() ?? 'unknown error';
  const assertion = line.lastIndexOf(' was false. ');
  if (assertion >= 0) line = line.slice(assertion + ' was false. '.length);
  line = line.replace(/^\/\S+:\d+ \S+(\([^)]*\))*\S* /, '');
  return line.length > 400 ? `${line.slice(0, 400)}...` : line;
}

/** ONNX Runtime's error, and for a CUDA provider that did not load, the loader's reason (the library it names). */
export function providerError(name: ProviderName, error: unknown): string {
  const line = firstLine(error);
  if (name !== 'cuda' || !line.includes('Failed to load shared library')) return line;
  const dir = ortBinaryDir();
  const reason = dir ? dlopenError(join(dir, 'libonnxruntime_providers_cuda.so')) : null;
  return reason ? `${line}: ${reason}` : line;
}

function executionProvider(name: ProviderName, deviceId: number): InferenceSession.ExecutionProviderConfig {
  if (name === 'cuda') return { name: 'cuda', deviceId };
  if (name === 'webgpu') return { name: 'webgpu' };
  return { name: 'cpu' };
}

export function sessionOptions(name: ProviderName, options: ProviderOptions): InferenceSession.SessionOptions {
  const result: InferenceSession.SessionOptions = {
    executionProviders: [executionProvider(name, options.deviceId ?? 0)],
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  };
  if (options.threads !== undefined) result.intraOpNumThreads = options.threads;
  // The CPU provider's intra-op threads sleep between parallel sections instead of spinning:
  // a spinning thread holds a core that the other thread, the features or other processes
  // need (scripts/bench/RESULTS.md, transcribe, 2026-12-07).
  if (name === 'cpu') result.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return result;
}

/** Why a provider cannot run, checked before asking ONNX Runtime (null = worth trying). */
/**
 * Under `auto`, WebGPU is tried only where a GPU device node exists: on a
 * machine without one, Dawn spends ~0.3 s and prints native Vulkan warnings
 * to stderr before failing. An explicit `--provider webgpu` always tries.
 */
export function autoPrecheck(name: ProviderName): string | null {
  if (name !== 'webgpu' || process.platform !== 'linux') return null;
  const nodes = ['/dev/dri', '/dev/nvidiactl', '/dev/nvidia0', '/dev/kfd'];
  if (nodes.some((node) => existsSync(node))) return null;
  return `skipped: no GPU device node (${nodes.join(', ')}) on this machine; --provider webgpu tries anyway`;
}

/**
 * Why CUDA cannot run, from the libraries alone (null = worth asking ONNX Runtime).
 * ONNX Runtime's own error is only "Failed to load shared library" (the missing
 * library goes to its log on stderr), so rote names it here.
 */
export function cudaMissingReason(report: CudaLibraryReport): string | null {
  if (report.providerMissing.length > 0) {
    return `CUDA provider libraries not installed: ${report.providerMissing.join(', ')} missing next to libonnxruntime.so.1 in ${report.providerDir ?? 'onnxruntime-node'}`;
  }
  const missing = report.libraries.filter((l) => !l.path);
  if (missing.length > 0) {
    const others = missing.flatMap((l) => l.otherVersions).filter(Boolean);
    return `CUDA runtime ${missing.length === 1 ? 'library' : 'libraries'} ${missing.map((l) => l.name).join(', ')} not found (the provider needs these exact major versions${others.length ? `; found only ${others.join(', ')}` : ''})`;
  }
  if (!report.driver.path)
    return `NVIDIA driver library ${report.driver.name} not found (no NVIDIA driver on this machine)`;
  if (report.additions.length > 0) {
    return `CUDA libraries found but not on the loader path: ${report.additions.join(', ')} (bin/rote.js adds them itself; from the API start node with LD_LIBRARY_PATH=${report.additions.join(':')})`;
  }
  return null;
}

export function precheck(name: ProviderName): string | null {
  if (name !== 'cuda') return null;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `onnxruntime-node supports CUDA on Linux x64 only (this is ${process.platform} ${process.arch})`;
  return cudaMissingReason(cudaLibraryReport());
}

export function fixFor(name: ProviderName, reason = ''): string {
  if (name === 'cuda') {
    if (reason.startsWith('CUDA provider libraries not installed'))
      return `run \`${SETUP_CUDA_COMMAND}\` (Linux x64, downloads ${CUDA_PROVIDER_PACKAGE.name} from the npm registry), or use --provider auto or cpu`;
    if (reason.startsWith('NVIDIA driver'))
      return 'install the NVIDIA driver (`nvidia-smi` must work), or use --provider auto or cpu';
    if (reason.startsWith('CUDA runtime'))
      return `install the CUDA ${CUDA_PROVIDER_PACKAGE.cudaMajor} runtime and cuDNN 9 (\`${pipCommandFor(cudaLibraryReport().required.libraries)}\`; rote finds them in Python wheels and CUDA toolkits), or use --provider auto or cpu; \`rote doctor\` lists what it found`;
    if (reason.startsWith('CUDA libraries found'))
      return `start rote through bin/rote.js, or set LD_LIBRARY_PATH as shown`;
    return `check the driver (\`nvidia-smi\`) and \`rote doctor\`${process.env[REEXEC_MARKER] && process.env[REEXEC_MARKER] !== 'off' ? ` (rote added ${process.env[REEXEC_MARKER]} to LD_LIBRARY_PATH)` : ''}, or use --provider auto or cpu`;
  }
  if (name === 'webgpu')
    return 'WebGPU needs a GPU with Vulkan drivers (check `rote doctor`); use --provider auto or cpu';
  return 'check that onnxruntime-node is installed (`npm ci`)';
}

/** A minimal ONNX model (y = Identity(x), float [1]) for probing whether a provider can run at all. */
function identityModelBytes(): Uint8Array {
  const tensorType = (name: string): number[] =>
    protoField(11, [
      ...protoField(1, name),
      ...protoField(2, protoField(1, [...protoField(1, 1), ...protoField(2, protoField(1, protoField(1, 1)))])),
    ]);
  const node = protoField(1, [...protoField(1, 'x'), ...protoField(2, 'y'), ...protoField(4, 'Identity')]);
  const graph = [...node, ...protoField(2, 'probe'), ...tensorType('x').map((b) => b)];
  const output = tensorType('y');
  output[0] = 12 * 8 + 2; // graph.output = 12 (same layout as input = 11)
  return Uint8Array.from([
    ...protoField(1, 7),
    ...protoField(8, [...protoField(1, ''), ...protoField(2, 13)]),
    ...protoField(7, [...graph, ...output]),
  ]);
}

export interface ProviderProbe {
  /** null: the provider ran a tiny model; otherwise why not. */
  error: string | null;
  /** What native code wrote to stderr meanwhile (Dawn, the Vulkan loader, CUDA), line by line. */
  nativeLog: string[];
}

const PROBE_CHILD = fileURLToPath(new URL('./probe-child.mjs', import.meta.url));
const PROBE_TIMEOUT_MS = 120_000;

/**
 * Tries to create (and run) a session on one provider, in a child process (probe-child.mjs) whose stderr is
 * captured: native warnings reach the report, not the terminal, and a native crash fails the probe, not rote.
 */
export async function probeProvider(name: ProviderName, options: ProviderOptions = {}): Promise<ProviderProbe> {
  const reason = precheck(name);
  if (reason) return { error: reason, nativeLog: [] };
  const input = JSON.stringify({
    model: Buffer.from(identityModelBytes()).toString('base64'),
    options: sessionOptions(name, options),
  });
  const { stdout, stderr, failure } = await new Promise<{ stdout: string; stderr: string; failure: string | null }>(
    (done) =>
      execFile(
        process.execPath,
        [PROBE_CHILD, input],
        { timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 22 },
        (error, stdout, stderr) => {
          const ended = error as (Error & { code?: number | string; signal?: string; killed?: boolean }) | null;
          const failure = !ended
            ? null
            : ended.killed
              ? `the probe did not finish within ${PROBE_TIMEOUT_MS / 1000} s`
              : ended.signal
                ? `the probe process was killed by ${ended.signal} (a crash in native code)`
                : `the probe process failed (${typeof ended.code === 'string' ? ended.code : `exit ${ended.code}`})`;
          done({ stdout, stderr, failure });
        },
      ),
  );
  const nativeLog = stderr.split('\n').filter((line) => line.trim().length > 0);
  let answer: { error: string | null } | null = null;
  try {
    answer = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { error: string | null };
  } catch {
    // no answer: the failure says why
  }
  if (!answer) {
    const last = nativeLog.at(-1);
    return {
      error: `${failure ?? 'the probe process gave no answer'}${last ? `; its last words: ${last.trim()}` : ''}`,
      nativeLog,
    };
  }
  return { error: answer.error === null ? null : providerError(name, new Error(answer.error)), nativeLog };
}

/**
 * One line for a probe's native log: how many messages (continuation lines, indented or starting with "-",
 * belong to the message above; repeats count once) and the last of them (Dawn ends with why it gave up). Pure.
 */
export function summarizeNativeLog(lines: readonly string[]): string | null {
  const messages = [...new Set(lines.filter((line) => !/^\s|^-/.test(line)).map((line) => line.trim()))];
  if (messages.length === 0)
    return lines.length > 0 ? `${lines.length} ${lines.length === 1 ? 'line' : 'lines'}` : null;
  const last = messages.at(-1)!;
  const shown = last.length > 160 ? `${last.slice(0, 160)}...` : last;
  return `${messages.length} ${messages.length === 1 ? 'message' : 'messages'}, last: "${shown}"`;
}
