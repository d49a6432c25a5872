/**
 * Runs the collector command as a child process (from source, through tsx)
 * and gives tests its output, its status lines and its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

/** Runs the collector to completion (e.g. `dump`), bounded. */
export async function runCollector(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CollectorProcess & { exit: Exit }> {
  const p = new CollectorProcess(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const exit = await p.exited;
  clearTimeout(timer);
  return Object.assign(p, { exit });
}
