/**
 * A real OpenTelemetry Collector for tests: `tests/otelcol/` (main.go, built
 * with the collector's Go modules at the release go.mod names: the OTLP
 * receiver, the file and debug exporters) compiled with the machine's `go`,
 * and run as a child process with a configuration the test writes.
 *
 * The binary is cached under `tests/otelcol/bin/` (git-ignored), named by a
 * hash of go.mod, go.sum and main.go: a later run, or a change elsewhere,
 * reuses it. The first build downloads the modules (~0.5 GB into Go's module
 * cache) and compiles them: minutes; Go's build cache makes a rebuild after
 * a change to main.go take seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../otelcol/', import.meta.url));
const BIN = fileURLToPath(new URL('../otelcol/bin/', import.meta.url));

/** How long the first build may take on a fresh machine (module download and compilation on 2 cores). */
export const OTELCOL_BUILD_TIMEOUT_MS = 15 * 60_000;

function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The path of the test collector's binary, built first when no binary of
 * the current sources is cached. Fails (never skips) when Go or the modules
 * are not to be had, saying which.
 */
export async function buildOtelcol(): Promise<{ path: string; built: boolean; ms: number }> {
  const hash = createHash('sha256');
  for (const name of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(`${SOURCE}${name}`));
  const path = `${BIN}otelcol-test-${hash.digest('hex').slice(0, 16)}`;
  if (existsSync(path)) return { path, built: false, ms: 0 };
  const started = Date.now();
  let version: { code: number | null; output: string };
  try {
    version = await run('go', ['version'], SOURCE, 60_000);
  } catch (error) {
    throw new Error(
      `the real-collector test builds an OpenTelemetry Collector from its Go modules (tests/otelcol) and needs Go 1.26 or later on the PATH: ${(error as Error).message}`,
    );
  }
  if (version.code !== 0) throw new Error(`\`go version\` failed: ${version.output}`);
  mkdirSync(BIN, { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  // At the lowest priority: the other test files, run meanwhile, keep the CPU their timeouts count on.
  const goBuild = ['go', 'build', '-buildvcs=false', '-trimpath', '-o', partial, '.'];
  const niced = existsSync('/usr/bin/nice') || existsSync('/bin/nice');
  const build = await run(niced ? 'nice' : 'go', niced ? ['-n', '19', ...goBuild] : goBuild.slice(1), SOURCE, OTELCOL_BUILD_TIMEOUT_MS);
  if (build.code !== 0) {
    rmSync(partial, { force: true });
    throw new Error(
      `building the OpenTelemetry Collector of tests/otelcol failed (${version.output.trim()}; the Go module proxy must serve go.opentelemetry.io/collector/... at the versions of tests/otelcol/go.mod):\n${build.output.slice(-4000)}`,
    );
  }
  renameSync(partial, path); // atomic: a concurrent run sees the whole binary or none
  // Binaries of earlier sources are not used again.
  for (const name of readdirSync(BIN)) if (/^otelcol-test-[0-9a-f]{16}$/.test(name) && `${BIN}${name}` !== path) rmSync(`${BIN}${name}`, { force: true });
  return { path, built: true, ms: Date.now() - started };
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running test collector. */
export class Otelcol {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  private done = false;

  constructor(binary: string, configPath: string) {
    this.child = spawn(binary, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        this.done = true;
        resolve(code);
      }),
    );
  }

  get running(): boolean {
    return !this.done;
  }

  /** Stops it (SIGTERM: the collector shuts down its pipelines, flushing the file exporter), bounded. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (this.done) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
