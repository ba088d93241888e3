/**
 * The house rule "an output never lands on an input", in one place: every API function that writes resolves its
 * outputs against everything it reads and calls `refuseOutputsOnInputs` before it writes anything. Paths are
 * compared by their real paths (the existing part of an output's path resolved through symbolic links) and, where
 * both exist, by device and inode (hard links). A collision is refused with and without --force, naming both paths.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { RoteError } from './errors.ts';
import { OptionError } from './options.ts';

export interface GuardedInput {
  path: string;
  /** What it is, for the message: "the training manifest", "the canary set". */
  what: string;
  /** The option key that named it (rendered as the running command's flag); none for a command's arguments. */
  key?: string;
  /** A folder nothing may be written into (a canary set, a model folder); otherwise only the path itself is guarded. */
  tree?: boolean;
}

export interface GuardedOutput {
  path: string;
  /** The option key that names this output (rendered as the running command's flag). */
  key: string;
  /**
   * 'file': one file written or replaced; 'folder': a folder written whole (and replaced with --force), so no input
   * may be inside it; 'into': a folder files are added to (inputs inside it are fine, it may not be an input file).
   */
  kind: 'file' | 'folder' | 'into';
}

interface Resolved {
  real: string;
  id: string | null;
}

/** "symbolic link loop at PATH" for ELOOP; other errors are returned as they are. */
export function explainLinkLoop(error: unknown, path: string): unknown {
  if ((error as NodeJS.ErrnoException)?.code !== 'ELOOP') return error;
  return new RoteError(
    `symbolic link loop at ${path} (ELOOP): a link points back at itself, directly or through other links; fix or remove it`,
    { cause: error },
  );
}

/** Throws "symbolic link loop at PATH" when `path` is (or passes through) a symbolic link loop. */
export async function refuseLinkLoop(path: string): Promise<void> {
  await stat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw explainLinkLoop(error, path);
  });
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest; device:inode when it exists. */
async function resolvePath(path: string): Promise<Resolved> {
  const absolute = resolve(path);
  let existing = absolute;
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR')
        throw explainLinkLoop(error, path);
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
  }
  let real: string;
  try {
    real = await realpath(existing);
  } catch (error) {
    // A dangling symbolic link: its own place is what gets written (a rename replaces the link).
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw explainLinkLoop(error, path);
    real = join(await realpath(dirname(existing)), basename(existing));
  }
  const full = existing === absolute ? real : join(real, relative(existing, absolute));
  let id: string | null = null;
  try {
    const info = await stat(full);
    id = `${info.dev}:${info.ino}`;
  } catch {
    id = null;
  }
  return { real: full, id };
}

const inside = (child: string, parent: string): boolean =>
  child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * Throws an OptionError naming both paths when an output is an input (same real path, or a hard link to it), is
 * inside an input folder marked `tree`, or is a folder (kind 'folder') holding an input. Inputs that do not exist
 * are skipped (their readers report them); a symbolic link loop is reported as such.
 */
export async function refuseOutputsOnInputs(
  inputs: GuardedInput[],
  outputs: GuardedOutput[],
  options: { force?: boolean } = { force: true },
): Promise<void> {
  const resolvedInputs: Array<GuardedInput & Resolved> = [];
  for (const input of inputs) {
    try {
      await stat(input.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw explainLinkLoop(error, input.path);
      continue;
    }
    resolvedInputs.push({ ...input, ...(await resolvePath(input.path)) });
  }
  // The most specific finding is named: the same file, a hard link, then a folder relation.
  const rank = ['is', 'is a hard link to', 'is inside', 'holds'];
  for (const output of outputs) {
    const out = await resolvePath(output.path);
    let found: { how: string; input: GuardedInput & Resolved } | null = null;
    for (const input of resolvedInputs) {
      let how: string | null = null;
      if (out.real === input.real) how = 'is';
      else if (out.id !== null && out.id === input.id) how = 'is a hard link to';
      else if (input.tree && inside(out.real, input.real)) how = 'is inside';
      else if (output.kind === 'folder' && inside(input.real, out.real)) how = 'holds';
      if (how && (!found || rank.indexOf(how) < rank.indexOf(found.how))) found = { how, input };
    }
    if (found) {
      const { how, input } = found;
      const via = how === 'is' && resolve(output.path) !== out.real ? ` (through a symbolic link: ${out.real})` : '';
      throw new OptionError(
        (name) =>
          `${name(output.key)} ${output.path} ${how} ${input.what} ${input.path}${via}, which this run reads${input.key ? ` (${name(input.key)})` : ''}; ` +
          `an output never replaces an input${options.force ? ` (not even with ${name('force')})` : ''}: choose another ${name(output.key)}`,
      );
    }
  }
}
