/**
 * `npm run setup:cuda`: installs ONNX Runtime's CUDA provider for onnxruntime-node
 * from the npm registry (src/setup/cuda-setup.ts; the pinned package and why:
 * docs/cuda.md), then reports the CUDA runtime libraries it needs (as `rote doctor`).
 * Never part of `npm ci` or `npm test`.
 *
 *   npm run setup:cuda                      install (or check) the provider
 *   npm run setup:cuda -- --dry-run         say what would happen, change nothing
 *   npm run setup:cuda -- --without-driver  install on a machine without an NVIDIA
 *                                           driver (an image built without a GPU)
 */
import {
  CUDA_PROVIDER_PACKAGE,
  cudaLibraryReport,
  nvidiaDriver,
  ortBinaryDir,
  pipCommandFor,
} from '../src/setup/cuda.ts';
import { installCudaProvider, removeStaleStaging } from '../src/setup/cuda-setup.ts';
import { RoteError } from '../src/util/errors.ts';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    `usage: npm run setup:cuda [-- --dry-run] [-- --without-driver]\n` +
      `Installs ${CUDA_PROVIDER_PACKAGE.name}@${CUDA_PROVIDER_PACKAGE.version} (ONNX Runtime ${CUDA_PROVIDER_PACKAGE.ortVersion}, CUDA ${CUDA_PROVIDER_PACKAGE.cudaMajor})\n` +
      `from the npm registry next to onnxruntime-node's libonnxruntime.so.1. See docs/cuda.md.\n`,
  );
  process.exit(0);
}
const unknown = args.filter((a) => !['--dry-run', '--without-driver'].includes(a));
const say = (line: string): void => void process.stdout.write(`setup:cuda: ${line}\n`);

async function main(): Promise<void> {
  if (unknown.length) throw new RoteError(`unknown option ${unknown.join(', ')}; see \`npm run setup:cuda -- --help\``);
  const platform = `${process.platform}-${process.arch}`;
  if (platform !== 'linux-x64')
    throw new RoteError(
      `ONNX Runtime's CUDA provider for onnxruntime-node exists for Linux x64 only (this is ${platform}); use --provider webgpu or cpu`,
    );
  const targetDir = ortBinaryDir();
  if (!targetDir)
    throw new RoteError('onnxruntime-node is not installed (no bin/napi-v6/linux/x64): run `npm ci` first');
  const driver = nvidiaDriver();
  if (!driver.present) {
    const message = `no NVIDIA driver on this machine (${driver.evidence}): CUDA cannot run here. Install the NVIDIA driver (\`nvidia-smi\` must work), or pass --without-driver to install the provider anyway (e.g. building an image without a GPU)`;
    if (!args.includes('--without-driver')) throw new RoteError(message);
    say(`warning: ${message}`);
  }
  if (args.includes('--dry-run')) {
    say(
      `would install ${CUDA_PROVIDER_PACKAGE.files.map((f) => f.name).join(', ')} from ${CUDA_PROVIDER_PACKAGE.name}@${CUDA_PROVIDER_PACKAGE.version} (${CUDA_PROVIDER_PACKAGE.integrity.slice(0, 23)}...) into ${targetDir}`,
    );
  } else {
    await removeStaleStaging(targetDir);
    await installCudaProvider({ targetDir, log: say });
  }
  const report = cudaLibraryReport();
  const missing = report.libraries.filter((l) => !l.path);
  for (const l of report.libraries)
    say(
      `  ${l.path ? 'found  ' : 'missing'} ${l.name}${l.path ? ` (${l.path}${l.onLoaderPath ? '' : `, ${l.source}: rote adds it to LD_LIBRARY_PATH`})` : ''}`,
    );
  if (missing.length)
    say(
      `the CUDA ${CUDA_PROVIDER_PACKAGE.cudaMajor} runtime libraries are not all here; install them with \`${pipCommandFor(report.required.libraries)}\` (or a CUDA ${CUDA_PROVIDER_PACKAGE.cudaMajor} toolkit with cuDNN 9), then check with \`node bin/rote.js doctor\``,
    );
  else say('done; `node bin/rote.js doctor` runs a tiny model on every provider');
}

main().catch((error: unknown) => {
  if (error instanceof RoteError) {
    process.stderr.write(`setup:cuda: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
});
