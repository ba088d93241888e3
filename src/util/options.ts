/**
 * Options declared once. Each option of an API function is one OptionSpec (its key in the options
 * object, its command-line flag, value kind, range or choices, default and help text). From the
 * specs: the CLI builds its commander flags (src/cli/options.ts), the API validates and fills in
 * defaults (resolveOption), and errors name the option key, which the CLI turns into the flag.
 */
import { RoteError } from './errors.ts';

/** How a command-line value is read: one string, an integer, a number, comma-separated lists, or a switch. */
export type OptionValueKind = 'string' | 'integer' | 'number' | 'integer-list' | 'string-list' | 'switch';

export interface OptionSpec<Key extends string = string> {
  /** The option's name in the API's options object (camelCase). */
  key: Key;
  /** Commander flag syntax, e.g. '--per-group <n>'. */
  flag: string;
  kind: OptionValueKind;
  /** Help text; the CLI appends "(default: ...)" from `default` unless it already names one. */
  description: string;
  /** Applied by resolveOption when the option is absent; shown in --help. */
  default?: string | number | boolean | readonly (string | number)[];
  /** The CLI requires the flag; the API throws when it is absent. */
  required?: boolean;
  choices?: readonly string[];
  /** Inclusive bounds of a number (each element of a list); `exclusive` makes both bounds open. */
  min?: number;
  max?: number;
  /** 'both': (min, max); 'max': [min, max). */
  exclusive?: 'both' | 'max';
}

/**
 * A bad option value. The message names option keys (what API users pass); `render` rewrites it
 * with any other name per key (the CLI passes the key's flag, e.g. perGroup -> --per-group).
 */
export class OptionError extends RoteError {
  readonly keys: readonly string[];
  private readonly compose: (name: (key: string) => string) => string;
  constructor(
    compose: (name: (key: string) => string) => string,
    options: { exitCode?: number; cause?: unknown } = {},
  ) {
    const keys: string[] = [];
    super(
      compose((key) => (keys.push(key), key)),
      options,
    );
    this.name = 'OptionError';
    this.keys = keys;
    this.compose = compose;
  }
  render(name: (key: string) => string): string {
    return this.compose(name);
  }
}

function rangeProblem(spec: OptionSpec, value: number): string | null {
  const { min, max, exclusive } = spec;
  const integer = spec.kind === 'integer' || spec.kind === 'integer-list';
  if (integer && !Number.isInteger(value)) return 'integer';
  if (!integer && (typeof value !== 'number' || !Number.isFinite(value))) return 'number';
  const belowMin = min !== undefined && (exclusive === 'both' ? value <= min : value < min);
  const aboveMax = max !== undefined && (exclusive ? value >= max : value > max);
  return belowMin || aboveMax ? 'range' : null;
}

function describeRange(spec: OptionSpec): string {
  const { min, max, exclusive } = spec;
  const integer = spec.kind === 'integer' || spec.kind === 'integer-list';
  if (min !== undefined && max !== undefined) {
    if (exclusive === 'both') return `between ${min} and ${max} (exclusive)`;
    if (exclusive === 'max') return `at least ${min} and below ${max}`;
    return `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  }
  if (min !== undefined && integer)
    return min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  if (min !== undefined) return min === 0 && exclusive === 'both' ? 'a positive number' : `a number >= ${min}`;
  return integer ? 'an integer' : 'a number';
}

/**
 * What `value` must be when it is outside the range `spec` gives (e.g. "an integer from 1 to 1000000"), or
 * null when it fits: for numbers read from files, which get the range of the option that sets them.
 */
export function outOfRange(spec: OptionSpec, value: unknown): string | null {
  return typeof value === 'number' && !rangeProblem(spec, value) ? null : describeRange(spec);
}

function check(spec: OptionSpec, value: unknown): void {
  const fail = (what: string, shown: unknown = value): never => {
    const got = Array.isArray(shown) ? shown.join(',') : typeof shown === 'string' ? `"${shown}"` : String(shown);
    throw new OptionError(
      (name) => `${name(spec.key)}${spec.kind.endsWith('list') ? ' (each value)' : ''} must be ${what}, got ${got}`,
    );
  };
  switch (spec.kind) {
    case 'switch':
      if (typeof value !== 'boolean') fail('true or false');
      return;
    case 'string':
      if (typeof value !== 'string') fail('a string');
      if (spec.choices && !spec.choices.includes(value as string))
        fail(spec.choices.join(', ').replace(/, ([^,]*)$/, ' or $1'));
      return;
    case 'string-list':
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) fail('a list of strings');
      return;
    case 'integer':
    case 'number':
      if (rangeProblem(spec, value as number)) fail(describeRange(spec));
      return;
    case 'integer-list':
      if (!Array.isArray(value)) fail('a list of numbers');
      for (const item of value as number[]) if (rangeProblem(spec, item)) fail(describeRange(spec), item);
  }
}

export function findSpec<Key extends string>(specs: readonly OptionSpec<Key>[], key: Key): OptionSpec<Key> {
  const spec = specs.find((s) => s.key === key);
  if (!spec) throw new Error(`no option spec for "${key}"`);
  return spec;
}

/**
 * The value of one option: `value`, or the spec's default when absent; checked against the
 * spec's kind, choices and range. An absent option without default stays undefined (an error
 * when the spec says required).
 */
export function resolveOption<T>(specs: readonly OptionSpec[], key: string, value: T | undefined): T {
  const spec = findSpec(specs, key);
  const resolved = value ?? (spec.default as T | undefined);
  if (resolved === undefined) {
    if (spec.required) throw new OptionError((name) => `${name(key)} is required`);
    return resolved as T;
  }
  check(spec, resolved);
  return resolved;
}

/** The specs of `keys`, in that order (a command that offers only some of an API's options). */
export function pickSpecs<Key extends string>(
  specs: readonly OptionSpec<Key>[],
  keys: readonly Key[],
): OptionSpec<Key>[] {
  return keys.map((key) => findSpec(specs, key));
}

/** The value an option of `Spec` takes: from its kind, narrowed to its choices when it has them. */
export type OptionValue<Spec extends OptionSpec> = Spec['kind'] extends 'switch'
  ? boolean
  : Spec['kind'] extends 'integer' | 'number'
    ? number
    : Spec['kind'] extends 'integer-list'
      ? number[]
      : Spec['kind'] extends 'string-list'
        ? string[]
        : Spec extends { choices: readonly (infer Choice extends string)[] }
          ? Choice
          : string;

type RequiredSpec = { required: true };
/** A spec whose option always has a value once resolved: required, or with a default. */
type AlwaysResolved = RequiredSpec | { default: NonNullable<OptionSpec['default']> };

/**
 * The options object of an API function declared by `Specs` (a `const` spec list): one property per spec,
 * typed by its kind and choices; required where the spec says required, else optional (absent: the default).
 */
export type OptionsOf<Specs extends readonly OptionSpec[]> = {
  [Spec in Specs[number] as Spec extends RequiredSpec ? Spec['key'] : never]: OptionValue<Spec>;
} & {
  [Spec in Specs[number] as Spec extends RequiredSpec ? never : Spec['key']]?: OptionValue<Spec>;
};

/** What resolveOptions returns for `Specs`: every key, defaults filled in (undefined only where a spec has neither default nor required). */
export type ResolvedOptions<Specs extends readonly OptionSpec[]> = {
  [Spec in Specs[number] as Spec['key']]: Spec extends AlwaysResolved
    ? OptionValue<Spec>
    : OptionValue<Spec> | undefined;
};

/**
 * Every option of `specs` from `input` (an API's options object; other properties are ignored): each absent
 * one gets its spec's default, each is checked against its spec (resolveOption). The one way an API resolves options.
 */
export function resolveOptions<const Specs extends readonly OptionSpec[]>(
  specs: Specs,
  input: { readonly [Key in Specs[number]['key']]?: unknown },
): ResolvedOptions<Specs> {
  const values = input as Readonly<Record<string, unknown>>;
  return Object.fromEntries(
    specs.map((spec) => [spec.key, resolveOption(specs, spec.key, values[spec.key])]),
  ) as ResolvedOptions<Specs>;
}
