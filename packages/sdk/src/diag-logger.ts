/**
 * `OTEL_LOG_LEVEL`: a console logger for the OpenTelemetry `diag` channel,
 * where the SDK reports what it ignores (an unknown sampler or propagator, a
 * bad limit) and what fails after setup.
 *
 * As `@opentelemetry/sdk-node` does, a `DiagConsoleLogger` at that level is
 * installed when the variable is set — but only when the application has not
 * installed a diag logger of its own, which is kept.
 *
 * @internal
 */
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';

type Env = Record<string, string | undefined>;

const LEVELS: Record<string, DiagLogLevel> = {
  NONE: DiagLogLevel.NONE,
  ERROR: DiagLogLevel.ERROR,
  WARN: DiagLogLevel.WARN,
  INFO: DiagLogLevel.INFO,
  DEBUG: DiagLogLevel.DEBUG,
  VERBOSE: DiagLogLevel.VERBOSE,
  ALL: DiagLogLevel.ALL,
};

/**
 * Whether a diag logger is installed. The API offers no getter: its globals
 * live in one object under `Symbol.for('opentelemetry.js.api.1')` (every 1.x
 * copy of `@opentelemetry/api` shares it), `diag` among them once set.
 */
function diagLoggerInstalled(): boolean {
  const globals = (globalThis as Record<symbol, { diag?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')];
  return globals?.diag !== undefined;
}

/**
 * Installs a console diag logger at the level `OTEL_LOG_LEVEL` names, unless
 * the variable is unset or a diag logger is already installed. Returns how
 * to remove it again, or undefined when it installed nothing.
 */
export function installDiagLoggerFromEnv(env: Env = process.env): (() => void) | undefined {
  const raw = env.OTEL_LOG_LEVEL?.trim();
  if (raw === undefined || raw === '' || diagLoggerInstalled()) return undefined;
  const level = LEVELS[raw.toUpperCase()];
  diag.setLogger(new DiagConsoleLogger(), { logLevel: level ?? DiagLogLevel.INFO, suppressOverrideMessage: true });
  if (level === undefined) {
    diag.warn(`otlp-mmap: OTEL_LOG_LEVEL=${JSON.stringify(raw)} is not one of ${Object.keys(LEVELS).join(', ')}; using INFO`);
  }
  return () => diag.disable();
}
