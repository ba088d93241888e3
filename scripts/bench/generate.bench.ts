/**
 * Bench: generating 200 canaries (20 per group x 5 groups + 100 held out,
 * 6 words, rate 100, 3x tempo, 16 kHz) with rote, against a baseline
 * pipeline run side by side: Debian's espeak-ng CLI plus ffmpeg (atempo
 * chain, 16 kHz mono s16) per canary, the same texts and voices, as many
 * processes at once as there are cores. Rounds alternate (rote, baseline,
 * rote, baseline) so load from elsewhere hits both; the best round of each
 * is reported. Installs espeak-ng and ffmpeg with apt-get when missing.
 *
 * Run: npm run bench generate
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet, GENERATE_DEFAULTS } from '../../src/canary/index.ts';

const PER_GROUP = 20;
const HOLDOUT = 100;
const ROUNDS = 2;

function which(program: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function ensureBaselineTools(): { espeak: string; ffmpeg: string } {
  let espeak = which('espeak-ng');
  let ffmpeg = which('ffmpeg');
  if (!espeak || !ffmpeg) {
    console.log('installing Debian espeak-ng and ffmpeg for the baseline (apt-get)...');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng ffmpeg'], { stdio: 'inherit' });
    espeak = which('espeak-ng');
    ffmpeg = which('ffmpeg');
  }
  if (!espeak || !ffmpeg) throw new Error('bench generate: espeak-ng and ffmpeg are needed for the baseline');
  return { espeak, ffmpeg };
}

function exec(program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program, args, (error, _stdout, stderr) => (error ? reject(new Error(`${program} failed: ${stderr || error.message}`)) : resolve()));
  });
}

async function baseline(
  tools: { espeak: string; ffmpeg: string },
  canaries: { id: string; text: string; voice: string }[],
  directory: string,
  parallel: number,
): Promise<number> {
  await mkdir(directory, { recursive: true });
  const started = performance.now();
  let next = 0;
  const atempo = 'atempo=2.0,atempo=1.5';
  const rate = String(GENERATE_DEFAULTS.rate);
  const worker = async () => {
    while (next < canaries.length) {
      const canary = canaries[next++]!;
      const raw = join(directory, `${canary.id}.raw.wav`);
      await exec(tools.espeak, ['-v', canary.voice, '-s', rate, '-p', '50', '-w', raw, canary.text]);
      await exec(tools.ffmpeg, ['-nostdin', '-v', 'error', '-y', '-i', raw, '-af', atempo, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', join(directory, `${canary.id}.wav`)]);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return (performance.now() - started) / 1000;
}

export async function run(): Promise<void> {
  const tools = ensureBaselineTools();
  const parallel = availableParallelism();
  const root = await mkdtemp(join(tmpdir(), 'rote-bench-generate-'));
  const count = PER_GROUP * GENERATE_DEFAULTS.repetitions.length + HOLDOUT;
  const rote: number[] = [];
  const base: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const out = join(root, `rote-${round}`);
      const result = await generateCanarySet({ out, perGroup: PER_GROUP, holdout: HOLDOUT });
      rote.push(result.seconds);
      const canaries = result.set.canaries.map((c) => ({ id: c.id, text: c.text, voice: c.tts.voice }));
      base.push(await baseline(tools, canaries, join(root, `baseline-${round}`), parallel));
      console.log(`round ${round + 1}: rote ${result.seconds.toFixed(2)} s, baseline ${base[round]!.toFixed(2)} s`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const bestRote = Math.min(...rote);
  const bestBase = Math.min(...base);
  console.log(`machine: ${parallel} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}`);
  console.log(`canaries: ${count} (6 words, rate ${GENERATE_DEFAULTS.rate} wpm, 3x tempo, 16 kHz), best of ${ROUNDS} rounds`);
  console.log(`rote generate:                ${(count / bestRote).toFixed(1)} canaries/s (${bestRote.toFixed(2)} s, includes start-up)`);
  console.log(`espeak-ng CLI + ffmpeg x${parallel}:  ${(count / bestBase).toFixed(1)} canaries/s (${bestBase.toFixed(2)} s)`);
  console.log(`ratio rote / baseline: ${(bestBase / bestRote).toFixed(2)}`);
}
