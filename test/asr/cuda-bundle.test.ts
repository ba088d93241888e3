/**
 * The CUDA bundle's journey to the device in parts (scripts/gpu/pack-cuda.sh lays them out,
 * scripts/gpu/cuda_bundle.py checks and joins them there), on a small bundle made here the
 * same way: tar, xz, split, part.json per part.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/gpu/cuda_bundle.py', import.meta.url));
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function bundle(): { dir: string; device: string; count: number; provider: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'rote-cuda-bundle-'));
  const provider = randomBytes(120_000); // incompressible: xz leaves it ~120 kB, 3+ parts
  mkdirSync(join(dir, 'src', 'provider'), { recursive: true });
  mkdirSync(join(dir, 'src', 'models', 'baseline'), { recursive: true });
  writeFileSync(join(dir, 'src', 'provider', 'libonnxruntime_providers_cuda.so'), provider);
  writeFileSync(join(dir, 'src', 'models', 'baseline', 'model.onnx'), 'fake model');
  execFileSync('bash', ['-c', `tar -cf - -C "${join(dir, 'src')}" . | xz -1 -c > "${join(dir, 'bundle.tar.xz')}"`]);
  const whole = readFileSync(join(dir, 'bundle.tar.xz'));
  execFileSync('split', ['-b', '40000', '-d', '-a', '2', join(dir, 'bundle.tar.xz'), join(dir, 'part-')]);
  const parts = readdirSync(dir)
    .filter((n) => n.startsWith('part-'))
    .sort();
  const device = join(dir, '.device');
  parts.forEach((name, i) => {
    const partDir = join(device, `cuda-${i + 1}`);
    mkdirSync(partDir, { recursive: true });
    const bytes = readFileSync(join(dir, name));
    writeFileSync(join(partDir, 'bundle.part'), bytes);
    writeFileSync(
      join(partDir, 'part.json'),
      JSON.stringify({
        index: i + 1,
        count: parts.length,
        sha256: sha256(bytes),
        bundle_sha256: sha256(whole),
        bundle_bytes: whole.length,
      }),
    );
  });
  return { dir, device, count: parts.length, provider };
}

const py = (...args: string[]) => spawnSync(python, [script, ...args], { encoding: 'utf8' });

test('cuda_bundle.py: parts arriving one call at a time, then joined and unpacked byte for byte', () => {
  const b = bundle();
  try {
    assert.ok(b.count >= 2, 'the test bundle spans several parts');
    // As after the first call: only part 1 has arrived.
    const held = join(b.dir, 'held');
    mkdirSync(held);
    for (let i = 2; i <= b.count; i++) execFileSync('mv', [join(b.device, `cuda-${i}`), join(held, `cuda-${i}`)]);
    const first = py('check', b.device);
    assert.is(first.status, 0);
    assert.match(first.stdout, `parts [1] of ${b.count} present and intact`);
    assert.match(first.stdout, 'still to come');
    const early = py('assemble', b.device, join(b.dir, 'out'));
    assert.is(early.status, 2);
    assert.match(early.stdout, 'CUDA bundle parts missing');
    for (let i = 2; i <= b.count; i++) execFileSync('mv', [join(held, `cuda-${i}`), join(b.device, `cuda-${i}`)]);
    assert.match(py('check', b.device).stdout, 'complete');
    const done = py('assemble', b.device, join(b.dir, 'out'));
    assert.is(done.status, 0, done.stdout + done.stderr);
    assert.equal(JSON.parse(done.stdout).files, [
      'models/baseline/model.onnx',
      'provider/libonnxruntime_providers_cuda.so',
    ]);
    assert.ok(readFileSync(join(b.dir, 'out', 'provider', 'libonnxruntime_providers_cuda.so')).equals(b.provider));
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
});

test('cuda_bundle.py: a damaged part is refused, naming it', () => {
  const b = bundle();
  try {
    const part = join(b.device, 'cuda-2', 'bundle.part');
    const bytes = readFileSync(part);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(part, bytes);
    assert.is(statSync(part).size, bytes.length);
    const check = py('check', b.device);
    assert.is(check.status, 1);
    assert.match(check.stdout, 'part 2 damaged');
    assert.is(py('assemble', b.device, join(b.dir, 'out')).status, 1);
    assert.not.ok(existsSync(join(b.dir, 'out')));
  } finally {
    rmSync(b.dir, { recursive: true, force: true });
  }
});

test.run();
