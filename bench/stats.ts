/** Small helpers shared by the benchmark scripts. */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Whether the measured process gets a CPU of its own (pinned with `taskset`,
 * the harness on another CPU): by default wherever that can be done (Linux,
 * 2+ CPUs, `taskset` present); BENCH_PIN=0 leaves the scheduler free.
 */
export function shouldPin(): boolean {
  if (process.env.BENCH_PIN === '0' || process.platform !== 'linux' || availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `fn` `rounds` times and returns the median of what it returns. */
export function medianOf(rounds: number, fn: () => number): number {
  return median(Array.from({ length: rounds }, fn));
}

/** Prints rows as an aligned Markdown table. */
export function printTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** Formats a number with thousands separators and `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
