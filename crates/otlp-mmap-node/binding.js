// Entry point of @otlp-mmap/native: refuses an unsupported operating system
// with a clear error, then loads the binding through the loader napi-rs
// generates (index.js: a binary beside it, else the package
// @otlp-mmap/native-<platform>), and explains a failure to find one.
'use strict'

const { missingBindingMessage, unsupportedPlatformError } = require('./platform.js')

const unsupported = unsupportedPlatformError()
if (unsupported) throw unsupported
try {
  require('./index.js')
} catch (cause) {
  const err = new Error(missingBindingMessage(), { cause })
  err.code = 'ERR_OTLP_MMAP_NO_BINDING'
  throw err
}
// Written as a plain re-export so that Node finds the named exports
// (`import { Writer } from '@otlp-mmap/native'`) from ES modules.
module.exports = require('./index.js')
