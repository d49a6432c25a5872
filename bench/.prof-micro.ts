import { performance } from 'node:perf_hooks';
import { context, trace, ROOT_CONTEXT } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { nowInto } from '../packages/sdk/src/time.js';
import { randomWord } from '../packages/sdk/src/trace/ids.js';
const o = { lo: 0, hi: 0 };
function t(name: string, f: () => void) {
  const N = 2_000_000; for (let i = 0; i < N; i++) f();
  const s = performance.now(); for (let i = 0; i < N; i++) f(); console.log(name, (((performance.now() - s) * 1e6) / N).toFixed(1), 'ns');
}
let x = 0;
t('perf.now', () => { x += performance.now(); });
t('nowInto', () => { nowInto(o); });
t('hrtime.bigint', () => { x += Number(process.hrtime.bigint() & 1n); });
t('context.active', () => { context.active(); });
t('getSpan', () => { trace.getSpan(ROOT_CONTEXT); });
t('isTracingSuppressed', () => { isTracingSuppressed(ROOT_CONTEXT); });
t('randomWord x6', () => { x += randomWord() + randomWord() + randomWord() + randomWord() + randomWord() + randomWord(); });
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader, Writer } from '@otlp-mmap/native';
const path = join(mkdtempSync(join(tmpdir(), 'pm-')), 'f');
const wr = Writer.create(path, { spans: { slots: 1 << 16, slotSize: 2048 } });
const rd = Reader.open(path);
const b = Buffer.alloc(4096, 7);
for (const sz of [40, 400]) {
  let s = performance.now(), n = 0;
  for (let k = 0; k < 40; k++) { const t0 = performance.now(); for (let i = 0; i < 8000; i++) wr.append(1 as never, b, sz); n += performance.now() - t0; while (rd.read(1 as never, 4096).length > 0); }
  console.log('append', sz, ((n * 1e6) / 320000).toFixed(1), 'ns');
}
