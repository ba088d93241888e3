/**
 * Experiment behind scripts/bench/RESULTS.md (inject, session 4): what
 * placing an injection's canary copies costs (186 copies of one WAV, 8
 * asynchronous lanes as injectCanaries uses): copyFile, writeFile of bytes
 * in memory, hard links, and renaming copies made under other names. Wall
 * time and this process's CPU time (libuv's pool threads included).
 * Run: node scripts/bench/place-audio.mjs WAV [DIR]   (DIR default: a temporary directory, removed after)
 */
import { copyFile, link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/bench/place-audio.mjs WAV [DIR]');
  process.exit(2);
}
const COPIES = 186;
const root = process.argv[3] ?? (await mkdtemp(join(tmpdir(), 'rote-place-')));
const dir = join(root, 'audio');
const bytes = await readFile(source);

async function inLanes(work) {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < COPIES) await work(next++);
  }));
}

const kinds = {
  copyFile: (i) => copyFile(source, join(dir, `${i}.wav`), constants.COPYFILE_EXCL),
  writeFile: (i) => writeFile(join(dir, `${i}.wav`), bytes, { flag: 'wx' }),
  link: (i) => link(source, join(dir, `${i}.wav`)),
  rename: (i) => rename(join(dir, `.staged-${i}.wav`), join(dir, `${i}.wav`)),
};
try {
  for (let round = 0; round < 4; round++) {
    const line = [];
    for (const [name, work] of Object.entries(kinds)) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      if (name === 'rename') await inLanes((i) => copyFile(source, join(dir, `.staged-${i}.wav`)));
      const started = performance.now();
      const cpu = process.cpuUsage();
      await inLanes(work);
      const used = process.cpuUsage(cpu);
      line.push(`${name} ${(performance.now() - started).toFixed(1)} ms wall, ${((used.user + used.system) / 1000).toFixed(1)} ms CPU`);
    }
    console.log(line.join('; '));
  }
} finally {
  await rm(process.argv[3] ? dir : root, { recursive: true, force: true });
}
