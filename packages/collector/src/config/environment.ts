/**
 * Where a setting comes from: its flag, else its environment variable (the
 * option table's `env`); for the settings of one signal's exporter, its
 * flag, else the per-signal variable `OTEL_EXPORTER_OTLP_<SIGNAL>_<NAME>`,
 * else the generic one. A variable that is unset or blank is not set.
 */
import type { Flags } from './arguments.js';
import type { Signal } from './config.js';
import { optionNamed } from './options.js';

/** A setting's text, and what it came from as messages name it (`--timeout`, `OTEL_EXPORTER_OTLP_TIMEOUT`). */
export interface Setting {
  readonly value: string;
  readonly what: string;
}

export function envValue(env: NodeJS.ProcessEnv, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The flag `--name`, else its environment variable. */
export function setting(flags: Flags, env: NodeJS.ProcessEnv, name: string): Setting | undefined {
  const f = flags.get(name)?.[0];
  if (f !== undefined) return { value: f, what: `--${name}` };
  const envName = optionNamed(name)?.env;
  const e = envValue(env, envName);
  return e === undefined ? undefined : { value: e, what: envName! };
}

/** The variable `OTEL_EXPORTER_OTLP_<SIGNAL>_<suffix>`. */
export function signalVariable(env: NodeJS.ProcessEnv, signal: Signal, suffix: string): Setting | undefined {
  const name = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${suffix}`;
  const v = envValue(env, name);
  return v === undefined ? undefined : { value: v, what: name };
}

/** The flag `--name`, else the per-signal variable (`suffix`), else the generic variable of `--name`. */
export function signalSetting(flags: Flags, env: NodeJS.ProcessEnv, name: string, signal: Signal, suffix: string): Setting | undefined {
  return (flags.get(name)?.[0] !== undefined ? setting(flags, env, name) : undefined) ?? signalVariable(env, signal, suffix) ?? setting(flags, env, name);
}
