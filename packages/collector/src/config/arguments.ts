/**
 * The command line of the collector, split by `node:util`'s `parseArgs`
 * (`--name value` and `--name=value`; a value may start with a dash) and
 * checked against the option table, with the collector's own one-line
 * errors. An argument that does not start with `--` (`dump`, the file,
 * `-h`) is positional, unless it is the value of the option before it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './config-error.js';
import { OPTIONS, optionNamed } from './options.js';

/** The given flags by name: the values of a repeatable one, the last value of any other ('' for a switch). */
export type Flags = Map<string, string[]>;

const PARSE_OPTIONS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  OPTIONS.map((o) => [o.name, { type: o.arg ? ('string' as const) : ('boolean' as const), multiple: o.repeat === true }]),
);

/** Splits `argv` (without node and the script) into positional arguments and flags; throws {@link ConfigError}. */
export function parseArguments(argv: readonly string[]): { positional: string[]; flags: Flags } {
  // Every argument not starting with `--` is positional (or the value of the
  // option before it), `-h` and `-5` included: parseArgs would read those as
  // short options, so it is handed them as '' and their text is read back
  // from `argv` by position.
  const args = argv.map((arg) => (arg.startsWith('--') ? arg : ''));
  const { tokens } = parseArgs({ args, options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positional: string[] = [];
  const flags: Flags = new Map();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positional.push(argv[token.index]);
      continue;
    }
    if (token.kind === 'option-terminator') throw new ConfigError('unknown option -- (see --help)');
    const spec = optionNamed(token.name);
    // Named as written up to its `=` (parseArgs names `--=x` "=x").
    if (!spec) throw new ConfigError(`unknown option --${argv[token.index].slice(2).split('=')[0]} (see --help)`);
    if (spec.arg && token.value === undefined) throw new ConfigError(`option --${token.name} needs a value (${spec.arg})`);
    if (!spec.arg && token.inlineValue) throw new ConfigError(`option --${token.name} takes no value`);
    // The value: after `=`, or the next argument.
    const value = token.inlineValue ? (token.value ?? '') : token.value === undefined ? '' : argv[token.index + 1];
    // A repeatable option accumulates; any other takes its last value.
    flags.set(token.name, spec.repeat ? [...(flags.get(token.name) ?? []), value] : [value]);
  }
  return { positional, flags };
}
