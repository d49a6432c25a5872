/** Shared setup of the collector's end-to-end tests. */
import type { ExecutionContext } from 'ava';
import { OtlpReceiver } from '../../helpers/otlp-receiver.js';
import { tempDir } from '../../helpers/files.js';
import { CollectorProcess } from './collector-process.js';
import { TestWriter } from './mmap-writer.js';

/** Flags that keep tests fast: short batch timeout, fast polling, fast retries. */
export const FAST = ['--batch-timeout', '100', '--poll-interval', '5', '--retry-initial', '50', '--retry-max', '200', '--metric-interval', '200'];

export interface E2E {
  readonly receiver: OtlpReceiver;
  readonly writer: TestWriter;
  readonly path: string;
  readonly file: (name: string) => string;
  /** Starts the collector on the file with extra arguments. */
  collector(args?: readonly string[], env?: Record<string, string>): CollectorProcess;
}

/** A receiver, a fresh file with a writer, and cleanup of all of it (and of collectors started). */
export async function e2e(t: ExecutionContext, writerOptions?: Record<string, unknown>): Promise<E2E> {
  const tmp = tempDir('otlp-mmap-collector-');
  const receiver = await OtlpReceiver.start();
  const path = tmp.file('telemetry.mmap');
  const writer = new TestWriter(path, writerOptions);
  const started: CollectorProcess[] = [];
  t.teardown(async () => {
    for (const c of started) if (c.running) await c.stop('SIGKILL');
    writer.close();
    await receiver.close();
    tmp.cleanup();
  });
  return {
    receiver,
    writer,
    path,
    file: tmp.file,
    collector(args = [], env = {}) {
      const c = new CollectorProcess(['--input', path, ...FAST, ...args], env);
      started.push(c);
      return c;
    },
  };
}
