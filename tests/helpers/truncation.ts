/**
 * Test support for truncation: the instrumented application of
 * `tests/fixtures/truncation-app.ts` as a child process, and cutting a file.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { truncateSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Reader } from '@otlp-mmap/native';

const APP = fileURLToPath(new URL('../fixtures/truncation-app.ts', import.meta.url));

/** What the application answers to 'status'. */
export interface AppStatus {
  /** Ticks whose API calls returned. */
  readonly ticks: number;
  readonly dropped: { spans: number; events: number; measurements: number; attributes: number };
  /** diag.error calls. */
  readonly diagErrors: number;
  readonly errorMessages: string[];
  /** API calls that threw (must stay 0). */
  readonly threw: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Total messages the SDK dropped. */
export function droppedMessages(s: AppStatus): number {
  return s.dropped.spans + s.dropped.events + s.dropped.measurements;
}

export interface AppOptions {
  /** Ticks every 2 ms (default 1). */
  readonly ticksPerInterval?: number;
  /** Whether every 25th tick uses an attribute key never used before (default true). */
  readonly newKeys?: boolean;
  /** Attach to an existing file instead of creating it (default false). */
  readonly attach?: boolean;
}

export class TruncationApp {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly waiting: ((status: AppStatus) => void)[] = [];
  stderr = '';

  private constructor(path: string, options: AppOptions) {
    const args = [path, String(options.ticksPerInterval ?? 1), options.newKeys === false ? '0' : '1', options.attach ? 'attach' : 'create'];
    this.child = fork(APP, args, {
      execArgv: ['--conditions=source', '--import=tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    // A send to an application that died fails with EPIPE: the exit is what the tests report.
    this.child.on('error', () => {});
    this.child.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null) this.waiting.shift()?.(message as AppStatus);
    });
  }

  /** Starts the application on `path` and waits until its SDK runs. */
  static async start(path: string, options: AppOptions = {}): Promise<TruncationApp> {
    const app = new TruncationApp(path, options);
    await new Promise<void>((resolve, reject) => {
      app.child.once('message', () => resolve());
      void app.exited.then((e) => reject(new Error(`the application exited (${e.code ?? e.signal}) before it was ready: ${app.stderr}`)));
    });
    return app;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Asks for the status; rejects when the application does not answer within `timeoutMs` or is gone. */
  status(timeoutMs = 10_000): Promise<AppStatus> {
    if (!this.running) return Promise.reject(new Error(`the application is gone: ${JSON.stringify(this.exit)} ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      void this.exited.then((e) => reject(new Error(`the application exited (code ${e.code}, signal ${e.signal}): ${this.stderr}`)));
      this.waiting.push((s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.child.send('status', (error) => {
        if (error) reject(error);
      });
    });
  }

  /** Names later ticks `<phase>-<n>`. */
  phase(name: string): void {
    if (this.running) this.child.send({ phase: name });
  }

  /** Polls the status until `predicate` holds (rejects after `timeoutMs`, or when the application dies). */
  async until(predicate: (s: AppStatus) => boolean, timeoutMs: number, what: string): Promise<AppStatus> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      if (predicate(s)) return s;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Shuts the SDK down and waits for the exit. */
  async stop(): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.send('stop', () => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** The cuts the tests make, by name: a size, or where it falls in the file's layout. */
export const CUTS = ['0 B', '64 B', '4 KiB', 'inside the dictionary'] as const;
export type Cut = (typeof CUTS)[number];

/** The size `cut` means for the file at `path` (its layout read with a short-lived reader). */
export function cutSize(path: string, cut: Cut): number {
  switch (cut) {
    case '0 B':
      return 0;
    case '64 B':
      return 64;
    case '4 KiB':
      return 4096;
    case 'inside the dictionary': {
      const reader = Reader.open(path);
      const { offset, end } = reader.info().dictionary;
      reader.close();
      // Past the dictionary header, before its end: inside its first entries.
      return Math.min(offset + 72, end - 1);
    }
  }
}

/** Cuts the file at `path` to `size` bytes (ftruncate), as `: > file` does for 0. */
export function cutFile(path: string, size: number): void {
  truncateSync(path, size);
}
