/**
 * `npm run setup:cuda` on a machine without a GPU: the download is replaced at the
 * network edge only (a local tarball laid out like the npm package stands in for
 * the registry's answer); integrity, extraction, checks and placement run for real.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CUDA_PROVIDER_PACKAGE, type CudaProviderPackage } from '../../src/setup/cuda.ts';
import { installCudaProvider, removeStaleStaging, type Download } from '../../src/setup/cuda-setup.ts';
import { RoteError } from '../../src/util/errors.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Fixture {
  dir: string;
  tarball: string;
  pkg: CudaProviderPackage;
  target: string;
  tmp: string;
  contents: Map<string, Buffer>;
}

/** A package tarball shaped like the pinned one (package/Plugins/Linux/x64/...), with its real integrity and sha256s. */
function fixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'rote-setup-cuda-'));
  const contents = new Map<string, Buffer>();
  for (const file of CUDA_PROVIDER_PACKAGE.files) {
    const bytes = Buffer.from(`fake ${file.name} ${'x'.repeat(file.name.length * 100)}\n`);
    contents.set(file.name, bytes);
    mkdirSync(dirname(join(dir, 'src', file.entry)), { recursive: true });
    writeFileSync(join(dir, 'src', file.entry), bytes);
  }
  writeFileSync(join(dir, 'src', 'package/Plugins/Linux/x64/libonnxruntime_providers_tensorrt.so'), 'not wanted');
  writeFileSync(join(dir, 'src', 'package/package.json'), '{"name":"fake"}');
  const tarball = join(dir, 'fake-provider-0.0.1.tgz');
  execFileSync('tar', ['-czf', tarball, '-C', join(dir, 'src'), 'package']);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const pkg: CudaProviderPackage = {
    ...CUDA_PROVIDER_PACKAGE,
    name: 'fake-provider',
    version: '0.0.1',
    integrity,
    size: statSync(tarball).size,
    files: CUDA_PROVIDER_PACKAGE.files.map((f) => ({
      ...f,
      size: contents.get(f.name)!.length,
      sha256: createHash('sha256').update(contents.get(f.name)!).digest('hex'),
    })),
  };
  const target = join(dir, 'ort');
  mkdirSync(target);
  writeFileSync(join(target, 'libonnxruntime.so.1'), 'fake core');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  return { dir, tarball, pkg, target, tmp, contents };
}

/** The registry stand-in: copies the local tarball where `npm pack` would have written it; counts calls. */
function localRegistry(f: Fixture): Download & { calls: number } {
  const download = (async (_pkg, into) => {
    download.calls++;
    const path = join(into, 'fake-provider-0.0.1.tgz');
    copyFileSync(f.tarball, path);
    return path;
  }) as Download & { calls: number };
  download.calls = 0;
  return download;
}

async function rejects(promise: Promise<unknown>): Promise<RoteError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, RoteError);
    return error as RoteError;
  }
  throw new Error('expected a RoteError');
}

/** Installs `pkg` (the fixture's package with a fault put in) for linux-x64, downloaded from the fixture's local registry. */
function installFromLocalRegistry(f: Fixture, pkg: CudaProviderPackage): ReturnType<typeof installCudaProvider> {
  return installCudaProvider({
    targetDir: f.target,
    pkg,
    download: localRegistry(f),
    tmpRoot: f.tmp,
    platform: 'linux-x64',
  });
}

function providerFiles(target: string): string[] {
  return readdirSync(target)
    .filter((n) => n !== 'libonnxruntime.so.1')
    .sort();
}

test('installs exactly the provider files next to libonnxruntime.so.1, executable, and cleans up', async () => {
  const f = fixture();
  try {
    const download = localRegistry(f);
    const lines: string[] = [];
    const result = await installCudaProvider({
      targetDir: f.target,
      pkg: f.pkg,
      download,
      tmpRoot: f.tmp,
      platform: 'linux-x64',
      log: (l) => lines.push(l),
    });
    assert.is(result.status, 'installed');
    assert.equal(providerFiles(f.target), ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']);
    for (const [name, bytes] of f.contents) {
      assert.ok(readFileSync(join(f.target, name)).equals(bytes), name);
      assert.is(statSync(join(f.target, name)).mode & 0o777, 0o755);
    }
    assert.equal(readdirSync(f.tmp), [], 'the download directory is removed');
    assert.match(lines.join('\n'), 'integrity ok');

    // Idempotent: a second run checks the sha256 of what is there and downloads nothing.
    const again = await installCudaProvider({
      targetDir: f.target,
      pkg: f.pkg,
      download,
      tmpRoot: f.tmp,
      platform: 'linux-x64',
    });
    assert.is(again.status, 'already installed');
    assert.is(download.calls, 1);

    // A damaged installed file is replaced.
    writeFileSync(join(f.target, 'libonnxruntime_providers_cuda.so'), 'truncated');
    assert.is(
      (await installCudaProvider({ targetDir: f.target, pkg: f.pkg, download, tmpRoot: f.tmp, platform: 'linux-x64' }))
        .status,
      'installed',
    );
    assert.is(download.calls, 2);
    assert.ok(
      readFileSync(join(f.target, 'libonnxruntime_providers_cuda.so')).equals(
        f.contents.get('libonnxruntime_providers_cuda.so')!,
      ),
    );
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('a tarball that does not match the pinned integrity installs nothing', async () => {
  const f = fixture();
  try {
    const pkg = { ...f.pkg, integrity: `sha512-${createHash('sha512').update('something else').digest('base64')}` };
    const error = await rejects(installFromLocalRegistry(f, pkg));
    assert.match(error.message, 'does not match its pinned integrity');
    assert.equal(providerFiles(f.target), []);
    assert.equal(readdirSync(f.tmp), []);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('a file whose sha256 differs from the pinned one installs nothing (not even the other file)', async () => {
  const f = fixture();
  try {
    const pkg = {
      ...f.pkg,
      files: f.pkg.files.map((file) => (file.name.includes('shared') ? file : { ...file, sha256: '0'.repeat(64) })),
    };
    const error = await rejects(installFromLocalRegistry(f, pkg));
    assert.match(error.message, 'libonnxruntime_providers_cuda.so in fake-provider@0.0.1 has sha256');
    assert.equal(providerFiles(f.target), []);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('clear errors: wrong platform, no onnxruntime-node, no disk space, a failed download, a tarball without the files', async () => {
  const f = fixture();
  try {
    const base = { targetDir: f.target, pkg: f.pkg, download: localRegistry(f), tmpRoot: f.tmp };
    assert.match(
      (await rejects(installCudaProvider({ ...base, platform: 'darwin-arm64' }))).message,
      'Linux x64 only (this is darwin-arm64)',
    );
    assert.match(
      (await rejects(installCudaProvider({ ...base, targetDir: f.tmp, platform: 'linux-x64' }))).message,
      'run `npm ci` first',
    );
    // Free space is checked for real (statfs): no disk holds a petabyte download.
    const huge = await rejects(installCudaProvider({ ...base, pkg: { ...f.pkg, size: 1e15 }, platform: 'linux-x64' }));
    assert.match(huge.message, `not enough disk space in ${f.tmp}`);
    const offline: Download = async () => {
      throw new RoteError('could not download fake-provider@0.0.1 from the npm registry (npm error code ENOTFOUND)');
    };
    assert.match(
      (await rejects(installCudaProvider({ ...base, download: offline, platform: 'linux-x64' }))).message,
      'ENOTFOUND',
    );
    const pkg = { ...f.pkg, files: [{ ...f.pkg.files[0]!, entry: 'package/lib/missing.so' }] };
    assert.match(
      (await rejects(installCudaProvider({ ...base, pkg, platform: 'linux-x64' }))).message,
      'could not unpack package/lib/missing.so',
    );
    assert.equal(providerFiles(f.target), []);
    assert.equal(readdirSync(f.tmp), []);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('removeStaleStaging removes what an interrupted run left, not what a running one is using', async () => {
  const f = fixture();
  try {
    // A pid no process has (above the kernel's pid_max of 4194304), and this very process (running).
    mkdirSync(join(f.target, '.rote-cuda-staging-999999999', 'package'), { recursive: true });
    mkdirSync(join(f.target, `.rote-cuda-staging-${process.ppid}`), { recursive: true });
    await removeStaleStaging(f.target);
    assert.equal(readdirSync(f.target).sort(), [`.rote-cuda-staging-${process.ppid}`, 'libonnxruntime.so.1']);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('npm run setup:cuda on this GPU-less machine: refuses without a driver, says what it would do with --without-driver', async () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/setup-cuda.ts', ...args], { cwd: root }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const driverless = !existsSync('/proc/driver/nvidia/version');
  if (driverless) {
    const refused = await run(['--dry-run']);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, 'setup:cuda: no NVIDIA driver on this machine');
    assert.match(refused.stderr, '--without-driver');
  }
  const dry = await run(['--dry-run', '--without-driver']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(
    dry.stdout,
    `would install libonnxruntime_providers_shared.so, libonnxruntime_providers_cuda.so from ${CUDA_PROVIDER_PACKAGE.name}@${CUDA_PROVIDER_PACKAGE.version}`,
  );
  for (const name of ['libcudart.so.13', 'libcublas.so.13', 'libcudnn.so.9']) assert.match(dry.stdout, name);
  const bad = await run(['--frobnicate']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, 'unknown option --frobnicate');
});

test.run();
