/**
 * Bench: generating 200 canaries (20 per group x 5 groups + 100 held out,
 * 6 words, rate 100, 3x tempo, 16 kHz) with rote, against a baseline
 * pipeline run side by side: Debian's espeak-ng CLI plus ffmpeg (atempo
 * chain, 16 kHz mono s16) per canary, the same texts and voices, as many
 * processes at once as there are cores. Order: rote, baseline, rote (the
 * baseline spawns 400 processes and takes minutes, so it runs once, between
 * two rote runs, and the better rote run is reported). Besides wall time it
 * reports CPU seconds (this process's threads plus its reaped child
 * processes, from /proc/self/stat), which load from other jobs distorts far
 * less than wall time. Installs espeak-ng and ffmpeg with apt-get when missing.
 *
 * Run: npm run bench generate
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCanarySet, GENERATE_DEFAULTS } from '../../src/canary/index.ts';

const PER_GROUP = 20;
const HOLDOUT = 100;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const USER_HZ = 100;

/** CPU seconds used so far by this process (all threads) and by its children that have exited. */
function cpuSeconds(): { self: number; children: number } {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return {
      self: (Number(fields[11]) + Number(fields[12])) / USER_HZ,
      children: (Number(fields[13]) + Number(fields[14])) / USER_HZ,
    };
  } catch {
    const usage = process.cpuUsage();
    return { self: (usage.user + usage.system) / 1e6, children: Number.NaN };
  }
}

interface Measured {
  seconds: number;
  cpuSelf: number;
  cpuChildren: number;
}

async function measure(task: () => Promise<unknown>): Promise<Measured> {
  const before = cpuSeconds();
  const started = performance.now();
  await task();
  const after = cpuSeconds();
  return {
    seconds: (performance.now() - started) / 1000,
    cpuSelf: after.self - before.self,
    cpuChildren: after.children - before.children,
  };
}

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
    execFileSync(
      'sh',
      ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng ffmpeg'],
      { stdio: 'inherit' },
    );
    espeak = which('espeak-ng');
    ffmpeg = which('ffmpeg');
  }
  if (!espeak || !ffmpeg) throw new Error('bench generate: espeak-ng and ffmpeg are needed for the baseline');
  return { espeak, ffmpeg };
}

function exec(program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(program, args, (error, _stdout, stderr) =>
      error ? reject(new Error(`${program} failed: ${stderr || error.message}`)) : resolve(),
    );
  });
}

async function baseline(
  tools: { espeak: string; ffmpeg: string },
  canaries: { id: string; text: string; voice: string }[],
  directory: string,
  parallel: number,
): Promise<void> {
  await mkdir(directory, { recursive: true });
  let next = 0;
  const atempo = 'atempo=2.0,atempo=1.5';
  const rate = String(GENERATE_DEFAULTS.rate);
  const worker = async () => {
    while (next < canaries.length) {
      const canary = canaries[next++]!;
      const raw = join(directory, `${canary.id}.raw.wav`);
      await exec(tools.espeak, ['-v', canary.voice, '-s', rate, '-p', '50', '-w', raw, canary.text]);
      await exec(tools.ffmpeg, [
        '-nostdin',
        '-v',
        'error',
        '-y',
        '-i',
        raw,
        '-af',
        atempo,
        '-ar',
        '16000',
        '-ac',
        '1',
        '-c:a',
        'pcm_s16le',
        join(directory, `${canary.id}.wav`),
      ]);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

function describe(label: string, count: number, m: Measured): string {
  const cpu = m.cpuSelf + m.cpuChildren;
  return `${label.padEnd(34)} ${(count / m.seconds).toFixed(1).padStart(6)} canaries/s (${m.seconds.toFixed(2)} s wall); CPU ${cpu.toFixed(2)} s = ${((1000 * cpu) / count).toFixed(1)} ms/canary (${m.cpuSelf.toFixed(2)} s in process, ${m.cpuChildren.toFixed(2)} s in child processes)`;
}

export async function run(): Promise<void> {
  const tools = ensureBaselineTools();
  const parallel = availableParallelism();
  const root = await mkdtemp(join(tmpdir(), 'rote-bench-generate-'));
  const count = PER_GROUP * GENERATE_DEFAULTS.repetitions.length + HOLDOUT;
  const loadBefore = loadavg()[0]!;
  const rote: Measured[] = [];
  let base: Measured;
  try {
    const roteRun = async (round: number) => {
      let canaries: { id: string; text: string; voice: string }[] = [];
      const measured = await measure(async () => {
        const result = await generateCanarySet({
          out: join(root, `rote-${round}`),
          seed: 'bench',
          perGroup: PER_GROUP,
          holdout: HOLDOUT,
        });
        canaries = result.set.canaries.map((c) => ({ id: c.id, text: c.text, voice: c.tts.voice }));
      });
      rote.push(measured);
      console.log(describe(`rote round ${round + 1}`, count, measured));
      return canaries;
    };
    const canaries = await roteRun(0);
    base = await measure(() => baseline(tools, canaries, join(root, 'baseline'), parallel));
    console.log(describe('baseline', count, base));
    await roteRun(1);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const best = rote.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  console.log(
    `machine: ${parallel} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}, load average ${loadBefore.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after`,
  );
  console.log(
    `canaries: ${count} (6 words, rate ${GENERATE_DEFAULTS.rate} wpm, 3x tempo, 16 kHz); rote: better of 2 runs around 1 baseline run`,
  );
  console.log(describe('rote generate (in process)', count, best));
  console.log(describe(`espeak-ng CLI + ffmpeg x${parallel}`, count, base));
  console.log(
    `ratio rote / baseline: ${(base.seconds / best.seconds).toFixed(2)} by wall time, ${((base.cpuSelf + base.cpuChildren) / (best.cpuSelf + best.cpuChildren)).toFixed(2)} by CPU time`,
  );
  console.log(
    `CPU-bound rate on ${parallel} idle cores: rote <= ${((parallel * count) / (best.cpuSelf + best.cpuChildren)).toFixed(1)} canaries/s, baseline <= ${((parallel * count) / (base.cpuSelf + base.cpuChildren)).toFixed(1)}`,
  );
}
