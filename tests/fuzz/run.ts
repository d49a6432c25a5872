/**
 * The Node fuzz of the collector's decoding and of `dump` (see targets.ts): mutated ring messages and
 * dictionaries from files the real SDK wrote, through the Pipeline in memory, and mutated whole files
 * through `dump`. The seed chooses the mutations; the seed files differ from run to run (span ids,
 * times), so a finding is kept with the very input that caused it (under --findings).
 *
 *   node --conditions=source --import=tsx tests/fuzz/run.ts [--seconds S | --executions N] [--seed N]
 *        [--findings DIR] [--heartbeat FILE] [--dump-share P] [--slow-ms MS]
 *
 * Prints progress lines on stderr and, at the end, one JSON summary line on stdout: executions per
 * target, findings (each with the input that caused it, saved under --findings), the slowest input and
 * the peak RSS. An input slower than 1 s (3 s for a file) or a peak RSS above 1 GiB is a finding too. With
 * --heartbeat, the number of the input being run is written to that file before each one, so a
 * watchdog can tell a hang and which input it is (tests/fuzz/node-fuzz.test.ts is one).
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSeeds, type Seed } from './corpus.js';
import { mutate, Rng } from './mutate.js';
import { runDump, runPipeline, type PipelineInput } from './targets.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1] ?? '');
const seconds = args.has('seconds') ? Number(args.get('seconds')) : undefined;
const executions = args.has('executions') ? Number(args.get('executions')) : undefined;
const seed = args.has('seed') ? Number(args.get('seed')) : Date.now() % 2 ** 31;
const findingsDir = args.get('findings') ?? join(tmpdir(), `otlp-mmap-fuzz-findings-${seed}`);
const heartbeatPath = args.get('heartbeat');
/** Share of the inputs that are whole files for `dump` (they cost ~50 times a pipeline input). */
const DUMP_SHARE = Number(args.get('dump-share') ?? 0.02);
/** Slower inputs are findings (a dump of a file whose ring lags waits --uncommitted-timeout + 500 ms by design). */
const SLOW_MS = { pipeline: Number(args.get('slow-ms') ?? 1000), dump: Number(args.get('slow-ms') ?? 1000) + 2000 };
const MAX_RSS_MB = 1024;
const MAX_MESSAGE = 4096;

interface Finding {
  readonly target: 'pipeline' | 'dump';
  readonly execution: number;
  readonly problem: string;
  /** Where the input was saved. */
  readonly input: string;
}

function pipelineInput(rng: Rng, seed: Seed): PipelineInput {
  const all = seed.messages.flat();
  const messages = seed.messages.map((ring) => {
    const out: Uint8Array[] = [];
    const start = rng.below(ring.length);
    const count = 1 + rng.below(Math.min(40, ring.length));
    for (let i = 0; i < count; i++) {
      let m = ring[(start + i) % ring.length];
      if (rng.chance(0.03)) continue; // a message left out (its span then never ends, or never starts)
      if (rng.chance(0.15)) m = mutate(rng, m, rng.pick(all), MAX_MESSAGE);
      out.push(m);
      if (rng.chance(0.03)) out.push(m); // the same message twice
      if (rng.chance(0.02)) out.push(rng.bytes(rng.below(32)));
    }
    return out;
  });
  if (rng.chance(0.05)) [messages[0], messages[1]] = [messages[1], messages[0]]; // messages on the wrong ring
  if (rng.chance(0.05)) [messages[1], messages[2]] = [messages[2], messages[1]];
  let dictionary = seed.dictionary;
  if (rng.chance(0.2)) {
    dictionary = dictionary.slice();
    const span = dictionary.length - seed.firstEntry;
    for (let i = 1 + rng.below(8); i > 0; i--) {
      const at = seed.firstEntry + rng.below(span);
      dictionary[at] = rng.chance(0.5) ? dictionary[at] ^ (1 << rng.below(8)) : rng.next() & 255;
    }
  }
  if (rng.chance(0.03)) dictionary = dictionary.subarray(0, seed.firstEntry + rng.below(dictionary.length - seed.firstEntry));
  return { messages, dictionary, firstEntry: seed.firstEntry };
}

/** A copy of the seed file with a few parts changed: ring messages (mostly), raw slot bytes, dictionary entries, ring and file headers. */
function dumpInput(rng: Rng, seed: Seed): Uint8Array {
  const file = seed.file.slice();
  const all = seed.messages.flat();
  for (let edits = 1 + rng.below(6); edits > 0; edits--) {
    const ring = rng.pick(seed.rings);
    const slotAt = ring.offset + 32 + 4 * ring.slots + rng.below(ring.slots) * ring.slotSize;
    const where = rng.below(100);
    if (where < 55) {
      // a message of a slot, mutated and written back with its new length
      const [length, at] = readVarint(file, slotAt);
      const message = file.subarray(at, Math.min(at + length, slotAt + ring.slotSize));
      const mutated = mutate(rng, message, rng.pick(all), ring.slotSize - 10);
      const prefix = varintBytes(mutated.length);
      file.set(prefix, slotAt);
      file.set(mutated, slotAt + prefix.length);
    } else if (where < 70) {
      file.set(rng.bytes(1 + rng.below(8)).subarray(0, ring.slotSize), slotAt + rng.below(ring.slotSize - 8));
    } else if (where < 90) {
      const at = seed.firstEntry + rng.below(seed.dictionary.length - seed.firstEntry);
      file[at] = rng.chance(0.5) ? file[at] ^ (1 << rng.below(8)) : rng.next() & 255;
    } else if (where < 95) {
      // an availability entry or a ring header field (reader/writer index mostly)
      const at = rng.chance(0.5) ? ring.offset + 32 + 4 * rng.below(ring.slots) + rng.below(4) : ring.offset + 16 + rng.below(16);
      file[at] = rng.next() & 255;
    } else {
      file[rng.below(64)] = rng.next() & 255;
    }
  }
  return file;
}

function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && pos < bytes.length; i++) {
    const b = bytes[pos++];
    value += (b & 127) * scale;
    if (b < 128) break;
    scale *= 128;
  }
  return [value, pos];
}

function varintBytes(value: number): Uint8Array {
  const out: number[] = [];
  while (value > 127) {
    out.push((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Uint8Array.from(out);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

async function main(): Promise<void> {
  const seeds = await buildSeeds();
  const work = mkdtempSync(join(tmpdir(), 'otlp-mmap-fuzz-'));
  const heartbeat = heartbeatPath !== undefined ? openSync(heartbeatPath, 'w') : undefined;
  const beat = Buffer.alloc(16);
  const findings: Finding[] = [];
  const counts = { pipeline: 0, dump: 0, refusedFiles: 0 };
  let slowest = { ms: 0, target: '', execution: -1 };
  let peakRssMb = 0;
  const started = performance.now();
  const deadline = seconds !== undefined ? started + seconds * 1000 : Infinity;
  const limit = executions ?? (seconds === undefined ? 10_000 : Infinity);
  let lastReport = started;

  const save = (name: string, content: string | Uint8Array): string => {
    mkdirSync(findingsDir, { recursive: true });
    const path = join(findingsDir, name);
    writeFileSync(path, content);
    return path;
  };

  for (let n = 0; n < limit && performance.now() < deadline; n++) {
    const rng = new Rng((seed * 2654435761 + n * 40503) >>> 0);
    const seedFile = rng.pick(seeds);
    if (heartbeat !== undefined) {
      beat.write(`${n}`.padEnd(16), 0);
      writeSync(heartbeat, beat, 0, 16, 0);
    }
    const t0 = performance.now();
    let target: 'pipeline' | 'dump';
    let problem: string | undefined;
    let input: () => string;
    if (rng.chance(DUMP_SHARE)) {
      target = 'dump';
      const file = dumpInput(rng, seedFile);
      const outcome = await runDump(file, work);
      counts.dump++;
      if (outcome.refused) counts.refusedFiles++;
      problem = outcome.problem;
      input = () => save(`dump-${seed}-${n}.otlp-mmap`, file);
    } else {
      target = 'pipeline';
      const pi = pipelineInput(rng, seedFile);
      problem = runPipeline(pi);
      counts.pipeline++;
      input = () =>
        save(
          `pipeline-${seed}-${n}.json`,
          JSON.stringify({ firstEntry: pi.firstEntry, dictionary: hex(pi.dictionary), messages: pi.messages.map((ring) => ring.map(hex)) }),
        );
    }
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, target, execution: n };
    if (ms > SLOW_MS[target]) problem = `${problem ? `${problem}; ` : ''}took ${Math.round(ms)} ms`;
    if (problem !== undefined && findings.length < 50) findings.push({ target, execution: n, problem, input: input() });
    if ((n & 255) === 0) {
      const rss = process.memoryUsage.rss() / 1048576;
      peakRssMb = Math.max(peakRssMb, rss);
      if (rss > MAX_RSS_MB && findings.length < 50) findings.push({ target, execution: n, problem: `RSS ${Math.round(rss)} MB`, input: input() });
    }
    const now = performance.now();
    if (now - lastReport > 10_000) {
      lastReport = now;
      process.stderr.write(
        `fuzz: ${counts.pipeline} pipeline + ${counts.dump} dump inputs in ${Math.round((now - started) / 1000)} s, ${findings.length} findings\n`,
      );
    }
  }
  if (heartbeat !== undefined) closeSync(heartbeat);
  rmSync(work, { recursive: true, force: true });
  const summary = {
    seed,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    executions: counts.pipeline + counts.dump,
    pipeline: counts.pipeline,
    dump: counts.dump,
    refusedFiles: counts.refusedFiles,
    slowest: { ...slowest, ms: Math.round(slowest.ms) },
    peakRssMb: Math.round(peakRssMb),
    findings,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

await main();
process.exit(0);
