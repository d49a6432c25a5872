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
