// Several writer processes share one file (attach mode) while this process
// reads: the ring is multi-producer across processes, not only threads.
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Reader, Ring, Writer } from '@otlp-mmap/native';
import { splitFramed } from '../helpers/framing.js';
import { tempDir } from '../helpers/files.js';

const worker = fileURLToPath(new URL('../fixtures/append-worker.mjs', import.meta.url));

function runWorker(path: string, id: number, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, path, String(id), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker ${id} exited with ${code}`))));
  });
}

test('4 processes appending to one file at once: the reader gets every message exactly once, intact', async (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const path = tmp.file('shared.mmap');
  const processes = 4;
  const perProcess = 25_000;
  // A small ring: the writers fill it many times over and must wait for the reader.
  Writer.create(path, { events: { slots: 256, slotSize: 64 } }).close();
  const reader = Reader.open(path);
  t.teardown(() => reader.close());

  const seen = Array.from({ length: processes }, () => new Uint8Array(perProcess));
  let received = 0;
  let corrupt = 0;
  let duplicates = 0;
  const workers = Promise.all(Array.from({ length: processes }, (_, id) => runWorker(path, id, perProcess)));
  let finished = false;
  void workers.finally(() => (finished = true)).catch(() => undefined);

  const deadline = Date.now() + 60_000;
  for (;;) {
    const batch = reader.read(Ring.Events, 1024);
    if (batch.length === 0) {
      // Once every writer has exited, all its messages are committed: an
      // empty read then means the ring is drained.
      if (finished || Date.now() > deadline) break;
      await new Promise((r) => setImmediate(r));
      continue;
    }
    for (const m of splitFramed(batch)) {
      const view = new DataView(m.buffer, m.byteOffset, m.byteLength);
      const id = view.getUint8(0);
      const seq = view.getUint32(1, true);
      let ok = m.length === 48 && id < processes && seq < perProcess;
      for (let i = 5; ok && i < m.length; i++) ok = m[i] === ((id * 31 + seq + i) & 0xff);
      if (!ok) {
        corrupt++;
        continue;
      }
      if (seen[id]![seq]) duplicates++;
      seen[id]![seq] = 1;
      received++;
    }
  }
  await workers;
  t.is(corrupt, 0, 'no message is torn or misplaced');
  t.is(duplicates, 0, 'no message is read twice');
  const missing = seen.reduce((n, s) => n + s.filter((x) => x === 0).length, 0);
  t.is(missing, 0, 'every message of every process arrives');
  t.is(received, processes * perProcess);
  t.deepEqual(reader.stats().skippedUncommitted, [0, 0, 0], 'no claim was left uncommitted');
});
