import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectCanaries } from '../../src/manifest/index.ts';
import { temporaryDir, writeTestSet } from './helpers.ts';

async function writeNemo(path: string, lines: number, offset = 0): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    const n = i + offset;
    const line = `{"audio_filepath": "/data/corpus/spk${n % 997}/utt${String(n).padStart(8, '0')}.wav", "duration": ${(1 + (n % 150) / 10).toFixed(2)}, "text": "sentence ${n} of a generated corpus with a few ordinary words in it", "lang": "en"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

test('positions are uniform across the whole manifest and spread over shards', async () => {
  const { dir, cleanup } = await temporaryDir('uniform');
  try {
    const set = await writeTestSet(
      join(dir, 'set'),
      16000,
      Array.from({ length: 10 }, () => 16),
    );
    const shards = [0, 1, 2].map((k) => join(dir, `shard-${k}.json`));
    for (const [k, shard] of shards.entries()) await writeNemo(shard, 2000, k * 2000);
    const receipt = await injectCanaries({
      manifests: [join(dir, 'shard-*.json')],
      canaries: set.dir,
      output: join(dir, 'out'),
      audioDir: join(dir, 'wav'),
      sampleRate: 16000,
      link: true,
    });
    const positions = receipt.canaries.flatMap((c) => c.positions);
    assert.is(positions.length, 160);
    const perShard = shards.map((s) => positions.filter((p) => p.file.endsWith(s.split('/').pop()!)).length);
    for (const count of perShard) assert.ok(count > 30 && count < 80, `per shard: ${perShard}`);
    // Global rank of each copy among the 6000 + 160 records, by shard then record.
    const ranks = positions.map(
      (p) => (shards.findIndex((s) => p.file.endsWith(s.split('/').pop()!)) * 2000 + p.record) / 6000,
    );
    const mean = ranks.reduce((a, b) => a + b, 0) / ranks.length;
    assert.ok(Math.abs(mean - 0.5) < 0.08, `mean relative position ${mean}`);
    for (let q = 0; q < 4; q++) {
      const inQuarter = ranks.filter((r) => r >= q / 4 && r < (q + 1) / 4).length;
      assert.ok(inQuarter > 20 && inQuarter < 60, `quarter ${q}: ${inQuarter}`);
    }
    // Copies of one canary are not adjacent blocks.
    for (const canary of receipt.canaries)
      assert.ok(new Set(canary.positions.map((p) => `${p.file}:${Math.floor(p.record / 100)}`)).size > 8);
  } finally {
    await cleanup();
  }
});

test('memory stays bounded: 400k lines need about the RSS of 200k lines', async () => {
  const { dir, cleanup } = await temporaryDir('memory');
  try {
    const set = await writeTestSet(join(dir, 'set'));
    await writeNemo(join(dir, 'small.json'), 200_000);
    await writeNemo(join(dir, 'large.json'), 400_000);
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const script = `
      const { injectCanaries } = await import(${JSON.stringify(join(root, 'src/manifest/index.ts'))});
      const [input, output] = process.argv.slice(-2);
      await injectCanaries({ manifests: [input], canaries: ${JSON.stringify(set.dir)}, output, audioDir: output + '.wav', sampleRate: 16000 });
      // Peak RSS in kB. On Linux, getrusage's maxRSS of a spawned child starts at the parent's RSS at
      // fork (the whole test run's), so read the child's own high-water mark where /proc has it.
      const { readFileSync } = await import('node:fs');
      let status = '';
      try { status = readFileSync('/proc/self/status', 'utf8'); } catch {}
      const highWater = /VmHWM:\\s+(\\d+) kB/.exec(status);
      process.stdout.write(String(highWater ? Number(highWater[1]) : process.resourceUsage().maxRSS));`;
    const rss = async (name: string): Promise<number> => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--max-semi-space-size=2',
          '--max-old-space-size=64',
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
          join(dir, name),
          join(dir, `out-${name}`),
        ],
        { cwd: root },
      );
      const kilobytes = Number(stdout.trim().split(/\s+/).pop());
      if (!Number.isFinite(kilobytes)) throw new Error(`child printed ${JSON.stringify(stdout)}`);
      return kilobytes / 1024;
    };
    const small = await rss('small.json');
    const large = await rss('large.json');
    // A small, fixed young generation and a 64 MB old-space cap make RSS track what is
    // retained, not how far V8 let garbage pile up (on a loaded machine its concurrent GC
    // lags and RSS balloons without them); an inject that held the input would die here. Past V8's warm-up (RSS levels off near 110 MB from 200k to 800k
    // lines, measured), the large input is 29 MB bigger; holding it would add at least that.
    assert.ok(large - small < 12, `RSS grew from ${small.toFixed(1)} MB to ${large.toFixed(1)} MB`);
    assert.ok(large < 150, `RSS ${large.toFixed(1)} MB`);
  } finally {
    await cleanup();
  }
});

test.run();
