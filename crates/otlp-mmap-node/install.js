// Install script of @otlp-mmap/native: the fallback for machines without a
// prebuilt binary.
//
// - A prebuilt binary loads (the usual case: npm installed the matching
//   @otlp-mmap/native-<platform> package): nothing to do.
// - Otherwise, with a Rust toolchain on PATH: builds the binding from the Rust
//   sources shipped in this package (rust/: the core crate, the binding crate,
//   the .proto file the core's build script compiles, Cargo.lock) with
//   `cargo build --release --locked`, and puts the library where the loader
//   looks first: otlp-mmap.<platform>.node beside it.
// - Otherwise: fails with an error naming the platform and the fix.
// - On Windows, which the core does not support, it builds nothing and does
//   not fail the install: loading the binding fails with a clear error.
//
// In the repository (no rust/ directory: it is assembled when the package is
// packed) it does nothing; `napi build` builds the binding there.
'use strict'

const { spawnSync } = require('node:child_process')
const { copyFileSync, existsSync, rmSync } = require('node:fs')
const { join } = require('node:path')
const { localBindingFile, missingBindingMessage, targetName, unsupportedPlatformError } = require('./platform.js')

const here = __dirname
const sources = join(here, 'rust')

function log(message) {
  process.stderr.write(`@otlp-mmap/native: ${message}\n`)
}

function fail(message) {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

/** Whether the binding loads, tried in a child process so that nothing stays loaded here. */
function bindingLoads() {
  const probe = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', join(here, 'binding.js')], {
    stdio: 'ignore',
  })
  return probe.status === 0
}

function cargoVersion() {
  const cargo = process.env.CARGO || 'cargo'
  const result = spawnSync(cargo, ['--version'], { encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : undefined
}

/** Runs cargo; returns the path of the built cdylib (from cargo's JSON messages). */
function cargoBuild() {
  const cargo = process.env.CARGO || 'cargo'
  const args = [
    'build',
    '--release',
    '--locked',
    '--manifest-path',
    join(sources, 'Cargo.toml'),
    '-p',
    'otlp-mmap-node',
    '--message-format=json-render-diagnostics',
  ]
  const result = spawnSync(cargo, args, {
    cwd: sources,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  if (result.error) fail(`@otlp-mmap/native: could not run cargo: ${result.error.message}`)
  if (result.status !== 0) {
    fail(`@otlp-mmap/native: building the binding from source failed (cargo exited ${result.status}; its output is above).`)
  }
  let library
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const message = JSON.parse(line)
    if (message.reason === 'compiler-artifact' && message.target?.name === 'otlp_mmap_node') {
      library = message.filenames.find((f) => /\.(so|dylib)$/.test(f)) ?? library
    }
  }
  if (library === undefined) fail('@otlp-mmap/native: cargo reported no library for otlp-mmap-node')
  return library
}

function main() {
  if (!existsSync(join(sources, 'Cargo.toml'))) return // the repository: napi build makes the binding
  const unsupported = unsupportedPlatformError()
  if (unsupported) {
    // Nothing can be built here; the install goes on so that an application
    // that also runs on Windows (with OTEL_SDK_DISABLED=true there) installs,
    // and loading the binding fails with this message.
    log(unsupported.message)
    return
  }
  if (bindingLoads()) return
  const cargo = cargoVersion()
  if (cargo === undefined) {
    fail(`${missingBindingMessage()}\n(No Rust toolchain was found on PATH, so the install could not build it.)`)
  }
  log(`no prebuilt binary for ${targetName()}; building it from the shipped Rust sources with ${cargo} (a few minutes)`)
  const library = cargoBuild()
  const destination = join(here, localBindingFile())
  copyFileSync(library, destination)
  if (!process.env.CARGO_TARGET_DIR) rmSync(join(sources, 'target'), { recursive: true, force: true })
  if (!bindingLoads()) {
    fail(`@otlp-mmap/native: the binding built from source (${destination}) does not load on this Node.js (${process.version}).`)
  }
  log(`built ${destination}`)
}

main()
