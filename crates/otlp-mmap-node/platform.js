// Which build of the binding this machine needs, and what to say when there
// is none. Shared by the entry point (binding.js) and the install script
// (install.js); the loader napi-rs generates (index.js) has its own copy of
// the platform logic and is left as generated.
'use strict'

const { readFileSync } = require('node:fs')

/** The targets published as `@otlp-mmap/native-<target>` packages. */
const PREBUILT_TARGETS = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64']

const WINDOWS_MESSAGE =
  '@otlp-mmap/native does not support Windows: the OTLP-MMAP core relies on Unix file semantics ' +
  '(a shared mapping that follows the file as it grows, fallocate/flock, SIGBUS on a truncated file). ' +
  'Supported: Linux (x64, arm64; glibc or musl) and macOS (x64, arm64). On Windows, run the ' +
  'application under WSL 2 or in a Linux container, or set OTEL_SDK_DISABLED=true.'

function isMusl() {
  if (process.platform !== 'linux') return false
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : undefined
  if (report?.header?.glibcVersionRuntime) return false
  if (Array.isArray(report?.sharedObjects) && report.sharedObjects.some((f) => /libc\.musl-|ld-musl-/.test(f))) {
    return true
  }
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    return false
  }
}

/**
 * The name the napi-rs loader uses for this machine: `linux-x64-gnu`,
 * `linux-arm64-musl`, `darwin-arm64`, ... The loader looks for
 * `otlp-mmap.<name>.node` beside itself, then for the package
 * `@otlp-mmap/native-<name>`.
 */
function targetName() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const libc = isMusl() ? 'musl' : 'gnu'
    return `linux-${arch}-${libc}${arch === 'arm' ? 'eabihf' : ''}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** File name of the binding for this machine, as the loader looks for it beside itself. */
function localBindingFile() {
  return `otlp-mmap.${targetName()}.node`
}

/** An error for an unsupported operating system, or undefined. */
function unsupportedPlatformError() {
  if (process.platform !== 'win32') return undefined
  const err = new Error(WINDOWS_MESSAGE)
  err.code = 'ERR_OTLP_MMAP_UNSUPPORTED_PLATFORM'
  return err
}

/** The message for "no binding could be loaded": the platform, and the ways out. */
function missingBindingMessage() {
  const target = targetName()
  const lines = [`@otlp-mmap/native: no native binding for this platform (${target}, Node.js ${process.version}).`]
  if (PREBUILT_TARGETS.includes(target)) {
    lines.push(
      `A prebuilt binary exists: the optional dependency @otlp-mmap/native-${target} was not installed`,
      '(installed with --omit=optional or --no-optional, or a lockfile made on another platform; npm bug',
      'https://github.com/npm/cli/issues/4828). Fix: remove node_modules and package-lock.json and install again.',
    )
  } else {
    lines.push(`No prebuilt binary is published for ${target} (prebuilt: ${PREBUILT_TARGETS.join(', ')}).`)
  }
  lines.push(
    'Or build it from the Rust sources shipped in the package: install a Rust toolchain (1.88 or later,',
    'https://rustup.rs), then run `npm rebuild @otlp-mmap/native`. npm 11 and pnpm 10 run the build script',
    'of a dependency only once allowed: `npm install-scripts approve @otlp-mmap/native` (npm),',
    '`pnpm approve-builds` then `pnpm rebuild @otlp-mmap/native` (pnpm).',
  )
  return lines.join('\n')
}

module.exports = { PREBUILT_TARGETS, targetName, localBindingFile, unsupportedPlatformError, missingBindingMessage }
