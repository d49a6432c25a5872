/**
 * Runs inputs the Node fuzz saved (pipeline-*.json, dump-*.otlp-mmap) through their target again and
 * prints what it finds and how long each took.
 *
 *   node --conditions=source --import=tsx tests/fuzz/replay.ts FILE... [--times N]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runDump, runPipeline, type PipelineInput } from './targets.js';

const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--times');
const timesAt = process.argv.indexOf('--times');
const times = timesAt > 0 ? Number(process.argv[timesAt + 1]) : 1;
const work = mkdtempSync(join(tmpdir(), 'otlp-mmap-replay-'));
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
for (const file of files) {
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    let problem: string | undefined;
    if (file.endsWith('.json')) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { firstEntry: number; dictionary: string; messages: string[][] };
      const input: PipelineInput = {
        firstEntry: saved.firstEntry,
        dictionary: unhex(saved.dictionary),
        messages: saved.messages.map((ring) => ring.map(unhex)),
      };
      problem = runPipeline(input);
    } else {
      problem = (await runDump(new Uint8Array(readFileSync(file)), work)).problem;
    }
    console.log(`${file}: ${Math.round(performance.now() - t0)} ms${problem ? `: ${problem}` : ''}`);
  }
}
rmSync(work, { recursive: true, force: true });
