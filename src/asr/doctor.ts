/**
 * What `rote doctor` checks: ONNX Runtime's backends, the CUDA provider libraries
 * next to libonnxruntime.so.1, CUDA / cuDNN libraries on the library path, and
 * whether each provider can actually run a tiny model. I/O only at the edges:
 * `diagnose` gathers, `doctorAdvice` (pure) decides what to tell the user.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CUDA_PROVIDER_LIBRARIES, missingCudaProviderLibraries, ort, ortBinaryDir, probeProvider, SETUP_CUDA_COMMAND, type ProviderName } from './runtime.ts';

/** Libraries ONNX Runtime's CUDA 12 provider loads (CUDA runtime, cuBLAS, cuFFT, cuRAND, cuDNN 9). */
export const CUDA_RUNTIME_LIBRARIES = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10', 'libcudnn.so.9'];

export interface DoctorReport {
  node: string;
  platform: string;
  onnxruntime: { version: string; binaryDir: string | null; backends: string[] };
  cudaProvider: { present: string[]; missing: string[] };
  /** Each CUDA/cuDNN library and where it was found (null = not found). */
  cudaLibraries: Record<string, string | null>;
  /** null = the provider ran a tiny model; otherwise why not. */
  providers: Record<ProviderName, string | null>;
  advice: string[];
}

async function ldconfigLibraries(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const { stdout } = await promisify(execFile)(ldconfig, ['-p'], { timeout: 5000, maxBuffer: 16 << 20 });
      for (const line of stdout.split('\n')) {
        const match = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
        if (match && !found.has(match[1]!)) found.set(match[1]!, match[2]!);
      }
      return found;
    } catch {
      // try the next location
    }
  }
  return found;
}

/** Finds each library in LD_LIBRARY_PATH, next to ONNX Runtime, or in the ldconfig cache. */
export async function findLibraries(names: string[]): Promise<Record<string, string | null>> {
  const directories = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...(ortBinaryDir() ? [ortBinaryDir()!] : [])];
  const cache = await ldconfigLibraries();
  const result: Record<string, string | null> = {};
  for (const name of names) {
    const inDirectory = directories.find((dir) => existsSync(join(dir, name)));
    result[name] = inDirectory ? join(inDirectory, name) : (cache.get(name) ?? null);
  }
  return result;
}

/** The advice lines for a report: what is missing and the one command or step that fixes it. Pure. */
export function doctorAdvice(report: Omit<DoctorReport, 'advice'>): string[] {
  const advice: string[] = [];
  const linuxX64 = report.platform === 'linux-x64';
  if (report.providers.cuda === null) advice.push('CUDA works: `--provider auto` will use it.');
  else if (!linuxX64) advice.push(`CUDA: onnxruntime-node supports it on Linux x64 only (this is ${report.platform}); use webgpu or cpu.`);
  else if (report.cudaProvider.missing.length > 0) advice.push(`CUDA: ONNX Runtime's CUDA provider is not installed (${report.cudaProvider.missing.join(', ')}). Fix: \`${SETUP_CUDA_COMMAND}\` (needs internet once).`);
  else {
    const missing = Object.entries(report.cudaLibraries).filter(([, where]) => where === null).map(([name]) => name);
    advice.push(
      missing.length > 0
        ? `CUDA: the provider is installed but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on the library path. Fix: install CUDA 12 and cuDNN 9 (e.g. \`pip install nvidia-cudnn-cu12 nvidia-cublas-cu12 nvidia-cuda-runtime-cu12 nvidia-cufft-cu12 nvidia-curand-cu12\`) and add their lib directories to LD_LIBRARY_PATH.`
        : `CUDA: libraries found but the provider failed: ${report.providers.cuda}. Check the driver (nvidia-smi) and that the CUDA major version is 12.`,
    );
  }
  if (report.providers.webgpu === null) advice.push('WebGPU works (Dawn over Vulkan).');
  else advice.push(`WebGPU: not available (${report.providers.webgpu}); it needs a GPU with Vulkan drivers and the Vulkan loader (libvulkan1).`);
  if (report.providers.cpu !== null) advice.push(`CPU provider failed (${report.providers.cpu}): reinstall dependencies with \`npm ci\`.`);
  return advice;
}

export async function diagnose(): Promise<DoctorReport> {
  const require = createRequire(import.meta.url);
  let version = 'unknown';
  try {
    version = (require(join(dirname(require.resolve('onnxruntime-node/package.json')), 'package.json')) as { version: string }).version;
  } catch {
    // reported as unknown
  }
  const binaryDir = ortBinaryDir();
  const missing = missingCudaProviderLibraries();
  const backends = ort.listSupportedBackends?.().map((b: { name: string }) => b.name) ?? [];
  const providers = {} as Record<ProviderName, string | null>;
  for (const name of ['cpu', 'cuda', 'webgpu'] as const) providers[name] = await probeProvider(name);
  const base = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    onnxruntime: { version, binaryDir, backends },
    cudaProvider: { present: CUDA_PROVIDER_LIBRARIES.filter((l) => !missing.includes(l)), missing },
    cudaLibraries: await findLibraries(CUDA_RUNTIME_LIBRARIES),
    providers,
  };
  if (binaryDir && existsSync(binaryDir)) {
    const extra = readdirSync(binaryDir).filter((f) => f.startsWith('libonnxruntime_providers_') && !CUDA_PROVIDER_LIBRARIES.includes(f));
    if (extra.length) base.cudaProvider.present.push(...extra);
  }
  return { ...base, advice: doctorAdvice(base) };
}
