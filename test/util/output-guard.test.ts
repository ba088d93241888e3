/** The one rule "an output never lands on an input" (src/util/output-guard.ts), on real files and links. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refuseOutputsOnInputs, type GuardedInput } from '../../src/util/output-guard.ts';
import { OptionError } from '../../src/util/options.ts';

async function refusal(promise: Promise<void>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    assert.instance(error, OptionError);
    return (error as OptionError).render((key) => `--${key}`);
  }
}

test('outputs are compared with inputs by real path, inode and folder, and only collisions are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rote-guard-'));
  try {
    const data = join(dir, 'data');
    await mkdir(join(data, 'audio'), { recursive: true });
    const manifest = join(data, 'train.json');
    await writeFile(manifest, '{}\n');
    const inputs: GuardedInput[] = [
      { path: manifest, what: 'the manifest', key: 'manifest' },
      { path: join(dir, 'set'), what: 'the set', key: 'canaries', tree: true },
      { path: join(dir, 'missing.json'), what: 'a missing file', key: 'manifest' },
    ];
    await mkdir(join(dir, 'set'));
    await symlink(data, join(dir, 'data-link'));
    await link(manifest, join(dir, 'hard.json'));
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling.json'));
    await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
    await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
    const check = (path: string, kind: 'file' | 'folder' | 'into') =>
      refusal(refuseOutputsOnInputs(inputs, [{ path, key: 'out', kind }]));

    assert.match(
      (await check(join(dir, 'data-link', 'train.json'), 'file'))!,
      `--out ${join(dir, 'data-link', 'train.json')} is the manifest ${manifest} (through a symbolic link: ${manifest}), which this run reads (--manifest); an output never replaces an input (not even with --force): choose another --out`,
    );
    assert.match((await check(join(dir, 'hard.json'), 'file'))!, /hard\.json is a hard link to the manifest/);
    assert.match((await check(join(dir, 'set', 'new', 'deep.json'), 'file'))!, /deep\.json is inside the set/);
    assert.match((await check(data, 'folder'))!, /--out .*\/data holds the manifest/);
    assert.match((await check(dir, 'folder'))!, /holds the (manifest|set)/);
    // Folders files are added to may hold inputs; new paths, a dangling link and a missing input are no collision.
    assert.is(await check(data, 'into'), null);
    assert.is(await check(join(dir, 'out', 'new', 'o.json'), 'file'), null);
    assert.is(await check(join(dir, 'dangling.json'), 'file'), null);
    assert.is(await check(join(dir, 'missing.json', 'x'), 'file'), null);
    // A symbolic link loop is named, not taken for a missing file.
    const loop = await refuseOutputsOnInputs(inputs, [{ path: join(dir, 'loop-a'), key: 'out', kind: 'file' }]).then(
      () => null,
      (error: Error) => error.message,
    );
    assert.match(loop ?? '', /^symbolic link loop at .*loop-a \(ELOOP\)/);
    // Without a --force option the message does not mention one.
    const plain = await refusal(
      refuseOutputsOnInputs(inputs, [{ path: manifest, key: 'out', kind: 'file' }], { force: false }),
    );
    assert.not.match(plain!, /force/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
