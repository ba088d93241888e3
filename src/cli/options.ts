/**
 * Commander flags from an API's option specs (src/util/options.ts), and the way back: the flag of
 * an option key, so a library error naming `perGroup` reads `--per-group` on the command line.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { OptionSpec, OptionValueKind } from '../util/options.ts';

function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return Number(value);
}
function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed))
    throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return parsed;
}
const PARSERS: Record<OptionValueKind, ((value: string) => unknown) | undefined> = {
  string: undefined,
  switch: undefined,
  integer,
  number,
  'integer-list': (value) => value.split(',').map((part) => integer(part)),
  'string-list': (value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
};

/** A commander option that stores its value under the API's key (--bootstrap -> bootstrapResamples), so flags pass through unchanged. */
class SpecOption extends Option {
  constructor(
    readonly key: string,
    flags: string,
    description: string,
  ) {
    super(flags, description);
  }
  override attributeName(): string {
    return this.key;
  }
}

function shownDefault(value: NonNullable<OptionSpec['default']>): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Adds one commander option per spec. Values are parsed by kind (not range-checked: the API does
 * that and names the key, which the CLI maps back to the flag); no defaults are given to commander,
 * so the API applies them (and can tell an absent option from a default one); --help shows them.
 */
export function addSpecOptions(command: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const help =
      spec.default !== undefined && !spec.description.includes('(default')
        ? `${spec.description} (default: ${shownDefault(spec.default)})`
        : spec.description;
    const option = new SpecOption(spec.key, spec.flag, help);
    if (spec.required) option.makeOptionMandatory();
    const parse = PARSERS[spec.kind];
    // A variadic flag (--input <wav...>) collects its values itself.
    if (parse && !option.variadic) option.argParser(parse);
    if (spec.choices) option.choices(spec.choices);
    command.addOption(option);
  }
  return command;
}

/** The flag of an option key on `command` (the option storing its value under the key), else --kebab-case. */
export function flagOf(command: Command | null, key: string): string {
  const option = command?.options.find((o) => o.attributeName() === key);
  return option?.long ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
