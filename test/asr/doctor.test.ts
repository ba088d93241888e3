import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { PINNED_CUDA_RUNTIME_LIBRARIES } from '../../src/asr/cuda.ts';
import { diagnose, doctorAdvice } from '../../src/asr/doctor.ts';

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

test.run();
