import type { ExecutionContext } from 'ava';
import { Reader, Writer } from '@otlp-mmap/native';
import { tempDir } from './files.js';

/** A writer and a reader on one fresh file, closed and removed after the test. */
export function writerAndReader(
  t: ExecutionContext,
  name: string,
  options?: Parameters<typeof Writer.create>[1],
): { path: string; writer: Writer; reader: Reader } {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file(name);
  const writer = Writer.create(path, options);
  const reader = Reader.open(path, { uncommittedTimeoutMs: 50 });
  t.teardown(() => {
    writer.close();
    reader.close();
  });
  return { path, writer, reader };
}

/** The `code` of the error `fn` throws (undefined when it throws none). */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}
