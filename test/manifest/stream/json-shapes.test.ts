/**
 * The shape matcher must never accept a line that JSON.parse plus the NeMo
 * adapter would refuse (pass 1 skips parsing for matched lines). Fuzzed:
 * valid lines mutated byte by byte with JSON's significant characters.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShapeMatcher } from '../../../src/manifest/stream/json-shapes.ts';
import { nemoAdapter } from '../../../src/manifest/formats/nemo.ts';
import { SeededRandom } from '../../../src/util/random.ts';

const EXEMPLARS = [
  '{"audio_filepath": "/data/a/1-2-0001.flac", "duration": 12.3, "text": "hello world", "lang": "en"}',
  '{"audio_filepath":"wavs/x.wav","duration":1,"text":"caf\\u00e9 \\"quoted\\" tab\\t","offset":0.5,"speaker":null,"ok":true}',
  '{"audio_filepath": "/d/é.wav", "duration": -1.5e-3, "text": "straße ünïcödé"}',
];
const ALPHABET = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  '\\',
  ' ',
  '\t',
  '\r',
  '0',
  '1',
  '9',
  '.',
  'e',
  'E',
  '+',
  '-',
  'n',
  't',
  'u',
  'f',
  'a',
  'l',
  's',
  'x',
  '\u0001',
  '\u001f',
  'é',
  '\u2028',
  'u00',
  '"a":1',
  'null',
  'true',
];

function acceptedByParser(line: string): boolean {
  try {
    nemoAdapter.parse(line.replace(/\r$/, ''), { file: 'fuzz', line: 1 }, undefined);
    return true;
  } catch {
    return false;
  }
}

function matches(matcher: ShapeMatcher, line: string): boolean {
  const text = Buffer.from(`${line}\n`, 'utf8').toString('latin1');
  return matcher.matchLine(text, 0) === text.length;
}

function mutate(line: string, random: SeededRandom): string {
  let out = line;
  const edits = 1 + random.nextInt(3);
  for (let e = 0; e < edits; e++) {
    const at = random.nextInt(out.length + 1);
    const piece = ALPHABET[random.nextInt(ALPHABET.length)]!;
    const kind = random.nextInt(3);
    if (kind === 0) out = out.slice(0, at) + piece + out.slice(at);
    else if (kind === 1) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + piece + out.slice(at + 1);
  }
  return out;
}

test('learned shapes accept their own lines and nothing the parser refuses (fuzzed)', () => {
  const matcher = new ShapeMatcher();
  for (const line of EXEMPLARS) {
    assert.ok(acceptedByParser(line), line);
    assert.ok(matcher.learn(JSON.parse(line)));
    assert.ok(matches(matcher, line), `own shape: ${line}`);
  }
  assert.is(matcher.size, 3);
  const random = new SeededRandom('json-shapes-fuzz');
  let fastAccepted = 0;
  let parserAccepted = 0;
  for (let i = 0; i < 60_000; i++) {
    const line = mutate(EXEMPLARS[i % EXEMPLARS.length]!, random);
    const parser = acceptedByParser(line);
    const fast = matches(matcher, line);
    if (fast && !parser) assert.unreachable(`shape matched a line the parser refuses: ${JSON.stringify(line)}`);
    if (parser) parserAccepted++;
    if (fast) fastAccepted++;
  }
  // The fuzzer must reach both sides: many mutants valid (and matched), many invalid.
  assert.ok(parserAccepted > 5_000 && parserAccepted < 55_000, `parser accepted ${parserAccepted}`);
  assert.ok(fastAccepted > parserAccepted * 0.5, `matched ${fastAccepted} of ${parserAccepted} valid mutants`);
});

test('a shape needs the same keys, in order, with the same kinds', () => {
  const matcher = new ShapeMatcher();
  matcher.learn({ audio_filepath: 'a', duration: 1, text: 't' });
  assert.ok(matches(matcher, '{"audio_filepath": "b", "duration": 2.5, "text": ""}'));
  assert.ok(matches(matcher, '  {"audio_filepath":"b","duration":0,"text":"x"}  \r'));
  assert.not.ok(matches(matcher, '{"audio_filepath": "b", "duration": "2.5", "text": ""}'), 'duration as a string');
  assert.not.ok(matches(matcher, '{"duration": 2.5, "audio_filepath": "b", "text": ""}'), 'other order');
  assert.not.ok(matches(matcher, '{"audio_filepath": "b", "duration": 2.5}'), 'missing text');
  assert.not.ok(matches(matcher, '{"audio_filepath": "b", "duration": 2.5, "text": "", "text": 1}'), 'duplicate key');
  assert.not.ok(matches(matcher, '{"audio_filepath": "b", "duration": 01, "text": ""}'), 'leading zero');
  assert.not.ok(
    matches(matcher, '{"audio_filepath": "b\u0001", "duration": 1, "text": ""}'),
    'control character in a string',
  );
  assert.not.ok(matches(matcher, '\uFEFF{"audio_filepath": "b", "duration": 1, "text": ""}'), 'byte-order mark');
  assert.not.ok(matcher.learn({ audio_filepath: 'a', nested: { x: 1 } }), 'nested values have no shape');
  assert.not.ok(matcher.learn({ 'a"b': 'a' }), 'keys that need escaping have no shape');
});

test.run();
