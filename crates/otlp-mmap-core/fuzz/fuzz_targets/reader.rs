//! The core's reader on a file built from the input (see
//! `otlp_mmap_core::fuzzing`): open, read every ring, resolve entries and
//! values, with a consuming and a read-only reader.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otlp_mmap_core::fuzzing::run(data);
});
