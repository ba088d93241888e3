import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PINNED_CUDA_RUNTIME_LIBRARIES } from '../../src/setup/cuda.ts';
import { diagnose, doctorAdvice, type DoctorReport } from '../../src/setup/doctor.ts';
import { summarizeNativeLog } from '../../src/setup/provider-check.ts';

const ROTE = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));

test('diagnose: the CPU provider runs; every provider has a verdict; advice follows', async () => {
  const report = await diagnose();
  assert.is(report.providers.cpu, null);
  assert.ok(report.onnxruntime.backends.includes('cpu'));
  assert.equal(Object.keys(report.providers).sort(), ['cpu', 'cuda', 'webgpu']);
  assert.equal(report.advice, doctorAdvice(report));
});

const located = (name: string, path: string | null, onLoaderPath = true) => ({
  name,
  path,
  source: path ? ('python wheels' as const) : null,
  onLoaderPath,
  otherVersions: [] as string[],
});

test('doctorAdvice names the one fix for each missing piece', () => {
  const wheels = '/venv/lib/python3.11/site-packages/nvidia/cu13/lib';
  const base = {
    node: 'v20',
    platform: 'linux-x64',
    onnxruntime: { version: '1.29.0', binaryDir: '/x', backends: ['cpu', 'cuda'] },
    cudaProvider: { present: [], missing: ['libonnxruntime_providers_cuda.so'] },
    cudaLibraries: { 'libcudnn.so.9': null },
    cuda: {
      requiredFrom: 'test',
      libraries: [
        located('libcudart.so.13', `${wheels}/libcudart.so.13`, false),
        { ...located('libcudnn.so.9', null), otherVersions: ['libcudnn.so.8'] },
      ],
      driver: located('libcuda.so.1', '/usr/lib/x86_64-linux-gnu/libcuda.so.1'),
      additions: [wheels],
      addedByRote: null,
    },
    providers: { cpu: null, cuda: 'not installed', webgpu: 'No supported adapters' },
  };
  assert.match(doctorAdvice(base).join('\n'), 'Fix: `npm run setup:cuda`');
  const installed = { ...base, cudaProvider: { present: ['libonnxruntime_providers_cuda.so'], missing: [] } };
  const libsMissing = doctorAdvice(installed).join('\n');
  assert.match(libsMissing, 'libcudnn.so.9 is not on this machine (found other major versions only: libcudnn.so.8)');
  assert.match(
    libsMissing,
    'Fix: `pip install "nvidia-cuda-runtime==13.*" "nvidia-cublas==13.*" nvidia-curand nvidia-cudnn-cu13`',
  );
  const allFound = { ...installed.cuda, libraries: [installed.cuda.libraries[0]!] };
  const offPath = doctorAdvice({ ...installed, cuda: allFound }).join('\n');
  assert.match(offPath, `export LD_LIBRARY_PATH=${wheels}`);
  const noDriver = doctorAdvice({ ...installed, cuda: { ...allFound, driver: located('libcuda.so.1', null) } }).join(
    '\n',
  );
  assert.match(noDriver, 'no NVIDIA driver');
  const failed = doctorAdvice({
    ...installed,
    cuda: { ...allFound, additions: [] },
    providers: { ...base.providers, cuda: 'CUDA failure 35' },
  }).join('\n');
  assert.match(failed, 'every library was found but the provider failed: CUDA failure 35');
  assert.match(
    doctorAdvice({
      ...base,
      providers: { ...base.providers, cuda: null },
      cuda: { ...base.cuda, addedByRote: wheels },
    }).join('\n'),
    `CUDA works: \`--provider auto\` will use it (rote put ${wheels} on LD_LIBRARY_PATH)`,
  );
  assert.match(doctorAdvice({ ...base, platform: 'darwin-arm64' }).join('\n'), 'Linux x64 only');
});

test('diagnose names every library the CUDA provider needs, found or not, and the driver', async () => {
  const report = await diagnose();
  assert.equal(
    report.cuda.libraries.map((l) => l.name),
    [...PINNED_CUDA_RUNTIME_LIBRARIES],
  );
  assert.is(report.cuda.driver.name, 'libcuda.so.1');
  assert.equal(Object.keys(report.cudaLibraries), [...PINNED_CUDA_RUNTIME_LIBRARIES, 'libcuda.so.1']);
  for (const l of report.cuda.libraries) assert.ok(l.path === null || existsSync(l.path), `${l.name} at ${l.path}`);
});

test('rote doctor: native stderr of the provider probes (Dawn, the Vulkan loader) is captured, one line per provider', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [ROTE, 'doctor']);
  // On a machine without a GPU, WebGPU's probe used to print the Vulkan loader's and Dawn's warnings here.
  assert.is(stderr, '');
  const lines = stdout.split('\n');
  const first = lines.indexOf('providers (tiny test model):');
  assert.equal(
    lines.slice(first + 1, first + 4).map((line) => /^ {2}(?:runs {3}|fails {2}) (\w+)/.exec(line)?.[1]),
    ['cpu', 'cuda', 'webgpu'],
  );
  assert.is(lines[first + 4], '');
  const { stdout: json } = await promisify(execFile)(process.execPath, [ROTE, 'doctor', '--json']);
  const report = JSON.parse(json) as DoctorReport;
  assert.equal(Object.keys(report.nativeLog).sort(), ['cpu', 'cuda', 'webgpu']);
  for (const [name, log] of Object.entries(report.nativeLog)) {
    const summary = summarizeNativeLog(log);
    if (summary)
      assert.match(
        stdout,
        `${name}${report.providers[name as 'cpu'] ? `: ${report.providers[name as 'cpu']}` : ''} (its native stderr: ${summary}; --json has every line)\n`,
      );
  }
});

test('summarizeNativeLog: messages counted once, continuation lines folded, the last message shown', () => {
  const dawn = [
    'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
    'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
    'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.',
    ' - While initializing adapter (backend=BackendType::Vulkan)',
    '    at InitializeImpl (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:236)',
  ];
  assert.is(
    summarizeNativeLog(dawn),
    '2 messages, last: "Warning: Vulkan shaderUniform*ArrayDynamicIndexing required."',
  );
  assert.is(summarizeNativeLog([]), null);
  assert.is(summarizeNativeLog(['  indented only']), '1 line');
});

test.run();
