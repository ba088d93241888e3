import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';

// Imported through the package's own name and "exports" map (self-reference), as a user's script would.
const front = await import('rote');

test('the front door is a named list: what users call is there, internals are not', () => {
  for (const name of [
    'generateCanarySet',
    'importCanarySet',
    'injectCanaries',
    'verifyInjection',
    'loadModel',
    'transcribeFiles',
    'audit',
    'compare',
    'trajectory',
    'checkCanaries',
    'readAuditReport',
    'writeAuditReport',
    'writeComparisonReport',
    'validateReport',
    'RoteError',
  ]) {
    assert.type((front as Record<string, unknown>)[name], 'function', name);
  }
  for (const internal of [
    'padFeatures',
    'owensT',
    'shellQuote',
    'planBatches',
    'midRanks',
    'readOnnxBytes',
    'scanRecords',
    'canonicalJson',
  ]) {
    assert.not.ok(internal in front, `${internal} is on the front door`);
  }
});

test('internals stay reachable through the stage subpaths', async () => {
  const stats = await import('rote/stats');
  assert.type(stats.owensT, 'function');
  assert.type(stats.wilcoxonSignedRank, 'function');
  assert.type(stats.oneRunEpsilon, 'function');
  assert.type((await import('rote/features')).nemoMel, 'function');
  // the subpath is named after its folder (src/audio); rote/features is its older name
  assert.is((await import('rote/audio')).nemoMel, (await import('rote/features')).nemoMel);
  assert.type((await import('rote/asr')).padFeatures, 'function');
  assert.type((await import('rote/canary')).shellQuote, 'function');
  assert.type((await import('rote/manifest')).injectCanaries, 'function');
  // verify's exit codes live in the library, as audit's do (the CLI maps a report to its status with verifyExitCode).
  assert.equal((front as Record<string, unknown>).VERIFY_EXIT_CODES, {
    leak: 3,
    countMismatchOrTampered: 4,
    unverifiable: 5,
  });
  assert.type((await import('rote/manifest')).verifyExitCode, 'function');
  assert.type((await import('rote/audit')).buildAuditReport, 'function');
});

test('every name the README imports from rote is on the front door', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const names = [...readme.matchAll(/import \{([\w\s,]+)\} from 'rote'/g)].flatMap((match) =>
    match[1]!
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
  assert.ok(names.length > 0, 'README imports nothing from rote');
  for (const name of names) assert.ok(name in front, `README imports ${name}, which the front door does not export`);
});

test.run();
