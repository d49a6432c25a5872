/**
 * Zero-code start, configured only by environment variables:
 *
 * ```sh
 * SDK_MMAP_EXPORTER_FILE=/run/app/telemetry.otlp-mmap OTEL_SERVICE_NAME=checkout \
 *   node --import @otlp-mmap/sdk/register app.js
 * ```
 *
 * As `@opentelemetry/auto-instrumentations-node/register` does with NodeSDK,
 * it starts the SDK before the application's first module loads:
 *
 * - when `@opentelemetry/auto-instrumentations-node` is installed (an
 *   optional peer dependency), its instrumentations are enabled —
 *   `getNodeAutoInstrumentations()`, which honours
 *   `OTEL_NODE_ENABLED_INSTRUMENTATIONS` and
 *   `OTEL_NODE_DISABLED_INSTRUMENTATIONS` — and the ESM loader hook of
 *   `@opentelemetry/instrumentation` is registered, so that ES modules are
 *   instrumented as well as CommonJS ones;
 * - the resource detectors are those `OTEL_NODE_RESOURCE_DETECTORS` names,
 *   `all` by default, and their asynchronous attributes are waited for;
 * - every other setting comes from the variables `startMmapSdk` reads.
 *
 * A setup error (no `SDK_MMAP_EXPORTER_FILE`, a file that cannot be created)
 * is printed on stderr and the application runs without telemetry. No
 * handler is added for SIGTERM: what was recorded is in the file already.
 * Observable instruments get a last collection when the process runs out of
 * work (`beforeExit`).
 *
 * @packageDocumentation
 */
import { register } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { sdkDisabled } from './config.js';
import { startWithSettledResource } from './setup.js';

const AUTO_INSTRUMENTATIONS = '@opentelemetry/auto-instrumentations-node';

interface AutoInstrumentationsModule {
  getNodeAutoInstrumentations(): Instrumentation[];
}

/** `@opentelemetry/auto-instrumentations-node`, or undefined when it is not installed. */
async function loadAutoInstrumentations(): Promise<AutoInstrumentationsModule | undefined> {
  try {
    return (await import(AUTO_INSTRUMENTATIONS)) as AutoInstrumentationsModule;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(AUTO_INSTRUMENTATIONS);
    if (missing) return undefined;
    throw err;
  }
}

async function start(): Promise<void> {
  if (sdkDisabled({})) {
    await startWithSettledResource({}, ['all']); // a no-op SDK; OTEL_LOG_LEVEL still applies
    return;
  }
  let instrumentations: Instrumentation[] = [];
  try {
    const auto = await loadAutoInstrumentations();
    if (auto !== undefined) {
      // Before the instrumentations exist: ES modules loaded from now on go
      // through import-in-the-middle, which they hook into.
      register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
      instrumentations = auto.getNodeAutoInstrumentations();
    }
    const sdk = await startWithSettledResource({ instrumentations }, ['all']);
    process.once('beforeExit', () => void sdk.shutdown());
  } catch (err) {
    for (const instrumentation of instrumentations) instrumentation.disable();
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`@otlp-mmap/sdk/register: OpenTelemetry is not started, the application runs without telemetry: ${message}\n`);
  }
}

await start();
