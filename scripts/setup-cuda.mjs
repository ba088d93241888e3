#!/usr/bin/env node
/**
 * `npm run setup:cuda`: installs ONNX Runtime's CUDA 12 execution provider for
 * onnxruntime-node (Linux x64, needs internet once). `npm ci` skips it on purpose
 * (.npmrc: onnxruntime-node-install=skip), because the libraries come from NuGet,
 * not from the npm registry. This script never runs as part of npm ci or npm test.
 *
 * It runs `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` with
 * ONNXRUNTIME_NODE_INSTALL=cuda12 (the environment variable wins over .npmrc), then
 * reports where the provider libraries landed: next to libonnxruntime.so.1 in
 * node_modules/onnxruntime-node/bin/napi-v6/linux/x64/. CUDA 12 and cuDNN 9
 * themselves must be installed separately; `rote doctor` checks everything.
 *
 * Options: --dry-run prints what would run and what is there now.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binaryDir = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
const PROVIDER_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
const dryRun = process.argv.includes('--dry-run');

function report() {
  const present = existsSync(binaryDir) ? readdirSync(binaryDir).filter((f) => f.startsWith('libonnxruntime')) : [];
  console.log(`ONNX Runtime libraries in ${binaryDir}:`);
  for (const name of present) console.log(`  ${name} (${(statSync(join(binaryDir, name)).size / 1e6).toFixed(1)} MB)`);
  const missing = PROVIDER_LIBRARIES.filter((name) => !present.includes(name));
  if (missing.length) console.log(`missing: ${missing.join(', ')}`);
  return missing;
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`setup:cuda: onnxruntime-node ships a CUDA provider for Linux x64 only (this is ${process.platform} ${process.arch}); use --provider webgpu or cpu.`);
  process.exit(1);
}
if (!existsSync(join(root, 'node_modules', 'onnxruntime-node'))) {
  console.error('setup:cuda: onnxruntime-node is not installed; run `npm ci` first.');
  process.exit(1);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const args = ['rebuild', 'onnxruntime-node', '--onnxruntime-node-install=cuda12', '--foreground-scripts'];
console.log(`${dryRun ? 'would run' : 'running'}: ONNXRUNTIME_NODE_INSTALL=cuda12 ${npm} ${args.join(' ')}`);
if (dryRun) {
  report();
  process.exit(0);
}
const result = spawnSync(npm, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' } });
if (result.error) {
  console.error(`setup:cuda: could not start npm (${result.error.message})`);
  process.exit(1);
}
const missing = report();
if (result.status !== 0 || missing.length > 0) {
  console.error(
    `setup:cuda: the CUDA provider was not installed (npm exited ${result.status}). It downloads from NuGet (api.nuget.org): check the network or proxy, then rerun.`,
  );
  process.exit(1);
}
console.log('CUDA provider installed. It also needs CUDA 12 and cuDNN 9 libraries on the library path: run `node bin/rote.js doctor` to check.');
