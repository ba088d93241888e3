/**
 * `npm run setup:cuda`: installs ONNX Runtime's CUDA provider libraries from the
 * npm registry (CUDA_PROVIDER_PACKAGE: pinned version and integrity) next to
 * onnxruntime-node's libonnxruntime.so.1, where ONNX Runtime loads them.
 *
 * Steps: already there with the right sha256 -> nothing to do; free space checked;
 * `npm pack <name>@<version>` into a temporary directory (the one network edge,
 * replaceable: `download`); the tarball's sha512 checked against the pinned
 * integrity; only the provider files extracted (system `tar`) into a staging
 * directory beside the target; each file's sha256 checked; then renamed into place
 * (same file system: atomic). Every failure is a RoteError saying what to do.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RoteError } from '../util/errors.ts';
import { processIsAlive } from '../util/process.ts';
import { CUDA_PROVIDER_PACKAGE, type CudaProviderPackage } from './cuda.ts';

const run = promisify(execFile);

/** Downloads `<name>@<version>` as a tarball into `dir`; returns its path. The network edge. */
export type Download = (pkg: CudaProviderPackage, dir: string) => Promise<string>;

/** The real download: `npm pack` (the user's npm configuration: registry, proxy, cache). */
export const npmPackDownload: Download = async (pkg, dir) => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    const { stdout } = await run(npm, ['pack', `${pkg.name}@${pkg.version}`, '--json', '--pack-destination', dir], {
      maxBuffer: 16 << 20,
    });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    return join(dir, packed!.filename);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const reason =
      stderr
        .split('\n')
        .filter((l) => /npm (error|ERR!)/.test(l))
        .slice(0, 3)
        .join(' ') || (error as Error).message;
    throw new RoteError(
      `could not download ${pkg.name}@${pkg.version} from the npm registry (${reason.trim()}). Check the network and npm's registry or proxy settings (\`npm config get registry\`), then rerun \`npm run setup:cuda\``,
      { cause: error },
    );
  }
};

export interface InstallOptions {
  /** Where libonnxruntime.so.1 is (onnxruntime-node's bin/napi-v6/linux/x64). */
  targetDir: string;
  pkg?: CudaProviderPackage;
  download?: Download;
  /** Where the tarball is downloaded (default: the OS temporary directory). */
  tmpRoot?: string;
  /** `${process.platform}-${process.arch}` unless a test says otherwise. */
  platform?: string;
  log?: (line: string) => void;
}

export interface InstallResult {
  status: 'installed' | 'already installed';
  files: { name: string; path: string; size: number }[];
}

async function sha(path: string, algorithm: 'sha256' | 'sha512', encoding: 'hex' | 'base64'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest(encoding);
}

/** Files of `pkg` already in `dir` with the pinned sha256 (all of them = installed). */
async function installedFiles(pkg: CudaProviderPackage, dir: string): Promise<boolean> {
  for (const file of pkg.files) {
    const path = join(dir, file.name);
    try {
      if ((await stat(path)).size !== file.size) return false;
    } catch {
      return false;
    }
    if ((await sha(path, 'sha256', 'hex')) !== file.sha256) return false;
  }
  return true;
}

async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 0)} MB`;
}

function diskError(error: unknown, where: string): RoteError | null {
  const code = (error as { code?: string }).code;
  if (code === 'ENOSPC')
    return new RoteError(
      `no space left on the device while writing in ${where}: free some space and rerun \`npm run setup:cuda\``,
      { cause: error },
    );
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new RoteError(
      `cannot write in ${where} (${code}): run \`npm run setup:cuda\` as the user who ran \`npm ci\``,
      { cause: error },
    );
  return null;
}

export async function installCudaProvider(options: InstallOptions): Promise<InstallResult> {
  const pkg = options.pkg ?? CUDA_PROVIDER_PACKAGE;
  const log = options.log ?? (() => undefined);
  const platform = options.platform ?? `${process.platform}-${process.arch}`;
  const { targetDir } = options;
  if (platform !== 'linux-x64') {
    throw new RoteError(
      `${pkg.name} holds ONNX Runtime's CUDA provider for Linux x64 only (this is ${platform}); use --provider webgpu or cpu`,
    );
  }
  if (!existsSync(join(targetDir, 'libonnxruntime.so.1'))) {
    throw new RoteError(
      `libonnxruntime.so.1 not found in ${targetDir}: onnxruntime-node is not installed; run \`npm ci\` first`,
    );
  }
  const files = pkg.files.map((f) => ({ name: f.name, path: join(targetDir, f.name), size: f.size }));
  if (await installedFiles(pkg, targetDir)) {
    log(`already installed: ${pkg.files.map((f) => f.name).join(', ')} in ${targetDir} (sha256 checked)`);
    return { status: 'already installed', files };
  }

  const tmpRoot = options.tmpRoot ?? tmpdir();
  const needTarget = pkg.files.reduce((sum, f) => sum + f.size, 0) + (64 << 20);
  const needTmp = pkg.size + (16 << 20);
  const [freeTarget, freeTmp] = await Promise.all([freeBytes(targetDir), freeBytes(tmpRoot)]);
  if (freeTarget < needTarget)
    throw new RoteError(
      `not enough disk space in ${targetDir}: ${mb(freeTarget)} free, the CUDA provider needs ${mb(needTarget)}; free some space and rerun \`npm run setup:cuda\``,
    );
  if (freeTmp < needTmp)
    throw new RoteError(
      `not enough disk space in ${tmpRoot} for the ${mb(pkg.size)} download: ${mb(freeTmp)} free; free some space or set TMPDIR to a larger disk, then rerun`,
    );

  const downloadDir = await mkdtemp(join(tmpRoot, 'rote-cuda-'));
  const staging = join(targetDir, `.rote-cuda-staging-${process.pid}`);
  try {
    log(`downloading ${pkg.name}@${pkg.version} (${mb(pkg.size)}) from the npm registry`);
    const tarball = await (options.download ?? npmPackDownload)(pkg, downloadDir);
    const [algorithm, expected] = pkg.integrity.split('-', 2) as [string, string];
    if (algorithm !== 'sha512') throw new Error(`pinned integrity must be sha512, got ${algorithm}`);
    const actual = await sha(tarball, 'sha512', 'base64');
    if (actual !== expected) {
      throw new RoteError(
        `the downloaded ${pkg.name}@${pkg.version} does not match its pinned integrity (got sha512-${actual.slice(0, 16)}..., expected ${pkg.integrity.slice(0, 23)}...); nothing was installed. Rerun; if it persists, your registry serves a different file`,
      );
    }
    log(`integrity ok (${pkg.integrity.slice(0, 23)}...)`);

    await rm(staging, { recursive: true, force: true });
    await mkdir(staging);
    try {
      await run('tar', ['-xzf', tarball, '--no-same-owner', '-C', staging, ...pkg.files.map((f) => f.entry)], {
        maxBuffer: 1 << 20,
      });
    } catch (error) {
      const disk = diskError(error, targetDir);
      if (disk) throw disk;
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT')
        throw new RoteError(
          '`tar` is needed to unpack the CUDA provider and was not found on PATH: install tar, then rerun `npm run setup:cuda`',
          { cause: error },
        );
      throw new RoteError(
        `could not unpack ${pkg.files.map((f) => f.entry).join(', ')} from ${tarball}: ${((error as { stderr?: string }).stderr ?? String(error)).trim().split('\n')[0]}`,
        { cause: error },
      );
    }
    for (const file of pkg.files) {
      const staged = join(staging, file.entry);
      const digest = await sha(staged, 'sha256', 'hex');
      if (digest !== file.sha256)
        throw new RoteError(
          `${file.entry} in ${pkg.name}@${pkg.version} has sha256 ${digest}, expected ${file.sha256}; nothing was installed`,
        );
      await chmod(staged, 0o755);
    }
    // The shared bridge last: a provider without it is never picked up half-installed.
    for (const file of [...pkg.files].sort(
      (a, b) => Number(a.name.includes('shared')) - Number(b.name.includes('shared')),
    )) {
      await rename(join(staging, file.entry), join(targetDir, file.name));
    }
    log(`installed ${pkg.files.map((f) => `${f.name} (${mb(f.size)})`).join(', ')} in ${targetDir}`);
    return { status: 'installed', files };
  } catch (error) {
    throw diskError(error, targetDir) ?? error;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(downloadDir, { recursive: true, force: true });
  }
}

/** Leftover staging directories of interrupted runs (named with their pid; a running one's is kept), removed. */
export async function removeStaleStaging(targetDir: string): Promise<void> {
  for (const name of await readdir(targetDir).catch(() => [] as string[])) {
    const pid = /^\.rote-cuda-staging-(\d+)$/.exec(name)?.[1];
    if (pid && (Number(pid) === process.pid || !processIsAlive(Number(pid))))
      await rm(join(targetDir, name), { recursive: true, force: true });
  }
}
