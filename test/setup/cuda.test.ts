import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CUDA_PROVIDER_LIBRARIES,
  cudaLibraryReport,
  cudaSearchDirs,
  dlopenError,
  elfNeeded,
  elfNeededOfFile,
  loaderPathAdditions,
  locateLibraries,
  ortBinaryDir,
  PINNED_CUDA_RUNTIME_LIBRARIES,
  reexecPlan,
  requiredCudaLibraries,
  type CudaLibraryReport,
} from '../../src/setup/cuda.ts';
import { cudaMissingReason } from '../../src/setup/provider-check.ts';

/** A fake file tree: every path gets a small file (fake .so files with the real names). */
function tree(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'rote-cuda-tree-'));
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), `fake ${file}\n`);
  }
  return root;
}

function readelfNeeded(path: string): string[] {
  const out = execFileSync('readelf', ['-d', path], { encoding: 'utf8' });
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

test('elfNeeded reads the same DT_NEEDED entries as readelf -d (onnxruntime-node binaries, node)', () => {
  const dir = ortBinaryDir();
  assert.ok(dir, 'onnxruntime-node is installed');
  for (const path of [join(dir!, 'libonnxruntime.so.1'), join(dir!, 'onnxruntime_binding.node'), process.execPath]) {
    const expected = readelfNeeded(path);
    assert.ok(expected.length > 0, `readelf lists NEEDED entries of ${path}`);
    assert.equal(elfNeededOfFile(path), expected, path);
  }
});

test('elfNeeded: not an ELF file -> null; unreadable -> null', () => {
  assert.is(
    elfNeeded(() => new TextEncoder().encode('fake libcudart.so.13\n')),
    null,
  );
  const root = tree(['x/libfake.so']);
  try {
    assert.is(elfNeededOfFile(join(root, 'x/libfake.so')), null);
    assert.is(elfNeededOfFile(join(root, 'missing.so')), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('requiredCudaLibraries: from the provider file when it is ELF (plus cuDNN 9), else the pinned list', () => {
  const dir = ortBinaryDir()!;
  // libonnxruntime.so.1 needs no CUDA library: the list is cuDNN alone, read from the file.
  const real = requiredCudaLibraries(join(dir, 'libonnxruntime.so.1'));
  assert.equal(real.libraries, ['libcudnn.so.9']);
  assert.match(real.source, 'DT_NEEDED');
  const fallback = requiredCudaLibraries(null);
  assert.equal(fallback.libraries, [...PINNED_CUDA_RUNTIME_LIBRARIES]);
  assert.match(fallback.source, 'pinned');
});

const WHEEL = 'venv/lib/python3.11/site-packages/nvidia';
const FAKE_TREE = [
  // CUDA 13 wheels (PyTorch cu130 layout) in a virtualenv
  `${WHEEL}/cu13/lib/libcudart.so.13`,
  `${WHEEL}/cu13/lib/libcublas.so.13`,
  `${WHEEL}/cu13/lib/libcublasLt.so.13`,
  `${WHEEL}/cudnn/lib/libcudnn.so.9`,
  `${WHEEL}/cudnn/lib/libcudnn_graph.so.9`,
  // an older toolkit: curand 10 (same soname in CUDA 12 and 13) and the wrong cudart
  'usr/local/cuda-12.4/targets/x86_64-linux/lib/libcurand.so.10',
  'usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudart.so.12',
  // the driver in the system directory (on the loader path)
  'usr/lib/x86_64-linux-gnu/libcuda.so.1',
  // a user site with CUDA 12 wheels only
  'home/.local/lib/python3.10/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12',
];

function fakeOptions(root: string, env: NodeJS.ProcessEnv = {}) {
  return { root, home: join(root, 'home'), ldconfig: null, env: { PATH: '', VIRTUAL_ENV: join(root, 'venv'), ...env } };
}

test('locateLibraries on a fake tree: wheels, toolkit and system directories; loader path or not; other majors', () => {
  const root = tree(FAKE_TREE);
  try {
    const dirs = cudaSearchDirs(fakeOptions(root));
    const sourceOf = (suffix: string) => dirs.find((d) => d.dir === join(root, suffix))?.source;
    assert.is(sourceOf(`${WHEEL}/cu13/lib`), 'python wheels');
    assert.is(sourceOf(`${WHEEL}/cudnn/lib`), 'python wheels');
    assert.is(sourceOf('home/.local/lib/python3.10/site-packages/nvidia/cuda_runtime/lib'), 'python wheels');
    assert.is(sourceOf('usr/local/cuda-12.4/targets/x86_64-linux/lib'), 'CUDA toolkit');
    assert.is(sourceOf('usr/lib/x86_64-linux-gnu'), 'system');

    const found = locateLibraries([...PINNED_CUDA_RUNTIME_LIBRARIES, 'libcuda.so.1'], fakeOptions(root));
    const by = Object.fromEntries(found.map((l) => [l.name, l]));
    assert.is(by['libcudart.so.13']!.path, join(root, `${WHEEL}/cu13/lib/libcudart.so.13`));
    assert.is(by['libcudart.so.13']!.onLoaderPath, false);
    assert.equal(by['libcudart.so.13']!.otherVersions, ['libcudart.so.12']);
    assert.is(by['libcudnn.so.9']!.path, join(root, `${WHEEL}/cudnn/lib/libcudnn.so.9`));
    assert.is(by['libcurand.so.10']!.source, 'CUDA toolkit');
    assert.is(by['libcuda.so.1']!.source, 'system');
    assert.is(by['libcuda.so.1']!.onLoaderPath, true);

    // What bin/rote.js would add: the directories of libraries found off the loader path, once each.
    assert.equal(loaderPathAdditions(found), [
      join(root, `${WHEEL}/cu13/lib`),
      join(root, 'usr/local/cuda-12.4/targets/x86_64-linux/lib'),
      join(root, `${WHEEL}/cudnn/lib`),
    ]);
    // Already on LD_LIBRARY_PATH: found there first, nothing to add for it.
    const withPath = locateLibraries(
      ['libcudart.so.13'],
      fakeOptions(root, { LD_LIBRARY_PATH: join(root, `${WHEEL}/cu13/lib`) }),
    );
    assert.is(withPath[0]!.source, 'LD_LIBRARY_PATH');
    assert.is(withPath[0]!.onLoaderPath, true);
    assert.equal(loaderPathAdditions(withPath, join(root, `${WHEEL}/cu13/lib`)), []);
    // The ldconfig cache counts as the loader path.
    const cached = locateLibraries(['libcudnn.so.9'], {
      ...fakeOptions(root),
      ldconfig: new Map([['libcudnn.so.9', '/opt/x/libcudnn.so.9']]),
    });
    assert.equal(
      [cached[0]!.path, cached[0]!.source, cached[0]!.onLoaderPath],
      ['/opt/x/libcudnn.so.9', 'ldconfig', true],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('locateLibraries: a missing library, a wrong major version only, ROTE_CUDA_LIBRARY_PATH and conda', () => {
  const root = tree([
    'home/.local/lib/python3.10/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12',
    'custom/libcublas.so.13',
    'conda/lib/libcurand.so.10',
  ]);
  try {
    const found = locateLibraries(
      ['libcudart.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudnn.so.9'],
      fakeOptions(root, { ROTE_CUDA_LIBRARY_PATH: join(root, 'custom'), CONDA_PREFIX: join(root, 'conda') }),
    );
    const by = Object.fromEntries(found.map((l) => [l.name, l]));
    assert.is(by['libcudart.so.13']!.path, null);
    assert.equal(by['libcudart.so.13']!.otherVersions, ['libcudart.so.12']);
    assert.is(by['libcublas.so.13']!.source, 'ROTE_CUDA_LIBRARY_PATH');
    assert.is(by['libcurand.so.10']!.source, 'conda');
    assert.is(by['libcudnn.so.9']!.path, null);
    assert.equal(by['libcudnn.so.9']!.otherVersions, []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cudaLibraryReport on a fake ORT directory and library tree; cudaMissingReason names what is missing', () => {
  const root = tree([...FAKE_TREE, ...CUDA_PROVIDER_LIBRARIES.map((n) => `ort/${n}`), 'ort/libonnxruntime.so.1']);
  try {
    const report = cudaLibraryReport({ ...fakeOptions(root), providerDir: join(root, 'ort') });
    assert.equal(report.providerMissing, []);
    assert.match(report.required.source, 'pinned'); // the fake provider is not ELF
    assert.ok(report.libraries.every((l) => l.path !== null));
    assert.is(report.driver.path, join(root, 'usr/lib/x86_64-linux-gnu/libcuda.so.1'));
    assert.is(report.additions.length, 3);
    assert.match(cudaMissingReason(report)!, 'not on the loader path');

    // As in the process bin/rote.js restarts: the additions on LD_LIBRARY_PATH -> nothing missing.
    const restarted = cudaLibraryReport({
      ...fakeOptions(root, { LD_LIBRARY_PATH: report.additions.join(':') }),
      providerDir: join(root, 'ort'),
    });
    assert.equal(restarted.additions, []);
    assert.is(cudaMissingReason(restarted), null);

    rmSync(join(root, `${WHEEL}/cudnn`), { recursive: true });
    const noCudnn = cudaLibraryReport({ ...fakeOptions(root), providerDir: join(root, 'ort') });
    assert.match(cudaMissingReason(noCudnn)!, 'CUDA runtime library libcudnn.so.9 not found');

    rmSync(join(root, 'ort', 'libonnxruntime_providers_cuda.so'));
    const noProvider = cudaLibraryReport({ ...fakeOptions(root), providerDir: join(root, 'ort') });
    assert.equal(noProvider.providerMissing, ['libonnxruntime_providers_cuda.so']);
    assert.match(
      cudaMissingReason(noProvider)!,
      'CUDA provider libraries not installed: libonnxruntime_providers_cuda.so',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('cudaMissingReason: no driver', () => {
  const root = tree(FAKE_TREE.filter((f) => !f.includes('libcuda.so.1')));
  try {
    const report = cudaLibraryReport({ ...fakeOptions(root), providerDir: null });
    const installed: CudaLibraryReport = { ...report, providerMissing: [] };
    assert.match(cudaMissingReason(installed)!, 'NVIDIA driver library libcuda.so.1 not found');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('reexecPlan: only ORT commands, not for cpu/webgpu, only with the provider, never twice', () => {
  const report =
    (additions: string[]): (() => CudaLibraryReport) =>
    () =>
      ({ additions }) as CudaLibraryReport;
  const env = { LD_LIBRARY_PATH: '/already' };
  const plan = reexecPlan(
    ['audit', '--canaries', 'c', '--model', 'm'],
    env,
    report(['/w/cu13/lib', '/w/cudnn/lib']),
    () => true,
    'linux-x64',
  );
  assert.equal(plan, { ldLibraryPath: '/w/cu13/lib:/w/cudnn/lib:/already', added: ['/w/cu13/lib', '/w/cudnn/lib'] });
  assert.ok(reexecPlan(['--quiet', 'demo'], {}, report(['/w']), () => true, 'linux-x64'));
  assert.ok(reexecPlan(['transcribe', '--provider', 'cuda'], {}, report(['/w']), () => true, 'linux-x64'));
  assert.is(
    reexecPlan(['transcribe', '--provider', 'cpu'], {}, report(['/w']), () => true, 'linux-x64'),
    null,
  );
  assert.is(
    reexecPlan(['audit', '--provider=webgpu'], {}, report(['/w']), () => true, 'linux-x64'),
    null,
  );
  assert.is(
    reexecPlan(['generate', '--out', 'x'], {}, report(['/w']), () => true, 'linux-x64'),
    null,
  );
  assert.is(
    reexecPlan(['audit'], { ROTE_CUDA_REEXEC: '/w' }, report(['/w']), () => true, 'linux-x64'),
    null,
  );
  assert.is(
    reexecPlan(['audit'], {}, report(['/w']), () => false, 'linux-x64'),
    null,
  );
  assert.is(
    reexecPlan(['audit'], {}, report([]), () => true, 'linux-x64'),
    null,
  );
  assert.is(
    reexecPlan(['audit'], {}, report(['/w']), () => true, 'darwin-arm64'),
    null,
  );
  let asked = false;
  reexecPlan(
    ['generate'],
    {},
    () => ((asked = true), { additions: ['/w'] }) as unknown as CudaLibraryReport,
    () => true,
    'linux-x64',
  );
  assert.is(asked, false, 'no library search for commands that never open a session');
});

test("dlopenError: the loader's own reason for a library that does not load, null for one that does", () => {
  const root = tree(['nvidia/cu13/lib/libcublasLt.so.13']);
  try {
    assert.match(
      dlopenError(join(root, 'nvidia/cu13/lib/libcublasLt.so.13'))!,
      /libcublasLt\.so\.13: (file too short|invalid ELF header)/,
    );
    assert.match(dlopenError(join(root, 'missing.so'))!, 'missing.so');
    assert.is(dlopenError(join(ortBinaryDir()!, 'libonnxruntime.so.1')), null);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bin/rote.js restarts once with the wheel and driver directories on LD_LIBRARY_PATH (rote doctor --json)', async () => {
  // The provider must be next to libonnxruntime.so.1 for the restart: stand-in files are put
  // there for this test and removed after it, unless `npm run setup:cuda` installed the real ones.
  const ort = ortBinaryDir()!;
  const placed = CUDA_PROVIDER_LIBRARIES.filter((name) => !existsSync(join(ort, name)));
  for (const name of placed) writeFileSync(join(ort, name), 'stand-in provider (test/setup/cuda.test.ts)\n');
  const root = tree(FAKE_TREE);
  try {
    const rote = fileURLToPath(new URL('../../bin/rote.js', import.meta.url));
    const extra = [
      join(root, 'usr/local/cuda-12.4/targets/x86_64-linux/lib'),
      join(root, 'usr/lib/x86_64-linux-gnu'),
    ].join(':');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      VIRTUAL_ENV: join(root, 'venv'),
      ROTE_CUDA_LIBRARY_PATH: extra,
      LD_LIBRARY_PATH: '',
    };
    delete env.ROTE_CUDA_REEXEC;
    const { stdout } = await promisify(execFile)(process.execPath, [rote, 'doctor', '--json'], {
      env,
      maxBuffer: 1 << 24,
    });
    const report = JSON.parse(stdout) as {
      cuda: {
        addedByRote: string | null;
        additions: string[];
        libraries: { name: string; source: string; onLoaderPath: boolean }[];
      };
      providers: { cuda: string | null; cpu: string | null };
    };
    const added = report.cuda.addedByRote?.split(':') ?? [];
    assert.ok(added.includes(join(root, `${WHEEL}/cu13/lib`)), `added: ${report.cuda.addedByRote}`);
    assert.ok(added.includes(join(root, `${WHEEL}/cudnn/lib`)));
    assert.ok(added.includes(join(root, 'usr/lib/x86_64-linux-gnu')), 'the (stand-in) driver directory too');
    assert.equal(report.cuda.additions, [], 'in the restarted process nothing is left to add');
    assert.ok(
      report.cuda.libraries
        .filter((l) => l.name !== 'libcudart.so.13')
        .every((l) => l.onLoaderPath && l.source === 'LD_LIBRARY_PATH'),
    );
    assert.is(report.providers.cpu, null);
    assert.type(report.providers.cuda, 'string'); // no GPU and stand-in libraries: CUDA fails, with the loader's reason
    assert.match(report.providers.cuda!, /Failed to load shared library: .*(file too short|invalid ELF header)/);
  } finally {
    for (const name of placed) rmSync(join(ort, name), { force: true });
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
