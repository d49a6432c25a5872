/**
 * `otlp-mmap-collector`: the command. Parses options, runs the collector (or
 * `dump`), handles SIGTERM/SIGINT, and turns every startup problem into one
 * line on stderr and a non-zero exit.
 */
import { ConfigError, parseConfig, type CollectorConfig } from './config/config.js';
import { helpText, wantsHelp } from './config/help.js';
import { Collector, CollectorError, dump } from './collector.js';
import { tuneGarbageCollector } from './runtime/gc-tuning.js';

const NAME = 'otlp-mmap-collector';

function log(line: string): void {
  process.stderr.write(`${NAME}: ${line}\n`);
}

/** Runs the command with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  let config: CollectorConfig;
  try {
    config = parseConfig(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      log(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    if (config.command === 'dump') {
      await dump(config, { log });
      return 0;
    }
    const collector = new Collector(config, { log });
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        log(`${signal} again: exiting without flushing`);
        process.exit(1);
      }
      log(`${signal}: draining and flushing`);
      collector.stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    await collector.run();
    return 0;
  } catch (error) {
    if (error instanceof CollectorError) {
      log(`error: ${error.message}`);
      return error.exitCode;
    }
    log(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

// Ignore EPIPE on stdout (e.g. `| head`): the data was for a reader that left.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

tuneGarbageCollector();
const code = await main(process.argv.slice(2));
process.exit(code);
