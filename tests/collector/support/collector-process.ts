/**
 * Runs the collector command as a child process (from source, through tsx)
 * and gives tests its output, its status lines and its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../../packages/collector/src/cli.ts', import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Polls `predicate` until it holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class CollectorProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exitInfo: Exit | undefined;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    const cleanEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !k.startsWith('OTEL_') && k !== 'SDK_MMAP_EXPORTER_FILE') cleanEnv[k] = v;
    }
    this.child = spawn(process.execPath, ['--conditions=source', '--import=tsx', CLI, ...args], {
      cwd: ROOT,
      env: { ...cleanEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Sends a signal and waits for the exit (bounded). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<Exit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /**
   * Freezes the process (SIGSTOP) and waits until every thread of it is
   * stopped, so that everything written to the file meanwhile is read by
   * the collector's next poll, in one batch (when it fits --read-batch):
   * lets tests place collections between known sets of measurements.
   */
  async pause(timeoutMs = 10_000): Promise<void> {
    this.child.kill('SIGSTOP');
    const pid = this.child.pid!;
    await waitFor(() => !this.running || allThreadsStopped(pid), timeoutMs, `collector ${pid} to stop`);
    if (!this.running) throw new Error(`the collector exited: ${this.stderr}`);
  }

  /** Lets a {@link pause}d process go on (SIGCONT). */
  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** Status lines (`--stats`, final, dump) parsed into numbers by key. */
  statusLines(label = 'stats'): Record<string, number>[] {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith(`otlp-mmap-collector: ${label} `))
      .map((l) => {
        const out: Record<string, number> = {};
        for (const field of l.split(' ').slice(2)) {
          const [k, v] = field.split('=');
          out[k] = Number(v);
        }
        return out;
      });
  }

  /** OTLP JSON lines written to stdout. */
  jsonLines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/** Whether every thread of process `pid` is in the stopped state (Linux /proc). */
function allThreadsStopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The state follows the parenthesised command name, which may itself hold spaces.
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
    });
  } catch {
    return false;
  }
}

/** Runs the collector to completion (e.g. `dump`), bounded. */
export async function runCollector(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CollectorProcess & { exit: Exit }> {
  const p = new CollectorProcess(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const exit = await p.exited;
  clearTimeout(timer);
  return Object.assign(p, { exit });
}
