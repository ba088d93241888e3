/**
 * What `rote doctor` checks: ONNX Runtime's backends, the CUDA provider libraries
 * next to libonnxruntime.so.1, the CUDA / cuDNN libraries the provider needs (where
 * they were found: cuda.ts), and
 * whether each provider can actually run a tiny model. I/O only at the edges:
 * `diagnose` gathers, `doctorAdvice` (pure) decides what to tell the user.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CUDA_PROVIDER_LIBRARIES,
  CUDA_PROVIDER_PACKAGE,
  cudaLibraryReport,
  missingCudaProviderLibraries,
  ortBinaryDir,
  pipCommandFor,
  REEXEC_MARKER,
  SETUP_CUDA_COMMAND,
  type LibraryLocation,
} from './cuda.ts';
import { probeProvider } from './provider-check.ts';
import type { ProviderName } from './providers.ts';

export interface DoctorReport {
  node: string;
  platform: string;
  onnxruntime: { version: string; binaryDir: string | null; backends: string[] };
  cudaProvider: { present: string[]; missing: string[] };
  /** Each CUDA/cuDNN library the provider needs and where it was found (null = not found). */
  cudaLibraries: Record<string, string | null>;
  /** The same with how each was found, the driver, and what rote adds to LD_LIBRARY_PATH. */
  cuda: {
    requiredFrom: string;
    libraries: LibraryLocation[];
    driver: LibraryLocation;
    /** Found off the loader path and not yet on it (bin/rote.js adds them when it starts). */
    additions: string[];
    /** What bin/rote.js added to LD_LIBRARY_PATH before this process started (null = nothing). */
    addedByRote: string | null;
  };
  /** null = the provider ran a tiny model; otherwise why not. */
  providers: Record<ProviderName, string | null>;
  /** What native code wrote to stderr while each provider was probed (in a child process), line by line. */
  nativeLog: Record<ProviderName, string[]>;
  advice: string[];
}

/** The advice lines for a report: what is missing and the one command or step that fixes it. Pure. */
export function doctorAdvice(report: Omit<DoctorReport, 'advice' | 'nativeLog'>): string[] {
  const advice: string[] = [];
  const linuxX64 = report.platform === 'linux-x64';
  const cuda = report.cuda;
  const missing = cuda.libraries.filter((l) => !l.path);
  if (report.providers.cuda === null)
    advice.push(
      `CUDA works: \`--provider auto\` will use it${cuda.addedByRote ? ` (rote put ${cuda.addedByRote} on LD_LIBRARY_PATH)` : ''}.`,
    );
  else if (!linuxX64)
    advice.push(
      `CUDA: onnxruntime-node supports it on Linux x64 only (this is ${report.platform}); use webgpu or cpu.`,
    );
  else if (report.cudaProvider.missing.length > 0)
    advice.push(
      `CUDA: ONNX Runtime's CUDA provider is not installed (${report.cudaProvider.missing.join(', ')}). Fix: \`${SETUP_CUDA_COMMAND}\` (downloads ${CUDA_PROVIDER_PACKAGE.name}@${CUDA_PROVIDER_PACKAGE.version} from the npm registry).`,
    );
  else if (missing.length > 0) {
    const others = missing.flatMap((l) => l.otherVersions);
    advice.push(
      `CUDA: the provider is installed but ${missing.map((l) => l.name).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on this machine${others.length ? ` (found other major versions only: ${others.join(', ')})` : ''}. Fix: \`${pipCommandFor(cuda.libraries.map((l) => l.name))}\` (rote finds the wheels' libraries itself), or a CUDA toolkit with cuDNN 9 (set ROTE_CUDA_LIBRARY_PATH if it is somewhere unusual).`,
    );
  } else if (!cuda.driver.path)
    advice.push(
      `CUDA: no NVIDIA driver (${cuda.driver.name} not found). Fix: install the NVIDIA driver; \`nvidia-smi\` must work.`,
    );
  else if (cuda.additions.length > 0)
    advice.push(
      `CUDA: libraries found off the loader path (${cuda.additions.join(', ')}). Fix: start rote through \`rote\` / bin/rote.js (it adds them itself), or \`export LD_LIBRARY_PATH=${cuda.additions.join(':')}\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\` for the API.`,
    );
  else
    advice.push(
      `CUDA: every library was found but the provider failed: ${report.providers.cuda}. Check the driver (\`nvidia-smi\`; CUDA ${CUDA_PROVIDER_PACKAGE.cudaMajor} needs driver 580 or newer).`,
    );
  if (report.providers.webgpu === null) advice.push('WebGPU works (Dawn over Vulkan).');
  else
    advice.push(
      `WebGPU: not available (${report.providers.webgpu}); it needs a GPU with Vulkan drivers and the Vulkan loader (libvulkan1).`,
    );
  if (report.providers.cpu !== null)
    advice.push(`CPU provider failed (${report.providers.cpu}): reinstall dependencies with \`npm ci\`.`);
  return advice;
}

export async function diagnose(): Promise<DoctorReport> {
  const require = createRequire(import.meta.url);
  let version = 'unknown';
  try {
    version = (
      require(join(dirname(require.resolve('onnxruntime-node/package.json')), 'package.json')) as { version: string }
    ).version;
  } catch {
    // reported as unknown
  }
  const binaryDir = ortBinaryDir();
  const missing = missingCudaProviderLibraries();
  const backends = ort.listSupportedBackends?.().map((b: { name: string }) => b.name) ?? [];
  const providers = {} as Record<ProviderName, string | null>;
  const nativeLog = {} as Record<ProviderName, string[]>;
  for (const name of ['cpu', 'cuda', 'webgpu'] as const)
    ({ error: providers[name], nativeLog: nativeLog[name] } = await probeProvider(name));
  const libraries = cudaLibraryReport();
  const base = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    onnxruntime: { version, binaryDir, backends },
    cudaProvider: { present: CUDA_PROVIDER_LIBRARIES.filter((l) => !missing.includes(l)), missing },
    cudaLibraries: Object.fromEntries([...libraries.libraries, libraries.driver].map((l) => [l.name, l.path])),
    cuda: {
      requiredFrom: libraries.required.source,
      libraries: libraries.libraries,
      driver: libraries.driver,
      additions: libraries.additions,
      addedByRote:
        process.env[REEXEC_MARKER] && process.env[REEXEC_MARKER] !== 'off' ? process.env[REEXEC_MARKER]! : null,
    },
    providers,
  };
  if (binaryDir && existsSync(binaryDir)) {
    const extra = readdirSync(binaryDir).filter(
      (f) => f.startsWith('libonnxruntime_providers_') && !CUDA_PROVIDER_LIBRARIES.includes(f),
    );
    if (extra.length) base.cudaProvider.present.push(...extra);
  }
  return { ...base, nativeLog, advice: doctorAdvice(base) };
}
