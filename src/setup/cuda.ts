/**
 * CUDA without ONNX Runtime: where onnxruntime-node loads its CUDA provider from,
 * which CUDA runtime libraries that provider needs, and where they are on this
 * machine (the loader path, the `nvidia-*` Python wheels PyTorch installs, CUDA
 * toolkit directories). No `onnxruntime-node` import here: bin/rote.js runs this
 * before anything loads the native binding (docs/cuda.md).
 *
 * The library search is synchronous and reads only directory entries and a few
 * KB of ELF headers, so `rote` pays for it only when the CUDA provider is installed.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

/**
 * The pinned npm-registry source of ONNX Runtime's CUDA provider. It must be the
 * exact ORT version of onnxruntime-node (package.json pins 1.29.0): docs/cuda.md.
 * Sizes and sha256 are of the extracted files (checked by `npm run setup:cuda`).
 */
export const CUDA_PROVIDER_PACKAGE = {
  name: 'com.github.asus4.onnxruntime.linux-x64-gpu',
  version: '0.4.9',
  integrity: 'sha512-FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w==',
  /** Bytes of the packed tarball. */
  size: 179145956,
  ortVersion: '1.29.0',
  cudaMajor: 13,
  files: [
    {
      name: 'libonnxruntime_providers_shared.so',
      entry: 'package/Plugins/Linux/x64/libonnxruntime_providers_shared.so',
      size: 14632,
      sha256: 'c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772',
    },
    {
      name: 'libonnxruntime_providers_cuda.so',
      entry: 'package/Plugins/Linux/x64/libonnxruntime_providers_cuda.so',
      size: 229780440,
      sha256: '56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037',
    },
  ],
} as const;

export type CudaProviderPackage = {
  name: string;
  version: string;
  integrity: string;
  size: number;
  ortVersion: string;
  cudaMajor: number;
  files: readonly { name: string; entry: string; size: number; sha256: string }[];
};

export const CUDA_PROVIDER_LIBRARIES: readonly string[] = CUDA_PROVIDER_PACKAGE.files.map((f) => f.name);

/**
 * What the pinned provider loads: its DT_NEEDED CUDA libraries (`readelf -d`) and
 * cuDNN 9, which it dlopens at the first convolution (`libcudnn.so.9`, then
 * `libcudnn.so`). The driver's libcuda.so.1 is checked apart (CUDA_DRIVER_LIBRARY).
 */
export const PINNED_CUDA_RUNTIME_LIBRARIES: readonly string[] = [
  'libcudart.so.13',
  'libcublas.so.13',
  'libcublasLt.so.13',
  'libcurand.so.10',
  'libcudnn.so.9',
];
export const CUDA_DRIVER_LIBRARY = 'libcuda.so.1';
/** cuDNN is dlopened by the provider, never a DT_NEEDED entry; all ORT 1.2x CUDA builds use cuDNN 9. */
const CUDNN = 'libcudnn.so.9';

export const SETUP_CUDA_COMMAND = 'npm run setup:cuda';
/** Set by bin/rote.js on the process it re-executes with the found CUDA directories on LD_LIBRARY_PATH. */
export const REEXEC_MARKER = 'ROTE_CUDA_REEXEC';

/** Where onnxruntime-node keeps libonnxruntime.so.1 on this platform (null when not found). */
export function ortBinaryDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = join(root, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

/** Provider libraries missing from `dir` (empty = all there). */
export function missingProviderLibraries(dir: string | null): string[] {
  if (!dir) return [...CUDA_PROVIDER_LIBRARIES];
  return CUDA_PROVIDER_LIBRARIES.filter((name) => !existsSync(join(dir, name)));
}

/** Missing CUDA provider libraries next to libonnxruntime.so.1 (empty = all there). */
export function missingCudaProviderLibraries(): string[] {
  if (process.platform !== 'linux' || process.arch !== 'x64') return [...CUDA_PROVIDER_LIBRARIES];
  return missingProviderLibraries(ortBinaryDir());
}

// ---------------------------------------------------------------- ELF DT_NEEDED

/**
 * The DT_NEEDED entries of a 64-bit little-endian ELF shared library, read through
 * `read(offset, length)` (pure: no I/O of its own). Null when the bytes are not
 * such an ELF file. Walks the program headers to PT_DYNAMIC, then maps DT_STRTAB's
 * virtual address back to a file offset through the PT_LOAD segments.
 */
export function elfNeeded(read: (offset: number, length: number) => Uint8Array): string[] | null {
  const header = read(0, 64);
  if (header.length < 64 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46)
    return null;
  if (header[4] !== 2 || header[5] !== 1) return null; // ELFCLASS64, little-endian
  const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view(header);
  const phoff = Number(h.getBigUint64(32, true));
  const phentsize = h.getUint16(54, true);
  const phnum = h.getUint16(56, true);
  if (phentsize < 56 || phnum === 0) return null;
  const table = read(phoff, phentsize * phnum);
  if (table.length < phentsize * phnum) return null;
  const t = view(table);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dynamic: { offset: number; size: number } | null = null;
  for (let i = 0; i < phnum; i++) {
    const base = i * phentsize;
    const type = t.getUint32(base, true);
    const offset = Number(t.getBigUint64(base + 8, true));
    const vaddr = Number(t.getBigUint64(base + 16, true));
    const filesz = Number(t.getBigUint64(base + 32, true));
    if (type === 1) loads.push({ vaddr, offset, filesz });
    if (type === 2) dynamic = { offset, size: filesz };
  }
  if (!dynamic) return [];
  const entries = view(read(dynamic.offset, dynamic.size));
  const needed: number[] = [];
  let strtab = -1;
  let strsz = 0;
  for (let at = 0; at + 16 <= entries.byteLength; at += 16) {
    const tag = Number(entries.getBigInt64(at, true));
    const value = Number(entries.getBigUint64(at + 8, true));
    if (tag === 0) break; // DT_NULL
    if (tag === 1) needed.push(value); // DT_NEEDED
    if (tag === 5) strtab = value; // DT_STRTAB (a virtual address)
    if (tag === 10) strsz = value; // DT_STRSZ
  }
  if (needed.length === 0) return [];
  const segment = loads.find((l) => strtab >= l.vaddr && strtab < l.vaddr + l.filesz);
  if (!segment || strsz <= 0) return null;
  const strings = read(segment.offset + (strtab - segment.vaddr), strsz);
  const decoder = new TextDecoder();
  return needed.map((index) => {
    let end = index;
    while (end < strings.length && strings[end] !== 0) end++;
    return decoder.decode(strings.subarray(index, end));
  });
}

/** elfNeeded on a file (null when it is not a 64-bit little-endian ELF file or cannot be read). */
export function elfNeededOfFile(path: string): string[] | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    return elfNeeded((offset, length) => {
      const buffer = new Uint8Array(Math.max(0, length));
      const got = readSync(fd, buffer, 0, buffer.length, offset);
      return buffer.subarray(0, got);
    });
  } finally {
    closeSync(fd);
  }
}

const CUDA_LIBRARY_NAME =
  /^lib(cudart|cublas|cublasLt|curand|cufft|cusparse|cusolver|nvrtc|nvJitLink|cudnn[a-z_]*)\.so\.\d+$/;

/**
 * The CUDA runtime libraries the installed provider needs: its DT_NEEDED CUDA
 * entries plus cuDNN 9. The provider from `npm run setup:cuda` and ORT's own
 * (CUDA 12) installer differ, so this reads the file; `source` says how the
 * list was made (the pinned list when the file cannot be read as ELF).
 */
export function requiredCudaLibraries(providerPath: string | null): { libraries: string[]; source: string } {
  const needed = providerPath ? elfNeededOfFile(providerPath) : null;
  if (!needed)
    return {
      libraries: [...PINNED_CUDA_RUNTIME_LIBRARIES],
      source: `the pinned provider's list (${CUDA_PROVIDER_PACKAGE.name}@${CUDA_PROVIDER_PACKAGE.version})`,
    };
  const cuda = needed.filter((name) => CUDA_LIBRARY_NAME.test(name));
  if (!cuda.includes(CUDNN)) cuda.push(CUDNN);
  return { libraries: cuda, source: `DT_NEEDED of ${providerPath} plus ${CUDNN}` };
}

// ---------------------------------------------------------------- where the libraries are

export type LibrarySource =
  | 'LD_LIBRARY_PATH'
  | 'ldconfig'
  | 'system'
  | 'ROTE_CUDA_LIBRARY_PATH'
  | 'python wheels'
  | 'CUDA toolkit'
  | 'conda'
  | 'driver';

export interface SearchDir {
  dir: string;
  source: LibrarySource;
  /** True when the dynamic loader searches it without help. */
  onLoaderPath: boolean;
}

export interface LibraryLocation {
  name: string;
  /** Full path of the library found (null = not found). */
  path: string | null;
  source: LibrarySource | null;
  onLoaderPath: boolean;
  /** Same library, other major versions, seen in the searched directories (e.g. libcudart.so.12 when .13 is needed). */
  otherVersions: string[];
}

export interface SearchOptions {
  env?: NodeJS.ProcessEnv;
  /** Prefix of every fixed system directory (tests point it at a fake tree). Default '/'. */
  root?: string;
  home?: string;
  /** soname -> path from `ldconfig -p`; default: run ldconfig (null = none). */
  ldconfig?: Map<string, string> | null;
}

/** `ldconfig -p` as soname -> path (empty when ldconfig is not there). */
export function ldconfigCache(): Map<string, string> {
  const found = new Map<string, string>();
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const stdout = execFileSync(ldconfig, ['-p'], {
        encoding: 'utf8',
        timeout: 5000,
        maxBuffer: 16 << 20,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      for (const line of stdout.split('\n')) {
        const match = /^\s*(\S+)\s.*\(([^)]*)\).*=>\s*(\S+)\s*$/.exec(line);
        if (match && match[2]!.includes('x86-64') && !found.has(match[1]!)) found.set(match[1]!, match[3]!);
        else if (!match) {
          const plain = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
          if (plain && !found.has(plain[1]!)) found.set(plain[1]!, plain[2]!);
        }
      }
      return found;
    } catch {
      // try the next location
    }
  }
  return found;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** site-packages / dist-packages directories under a Python prefix (`<prefix>/lib/python3.*`). */
function sitePackagesUnder(prefix: string): string[] {
  const result: string[] = [];
  for (const lib of ['lib', 'lib64']) {
    for (const python of subdirs(join(prefix, lib)).filter((n) => /^python3(\.\d+)?$/.test(n))) {
      for (const kind of ['site-packages', 'dist-packages']) {
        const dir = join(prefix, lib, python, kind);
        if (isDir(dir)) result.push(dir);
      }
    }
  }
  return result;
}

/** The library directories of the `nvidia-*` wheels in a site-packages directory: nvidia/<x>/lib, nvidia/<x>/<y>/lib. */
function nvidiaWheelDirs(site: string): string[] {
  const nvidia = join(site, 'nvidia');
  const result: string[] = [];
  for (const a of subdirs(nvidia)) {
    if (a === 'lib') result.push(join(nvidia, a));
    for (const b of subdirs(join(nvidia, a))) {
      if (b === 'lib') result.push(join(nvidia, a, b));
      else if (subdirs(join(nvidia, a, b)).includes('lib')) result.push(join(nvidia, a, b, 'lib'));
    }
  }
  // PyTorch's own lib directory holds copies of some CUDA libraries in some builds.
  const torchLib = join(site, 'torch', 'lib');
  if (isDir(torchLib)) result.push(torchLib);
  return result;
}

/**
 * Every directory searched, in order of preference: the loader's own path first
 * (LD_LIBRARY_PATH, the default system directories), then ROTE_CUDA_LIBRARY_PATH,
 * Python wheels (virtualenv, conda, user site, pyenv, system Pythons), CUDA toolkits,
 * and container driver directories.
 */
export function cudaSearchDirs(options: SearchOptions = {}): SearchDir[] {
  const env = options.env ?? process.env;
  const root = options.root ?? '/';
  const home = options.home ?? env.HOME ?? homedir();
  const at = (path: string): string => join(root, path);
  const dirs: SearchDir[] = [];
  const seen = new Set<string>();
  const add = (dir: string, source: LibrarySource, onLoaderPath: boolean): void => {
    if (!dir || seen.has(dir) || !isDir(dir)) return;
    seen.add(dir);
    dirs.push({ dir, source, onLoaderPath });
  };
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(delimiter)) add(dir, 'LD_LIBRARY_PATH', true);
  for (const dir of ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'usr/lib64', 'lib', 'usr/lib'])
    add(at(dir), 'system', true);
  for (const dir of (env.ROTE_CUDA_LIBRARY_PATH ?? '').split(delimiter)) add(dir, 'ROTE_CUDA_LIBRARY_PATH', false);

  const sites: string[] = [];
  for (const prefix of [env.VIRTUAL_ENV, env.CONDA_PREFIX].filter((p): p is string => Boolean(p)))
    sites.push(...sitePackagesUnder(prefix));
  sites.push(...sitePackagesUnder(join(home, '.local')));
  for (const version of subdirs(join(home, '.pyenv', 'versions')))
    sites.push(...sitePackagesUnder(join(home, '.pyenv', 'versions', version)));
  // Pythons on PATH: <prefix>/bin/python3 -> <prefix>/lib/python3.*/site-packages.
  for (const bin of (env.PATH ?? '').split(delimiter)) {
    if (bin && (existsSync(join(bin, 'python3')) || existsSync(join(bin, 'python'))))
      sites.push(...sitePackagesUnder(dirname(bin)));
  }
  for (const prefix of ['usr/local', 'usr', 'opt/conda']) sites.push(...sitePackagesUnder(at(prefix)));
  const python3 = at('usr/lib/python3/dist-packages');
  if (isDir(python3)) sites.push(python3);
  for (const site of sites) for (const dir of nvidiaWheelDirs(site)) add(dir, 'python wheels', false);
  if (env.CONDA_PREFIX) add(join(env.CONDA_PREFIX, 'lib'), 'conda', false);

  const toolkits = [env.CUDA_HOME, env.CUDA_PATH].filter((p): p is string => Boolean(p));
  toolkits.push(at('usr/local/cuda'));
  for (const name of subdirs(at('usr/local'))
    .filter((n) => /^cuda-\d/.test(n))
    .reverse())
    toolkits.push(at(join('usr/local', name)));
  toolkits.push(at('opt/cuda'));
  for (const toolkit of toolkits) {
    add(join(toolkit, 'lib64'), 'CUDA toolkit', false);
    add(join(toolkit, 'targets', 'x86_64-linux', 'lib'), 'CUDA toolkit', false);
    add(join(toolkit, 'lib'), 'CUDA toolkit', false);
  }
  for (const dir of ['usr/local/nvidia/lib64', 'usr/local/nvidia/lib', 'usr/lib/wsl/lib'])
    add(at(dir), 'driver', false);
  return dirs;
}

/** `libcudart.so.13` -> `libcudart.so.` (the part other major versions share). */
function stem(name: string): string {
  const at = name.indexOf('.so.');
  return at >= 0 ? name.slice(0, at + 4) : `${name}.`;
}

/**
 * Finds each library by its exact soname (the major version the provider needs):
 * in the loader's directories and ldconfig cache first, then in the other
 * directories of cudaSearchDirs. Also lists other major versions seen, for advice.
 */
export function locateLibraries(names: readonly string[], options: SearchOptions = {}): LibraryLocation[] {
  const dirs = cudaSearchDirs(options);
  const cache = options.ldconfig === undefined ? ldconfigCache() : (options.ldconfig ?? new Map<string, string>());
  const listings = new Map<string, string[]>();
  const list = (dir: string): string[] => {
    let names = listings.get(dir);
    if (!names) {
      try {
        names = readdirSync(dir);
      } catch {
        names = [];
      }
      listings.set(dir, names);
    }
    return names;
  };
  return names.map((name) => {
    const others = new Set<string>();
    for (const { dir } of dirs)
      for (const file of list(dir))
        if (file !== name && file.startsWith(stem(name)) && /^\d+$/.test(file.slice(stem(name).length)))
          others.add(file);
    const location = (path: string, source: LibrarySource, onLoaderPath: boolean): LibraryLocation => ({
      name,
      path,
      source,
      onLoaderPath,
      otherVersions: [...others].sort(),
    });
    const loaderDir = dirs.find((d) => d.onLoaderPath && d.source === 'LD_LIBRARY_PATH' && list(d.dir).includes(name));
    if (loaderDir) return location(join(loaderDir.dir, name), loaderDir.source, true);
    const cached = cache.get(name);
    if (cached) return location(cached, 'ldconfig', true);
    const found = dirs.find((d) => list(d.dir).includes(name));
    if (found) return location(join(found.dir, name), found.source, found.onLoaderPath);
    return { name, path: null, source: null, onLoaderPath: false, otherVersions: [...others].sort() };
  });
}

/** The directories to put on LD_LIBRARY_PATH so that every found library loads (those found off the loader path). Pure. */
export function loaderPathAdditions(locations: readonly LibraryLocation[], ldLibraryPath = ''): string[] {
  const present = new Set(ldLibraryPath.split(delimiter).filter(Boolean));
  const dirs: string[] = [];
  for (const location of locations) {
    if (!location.path || location.onLoaderPath) continue;
    const dir = dirname(location.path);
    if (!present.has(dir) && !dirs.includes(dir)) dirs.push(dir);
  }
  return dirs;
}

/** Whether an NVIDIA driver is installed: the kernel module's /proc entry or libcuda.so.1 where the loader finds it. */
export function nvidiaDriver(options: SearchOptions = {}): { present: boolean; evidence: string } {
  const proc = join(options.root ?? '/', 'proc/driver/nvidia/version');
  if (existsSync(proc)) return { present: true, evidence: proc };
  const [libcuda] = locateLibraries([CUDA_DRIVER_LIBRARY], options);
  if (libcuda?.path) return { present: true, evidence: libcuda.path };
  return { present: false, evidence: `neither ${proc} nor ${CUDA_DRIVER_LIBRARY} found` };
}

/** The pip command that installs the CUDA runtime libraries of one major version (the wheels PyTorch uses). */
export function pipCommandFor(libraries: readonly string[]): string {
  const major = Number(
    /^libcudart\.so\.(\d+)$/.exec(libraries.find((l) => l.startsWith('libcudart.so.')) ?? '')?.[1] ??
      CUDA_PROVIDER_PACKAGE.cudaMajor,
  );
  if (major === 12)
    return 'pip install nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 nvidia-curand-cu12 nvidia-cufft-cu12 nvidia-cudnn-cu12';
  return `pip install "nvidia-cuda-runtime==${major}.*" "nvidia-cublas==${major}.*" nvidia-curand nvidia-cudnn-cu${major}`;
}

export interface CudaLibraryReport {
  providerDir: string | null;
  providerMissing: string[];
  required: { libraries: string[]; source: string };
  libraries: LibraryLocation[];
  driver: LibraryLocation;
  /** Directories bin/rote.js adds to LD_LIBRARY_PATH (empty = nothing to add). */
  additions: string[];
}

/** Everything about the CUDA libraries in one pass (no ONNX Runtime involved). */
export function cudaLibraryReport(options: SearchOptions & { providerDir?: string | null } = {}): CudaLibraryReport {
  const providerDir = options.providerDir === undefined ? ortBinaryDir() : options.providerDir;
  const providerMissing = missingProviderLibraries(providerDir);
  const provider =
    providerDir && !providerMissing.includes('libonnxruntime_providers_cuda.so')
      ? join(providerDir, 'libonnxruntime_providers_cuda.so')
      : null;
  const required = requiredCudaLibraries(provider);
  const ldconfig = options.ldconfig === undefined ? ldconfigCache() : options.ldconfig;
  const located = locateLibraries([...required.libraries, CUDA_DRIVER_LIBRARY], { ...options, ldconfig });
  const libraries = located.slice(0, -1);
  const driver = located[located.length - 1]!;
  const env = options.env ?? process.env;
  return {
    providerDir,
    providerMissing,
    required,
    libraries,
    driver,
    additions: loaderPathAdditions(located, env.LD_LIBRARY_PATH ?? ''),
  };
}

/** The commands that open ONNX Runtime sessions (the only ones worth a re-exec). */
const ORT_COMMANDS = new Set(['audit', 'transcribe', 'demo', 'doctor', 'inspect-model']);

/**
 * Whether `rote` should restart itself with CUDA library directories on
 * LD_LIBRARY_PATH (the loader reads it only at process start): only for commands
 * that open sessions, not with `--provider cpu|webgpu`, only when the CUDA
 * provider is installed and some library it needs was found off the loader path,
 * and never twice (REEXEC_MARKER). Returns the new LD_LIBRARY_PATH, or null.
 */
export function reexecPlan(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  report: () => CudaLibraryReport,
  providerInstalled: () => boolean = () => missingCudaProviderLibraries().length === 0,
  platform = `${process.platform}-${process.arch}`,
): { ldLibraryPath: string; added: string[] } | null {
  if (env[REEXEC_MARKER]) return null;
  if (platform !== 'linux-x64') return null;
  const command = argv.find((a) => !a.startsWith('-'));
  if (!command || !ORT_COMMANDS.has(command)) return null;
  const at = argv.indexOf('--provider');
  const provider = at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith('--provider='))?.slice('--provider='.length);
  if (provider === 'cpu' || provider === 'webgpu') return null;
  if (!providerInstalled()) return null;
  const { additions } = report();
  if (additions.length === 0) return null;
  return {
    ldLibraryPath: [...additions, ...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean)].join(delimiter),
    added: additions,
  };
}

/**
 * Why the dynamic loader refuses a library, in its own words (dlerror), or null
 * when it loads. ONNX Runtime's exception says only "Failed to load shared
 * library"; this names the culprit (e.g. "libcublasLt.so.13: cannot open shared
 * object file"). Called only after ONNX Runtime failed. A library that loads is
 * not a Node addon, so Node reports "did not self-register" and closes it again.
 */
export function dlopenError(path: string): string | null {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, path, constants.dlopen.RTLD_LAZY ?? 1);
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/self-register|napi_register_module/i.test(message)) return null;
    return message.split('\n')[0]!;
  }
}
