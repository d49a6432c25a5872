// A writer process for the SIGKILL test: `writer-child.ts FILE PROGRESS`
// creates the OTLP-MMAP file FILE, then writes numbered spans (start + end)
// and log records as fast as the rings allow, appending "N\n" to the regular
// file PROGRESS after item N's messages were all appended (a regular file,
// so the write never fails or blocks like a full pipe). Runs until killed.
import { openSync, writeSync } from 'node:fs';
import { TestWriter } from './mmap-writer.js';

const [path, progressPath] = process.argv.slice(2);
const writer = new TestWriter(path, { spans: { slots: 16384 }, events: { slots: 16384 } });
const scope = writer.scope('child', writer.resource({ 'service.name': 'child' }));
const progress = openSync(progressPath, 'a');
const pause = new Int32Array(new SharedArrayBuffer(4));
for (let n = 0; ; n++) {
  writer.startSpan(scope, 1, n + 1, `span-${n}`);
  writer.endSpan(scope, 1, n + 1);
  while (!writer.log(scope, `log-${n}`)) Atomics.wait(pause, 0, 0, 1);
  writeSync(progress, `${n}\n`);
  if (n % 50 === 49) Atomics.wait(pause, 0, 0, 2);
}
