// @otlp-mmap/native/lazy: what the SDK and the collector need of the binding
// before (or without) loading it. Requiring this module loads nothing native:
// the binding is loaded by the first `loadBinding()` call, so that a program
// that imports the SDK on a machine without a binary still starts (and fails,
// or is disabled, only when it asks for a file).
'use strict'

// Ring identifiers (FORMAT.md section 3, in file order): the values of the
// binding's `Ring` enum (tests/native/lazy.test.ts compares them).
exports.RING_EVENTS = 0
exports.RING_SPANS = 1
exports.RING_MEASUREMENTS = 2
/** Names of the rings, by identifier. */
exports.RING_NAMES = Object.freeze(['events', 'spans', 'measurements'])

let binding

/** The binding (`require('@otlp-mmap/native')`), loaded on the first call; throws what loading throws. */
exports.loadBinding = function loadBinding() {
  if (binding === undefined) binding = require('./binding.js')
  return binding
}

/** The stable `code` of an error thrown by the binding (`ERR_CLOSED`, `ERR_FILE_TRUNCATED`, ...), if it has one. */
exports.errorCode = function errorCode(error) {
  const code = typeof error === 'object' && error !== null ? error.code : undefined
  return typeof code === 'string' ? code : undefined
}
