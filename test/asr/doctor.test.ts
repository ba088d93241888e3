import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diagnose, doctorAdvice } from '../../src/asr/doctor.ts';

test('diagnose: the CPU provider runs; every provider has a verdict; advice follows', async () => {
  const report = await diagnose();
  assert.is(report.providers.cpu, null);
  assert.ok(report.onnxruntime.backends.includes('cpu'));
  assert.equal(Object.keys(report.providers).sort(), ['cpu', 'cuda', 'webgpu']);
  assert.equal(report.advice, doctorAdvice(report));
});

test('doctorAdvice names the one fix for each missing piece', () => {
  const base = {
    node: 'v20',
    platform: 'linux-x64',
    onnxruntime: { version: '1.30.0', binaryDir: '/x', backends: ['cpu', 'cuda'] },
    cudaProvider: { present: [], missing: ['libonnxruntime_providers_cuda.so'] },
    cudaLibraries: { 'libcudnn.so.9': null },
    providers: { cpu: null, cuda: 'not installed', webgpu: 'No supported adapters' },
  };
  assert.match(doctorAdvice(base).join('\n'), 'Fix: `npm run setup:cuda`');
  const libsMissing = doctorAdvice({ ...base, cudaProvider: { present: ['libonnxruntime_providers_cuda.so'], missing: [] } }).join('\n');
  assert.match(libsMissing, 'libcudnn.so.9 is not on the library path');
  assert.match(libsMissing, 'LD_LIBRARY_PATH');
  assert.match(doctorAdvice({ ...base, providers: { ...base.providers, cuda: null } }).join('\n'), 'CUDA works');
  assert.match(doctorAdvice({ ...base, platform: 'darwin-arm64' }).join('\n'), 'Linux x64 only');
});

test.run();
