import { createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { SendResult, Transport } from './transport.js';

/** Mode of an output file the collector creates (before the umask): readable and writable by its owner only. */
const OUTPUT_MODE = 0o600;

/**
 * The embedded default exporter: one OTLP/JSON request per line, appended to
 * a file or written to stdout. All signals share one output, so lines of
 * different signals interleave in the order they were exported.
 */
export class JsonLinesOutput {
  private readonly stream: Writable;
  private readonly owned: WriteStream | undefined;
  readonly destination: string;

  constructor(path: string | undefined) {
    if (path === undefined) {
      this.stream = process.stdout;
      this.destination = 'stdout';
    } else {
      // Private like the input file (FORMAT.md 7.7); an existing file keeps its mode.
      this.owned = createWriteStream(path, { flags: 'a', mode: OUTPUT_MODE });
      this.stream = this.owned;
      this.destination = path;
    }
  }

  /** Opens the output file now, so a bad path is reported before any data is read. */
  ready(): Promise<void> {
    const owned = this.owned;
    if (!owned) return Promise.resolve();
    return new Promise((resolve, reject) => {
      owned.once('open', () => resolve());
      owned.once('error', reject);
    });
  }

  write(line: Uint8Array): Promise<SendResult> {
    return new Promise((resolve) => {
      this.stream.write(Buffer.concat([line, Buffer.from('\n')]), (error) => {
        resolve(
          error ? { kind: 'retry', reason: error.message, errorType: (error as NodeJS.ErrnoException).code ?? 'write_error' } : { kind: 'ok', rejected: 0 },
        );
      });
    });
  }

  close(): Promise<void> {
    const owned = this.owned;
    if (!owned) return Promise.resolve();
    return new Promise((resolve) => owned.end(() => resolve()));
  }
}

/** A {@link Transport} writing to a shared {@link JsonLinesOutput}. */
export class JsonLinesTransport implements Transport {
  constructor(private readonly output: JsonLinesOutput) {}
  get destination(): string {
    return this.output.destination;
  }
  send(body: Uint8Array): Promise<SendResult> {
    return this.output.write(body);
  }
  async close(): Promise<void> {
    // The shared output is closed by its owner.
  }
}
