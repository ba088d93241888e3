/**
 * Picks the family of a model directory. Every family's detector is asked; exactly
 * one must match (two matches is an error, never a silent order), and when none
 * does the error lists, per family, what would make it match.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RoteError } from '../../util/errors.ts';
import { OptionError } from '../../util/options.ts';
import type { HeadChoice } from '../options.ts';
import { readOnnxFile, type OnnxFileFacts } from '../onnx-file.ts';
import { SIDECAR_NAME } from './common.ts';
import { nemoCtc } from './nemo-ctc.ts';
import { nemoTransducer } from './nemo-transducer.ts';
import { sherpaNemoCtc } from './sherpa-nemo-ctc.ts';
import { sherpaNemoTransducer } from './sherpa-nemo-transducer.ts';
import { sherpaTransducer } from './sherpa-transducer.ts';
import { sidecarCtc } from './sidecar-ctc.ts';
import { hfCtc } from './hf-ctc.ts';
import { sherpaWenetCtc } from './sherpa-wenet-ctc.ts';
import { wenetCtc } from './wenet-ctc.ts';
import { zipformerCtc } from './zipformer-ctc.ts';
import type { DirectoryFacts, FamilyDefinition } from './types.ts';
import { whisperOptimum } from './whisper-optimum.ts';
import { whisperSherpa } from './whisper-sherpa.ts';

export const FAMILIES: readonly FamilyDefinition[] = [
  sidecarCtc,
  sherpaNemoCtc,
  sherpaTransducer,
  sherpaNemoTransducer,
  nemoCtc,
  nemoTransducer,
  hfCtc,
  sherpaWenetCtc,
  wenetCtc,
  zipformerCtc,
  whisperOptimum,
  whisperSherpa,
];

/** Reads the directory listing, every .onnx file's metadata and declared inputs/outputs, and the sidecar. */
export async function gatherDirectoryFacts(dir: string): Promise<DirectoryFacts> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    throw new RoteError(
      `${dir}: model directory not found (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  if (!info.isDirectory())
    throw new OptionError(
      (name) => `${dir}: ${name('model')} must be a directory holding the model's .onnx file(s) and tokens file`,
    );
  const files = (await readdir(dir)).sort();
  const onnx = new Map<string, OnnxFileFacts>();
  for (const name of files.filter((f) => f.toLowerCase().endsWith('.onnx')))
    onnx.set(name, await readOnnxFile(join(dir, name)));
  let sidecar: DirectoryFacts['sidecar'] = null;
  if (files.includes(SIDECAR_NAME)) {
    const path = join(dir, SIDECAR_NAME);
    try {
      sidecar = { path, value: JSON.parse(await readFile(path, 'utf8')) };
    } catch (error) {
      throw new RoteError(`${path}: not valid JSON (${(error as Error).message})`, { cause: error });
    }
  }
  return { dir, files, onnx, sidecar };
}

export interface FamilyChoice {
  family: FamilyDefinition;
  because: string[];
}

const CTC_HEADS = new Set(['nemo-ctc', 'sherpa-nemo-ctc']);
const TRANSDUCER_HEADS = new Set(['nemo-transducer', 'sherpa-nemo-transducer']);
const TRANSDUCERS = new Set([...TRANSDUCER_HEADS, 'sherpa-transducer']);

/**
 * A hybrid RNNT-CTC model exported with both heads matches one NeMo CTC family and one
 * NeMo transducer family: the transducer is used unless `head` says 'ctc' (NeMo decodes
 * hybrids with the transducer by default). Any other double match stays ambiguous.
 */
function hybridChoice(matches: FamilyChoice[], head: HeadChoice | undefined): FamilyChoice | null {
  if (matches.length !== 2) return null;
  const ctc = matches.find((m) => CTC_HEADS.has(m.family.name));
  const transducer = matches.find((m) => TRANSDUCER_HEADS.has(m.family.name));
  if (!ctc || !transducer) return null;
  const chosen = head === 'ctc' ? ctc : transducer;
  const other = chosen === ctc ? transducer : ctc;
  return {
    family: chosen.family,
    because: [
      `hybrid RNNT-CTC: both heads are exported (${ctc.family.name} and ${transducer.family.name}); using the ${head === 'ctc' ? 'CTC' : 'transducer'} head${head ? ' (--head)' : ' (default; --head ctc uses the other)'}`,
      ...chosen.because,
      `not used: ${other.because.join('; ')}`,
    ],
  };
}

/** The one family that matches, or a RoteError saying what each family needs. */
export function chooseFamily(facts: DirectoryFacts, head?: HeadChoice): FamilyChoice {
  const matches: FamilyChoice[] = [];
  const misses: string[] = [];
  for (const family of FAMILIES) {
    const detection = family.detect(facts);
    if (detection.ok) matches.push({ family, because: detection.because });
    else misses.push(`  ${family.name} (${family.summary}): missing ${detection.missing.join('; ')}`);
  }
  if (matches.length === 1) {
    const only = matches[0]!;
    const isTransducer = TRANSDUCERS.has(only.family.name);
    if (head && (head === 'transducer') !== isTransducer) {
      throw new RoteError(
        `${facts.dir}: --head ${head}: this model (${only.family.name}) has no ${head === 'ctc' ? 'CTC' : 'transducer'} head; drop --head, or add the other head's export to the directory`,
      );
    }
    return only;
  }
  const hybrid = hybridChoice(matches, head);
  if (hybrid) return hybrid;
  if (matches.length > 1) {
    throw new RoteError(
      `${facts.dir}: ambiguous model directory, it matches ${matches.map((m) => m.family.name).join(' and ')}; keep one model per directory, or write a ${SIDECAR_NAME} to say which model to use`,
    );
  }
  const found = facts.onnx.size
    ? [...facts.onnx.values()]
        .map(
          (f) =>
            `${f.path} (metadata: ${Object.keys(f.metadata).join(', ') || 'none'}; inputs: ${f.inputs.map((i) => i.name).join(', ')})`,
        )
        .join('; ')
    : 'no .onnx files';
  throw new RoteError(
    `${facts.dir}: unknown model layout (found ${found}). Each family needs:\n${misses.join('\n')}\n` +
      `For any other CTC model, write ${SIDECAR_NAME} next to it (see \`rote inspect-model --help\` for the fields).`,
  );
}
