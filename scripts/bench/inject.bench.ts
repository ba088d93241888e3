/**
 * inject bench: a generated 1M-line NeMo manifest through `injectCanaries`
 * (in a child process, for its peak RSS) against `cat` of the same file.
 * Targets (issue 3): time <= 2x cat, peak RSS < 150 MB.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeWav16 } from '../../src/util/wav.ts';
import { sha256Hex } from '../../src/util/hash.ts';

const LINES = Number(process.env.ROTE_BENCH_INJECT_LINES ?? 1_000_000);
const root = fileURLToPath(new URL('../../', import.meta.url));
const run_ = promisify(execFile);

async function writeManifest(path: string): Promise<void> {
  const out = createWriteStream(path);
  for (let n = 0; n < LINES; n++) {
    const line = `{"audio_filepath": "/data/LibriSpeech/train-clean-100/${n % 997}/${n % 53}/${n % 997}-${n % 53}-${String(n).padStart(7, '0')}.flac", "duration": ${(1 + (n % 150) / 10).toFixed(2)}, "text": "sentence ${n} of a generated corpus with a few ordinary words in it", "lang": "en"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

/** 30 canaries, repetitions 1..16, 16 kHz tones: the for-training part of a set. */
async function writeTrainingList(dir: string): Promise<void> {
  await mkdir(join(dir, 'audio'), { recursive: true });
  const repetitions = [1, 2, 4, 8, 16];
  const canaries = [];
  for (let i = 0; i < 30; i++) {
    const samples = new Float32Array(16000).map((_, t) => 0.3 * Math.sin((2 * Math.PI * (200 + 20 * i) * t) / 16000));
    const wav = encodeWav16(samples, 16000);
    const id = sha256Hex(`bench-${i}`).slice(0, 8);
    await writeFile(join(dir, 'audio', `${id}.wav`), wav);
    canaries.push({ id, text: `bench canary number ${i} words`, repetitions: repetitions[i % 5]!, audio: `audio/${id}.wav`, durationSec: 1, sha256: sha256Hex(wav) });
  }
  await writeFile(join(dir, 'canaries.json'), JSON.stringify({ format: 1, setId: sha256Hex('bench'), sampleRate: 16000, canaries }));
}

async function timeCat(input: string, output: string): Promise<number> {
  const start = performance.now();
  await run_('/bin/sh', ['-c', `cat "${input}" > "${output}"`]);
  return (performance.now() - start) / 1000;
}

async function timeInject(input: string, dir: string, validate: 'full' | 'fast', label: string): Promise<{ wall: number; inProcess: number; rssMb: number }> {
  const output = join(dir, `out-${label}.json`);
  const script = `
    const { injectCanaries } = await import(${JSON.stringify(join(root, 'src/manifest/index.ts'))});
    const start = performance.now();
    await injectCanaries({ manifests: [${JSON.stringify(input)}], canaries: ${JSON.stringify(join(dir, 'set'))}, output: ${JSON.stringify(output)}, audioDir: ${JSON.stringify(join(dir, `wav-${label}`))}, sampleRate: 16000, validate: ${JSON.stringify(validate)} });
    process.stdout.write(JSON.stringify({ inProcess: (performance.now() - start) / 1000, maxRss: process.resourceUsage().maxRSS }));`;
  const start = performance.now();
  const { stdout } = await run_(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
  const wall = (performance.now() - start) / 1000;
  const result = JSON.parse(stdout) as { inProcess: number; maxRss: number };
  await rm(output, { force: true });
  await rm(join(dir, `wav-${label}`), { recursive: true, force: true });
  return { wall, inProcess: result.inProcess, rssMb: result.maxRss / 1024 };
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rote-bench-inject-'));
  try {
    const input = join(dir, 'train_manifest.json');
    await writeManifest(input);
    await writeTrainingList(join(dir, 'set'));
    const size = (await stat(input)).size / 1e6;
    const empty = await run_(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(join(root, 'src/manifest/index.ts'))}); process.stdout.write(String(process.resourceUsage().maxRSS))`], { cwd: root });
    console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}; manifest: ${LINES} lines, ${size.toFixed(0)} MB, 30 canaries / 186 copies`);
    console.log(`node + tsx + rote modules alone: peak RSS ${(Number(empty.stdout) / 1024).toFixed(0)} MB`);
    const cats: number[] = [];
    for (let i = 0; i < 3; i++) cats.push(await timeCat(input, join(dir, 'cat-out.json')));
    const cat = Math.min(...cats);
    console.log(`cat: ${cat.toFixed(3)} s (best of 3)`);
    for (const validate of ['full', 'fast'] as const) {
      const runs = [await timeInject(input, dir, validate, `${validate}-1`), await timeInject(input, dir, validate, `${validate}-2`)];
      const best = runs.reduce((a, b) => (a.inProcess < b.inProcess ? a : b));
      console.log(
        `inject --validate ${validate}: ${best.inProcess.toFixed(3)} s in process (${(best.inProcess / cat).toFixed(2)}x cat), ` +
          `${best.wall.toFixed(3)} s with node startup (${(best.wall / cat).toFixed(2)}x cat), peak RSS ${Math.max(...runs.map((r) => r.rssMb)).toFixed(0)} MB`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
