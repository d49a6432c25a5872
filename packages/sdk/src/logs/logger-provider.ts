/**
 * The LoggerProvider of the mmap SDK.
 */
import type { Logger, LoggerOptions, LoggerProvider } from '@opentelemetry/api-logs';
import type { ResolvedLogLimits } from '../config.js';
import { internScope, stableKey } from '../file/entries.js';
import type { MmapFile } from '../file/mmap-file.js';
import { MmapLogger } from './logger.js';

/**
 * Hands out loggers whose records are written into the mmap file (the events
 * ring). Scope attributes (`LoggerOptions.attributes`) are kept in the scope's
 * dictionary entry.
 */
export class MmapLoggerProvider implements LoggerProvider {
  private readonly file: MmapFile;
  private readonly resourceRef: number;
  private readonly limits: ResolvedLogLimits;
  private readonly loggers = new Map<string, MmapLogger>();

  /** @internal */
  constructor(file: MmapFile, resourceRef: number, limits: ResolvedLogLimits) {
    this.file = file;
    this.resourceRef = resourceRef;
    this.limits = limits;
  }

  /** A logger for the instrumentation scope `name`/`version` (cached per scope). */
  getLogger(name: string, version?: string, options?: LoggerOptions): Logger {
    const attrs = options?.attributes;
    const key = `${name}\0${version ?? ''}\0${options?.schemaUrl ?? ''}\0${attrs ? stableKey(attrs) : ''}`;
    let logger = this.loggers.get(key);
    if (logger === undefined) {
      const scopeRef = internScope(this.file.dictionary, this.resourceRef, name, version, attrs, options?.schemaUrl);
      logger = new MmapLogger(this.file, scopeRef, this.limits);
      this.loggers.set(key, logger);
    }
    return logger;
  }
}
