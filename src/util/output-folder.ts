/**
 * The house rule for a folder a command writes whole (a canary set, a comparison): an absent or empty folder is
 * written; an earlier output of the same command is replaced only with --force; anything else (a file, a folder
 * holding other files, the working directory or one of its ancestors) is refused with what to do. The output is
 * built in a temporary sibling (temporarySibling) and renamed into place (moveIntoPlace): nothing half-written.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { temporarySibling } from './atomic.ts';
import { OptionError } from './options.ts';

export interface OutputFolderKind {
  /** The command that writes it, e.g. 'rote generate'. */
  command: string;
  /** What it writes, e.g. 'canary set'. */
  thing: string;
  /** The only names such an output holds at its top level. */
  entries: ReadonlySet<string>;
  /** Whether `dir` (holding only `entries`) is an output the command wrote; `missing` says what it lacks otherwise. */
  isOurs(dir: string, names: string[]): Promise<boolean>;
  missing: string;
}

/**
 * Refuses an existing `out` that is not an empty folder, unless `force` and it is an output of `kind` (never a
 * file, never a folder with other content, never the working directory or one of its ancestors). Errors name the
 * option keys `out` and `force`. Returns whether something must be replaced.
 */
export async function checkOutputFolder(out: string, force: boolean, kind: OutputFolderKind): Promise<boolean> {
  const { command, thing } = kind;
  let entries: string[];
  try {
    const info = await stat(out);
    if (!info.isDirectory())
      throw new OptionError(
        (name) =>
          `${name('out')} ${out} exists and is a file; ${command} writes a folder and never replaces a file (not even with ${name('force')}); choose another ${name('out')}`,
      );
    entries = await readdir(out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const cwd = process.cwd();
  if (cwd === out || relative(out, cwd).split(sep)[0] !== '..') {
    throw new OptionError(
      (name) =>
        `${name('out')} ${out} is the working directory or one of its ancestors; ${command} never replaces it; choose a new folder for the ${thing}`,
    );
  }
  if (entries.length === 0) return true;
  if (!force)
    throw new OptionError(
      (name) =>
        `${name('out')} ${out} exists and is not empty; choose another ${name('out')}, or pass ${name('force')} to replace a ${thing} written by ${command}`,
    );
  const foreign = entries.filter((entry) => !kind.entries.has(entry));
  if (foreign.length > 0 || !(await kind.isOurs(out, entries))) {
    const what =
      foreign.length > 0
        ? `holds files a ${thing} does not (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''})`
        : kind.missing;
    throw new OptionError(
      (name) =>
        `${name('out')} ${out} ${what}; ${name('force')} replaces only a ${thing} written by ${command}; choose another ${name('out')} or remove it yourself`,
    );
  }
  return true;
}

/** Renames the finished `temporary` folder to `out`; when `replacing`, the old `out` is moved aside first and removed last. */
export async function moveIntoPlace(temporary: string, out: string, replacing: boolean): Promise<void> {
  if (!replacing) {
    await rename(temporary, out);
    return;
  }
  const old = temporarySibling(out);
  await rename(out, old);
  try {
    await rename(temporary, out);
  } catch (error) {
    await rename(old, out);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
