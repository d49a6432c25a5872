//! The reader's fuzz target, shared by the coverage-guided `cargo fuzz`
//! target (`fuzz/fuzz_targets/reader.rs`, nightly) and the stable-Rust
//! harness that the test command runs (`fuzz_tests.rs`): it builds a file
//! from the fuzz input, opens it with a consuming and a read-only reader,
//! reads every ring, and resolves what the messages refer to.
//!
//! An input is either a whole file (first byte even: the rest is the file)
//! or a list of edits of a valid template file (first byte odd), so that
//! the fuzzer also reaches what lies behind the header checks: the rings'
//! indexes and slots, and the dictionary. Edits (each starting with an
//! opcode byte):
//! - `0`: `offset:u16 len:u8 bytes` — overwrite bytes;
//! - `1`: `offset:u16 pick:u8 [8 bytes]` — an int64 at an 8-aligned offset,
//!   from a table of edge values, or the 8 bytes that follow;
//! - `2`: `offset:u16 pick:u8 [4 bytes]` — the same for an int32;
//! - `3`: `size:u16` — cut or extend the file to `size` bytes.
//!
//! Besides "never panics", it checks what must hold for any file: the
//! output of a read is well framed and matches the count returned, a read
//! holds at most its byte bound unless it returned one message, no read
//! resynchronises a ring more than once, entries respect the entry size
//! limit, and a read-only reader leaves every byte of the file as it was.
//!
//! Not part of the API: compiled for tests and with the `fuzzing` feature.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use prost::Message;

use crate::config::{ReaderConfig, RingConfig, WriterConfig};
use crate::error::RingId;
use crate::proto::{
    any_value, span_event, AnyValue, Event, InstrumentationScope, KeyValueRef, Measurement,
    MetricRef, Resource, SpanEvent,
};
use crate::{value, varint, Dictionary, Reader, Writer};

/// Largest file an input makes (the template is ~3 KiB).
const MAX_FILE: usize = 1 << 16;
/// Largest dictionary entry the fuzzed reader accepts.
const MAX_ENTRY: u64 = 1 << 12;
/// Byte bound of the fuzzed reads (small, to reach the bound).
const READ_BYTES: usize = 300;
/// Slots per read.
const READ_MESSAGES: usize = 8;
/// Reads per ring and reader.
const ROUNDS: u64 = 4;

/// A directory of this process for the fuzzed file, in `/dev/shm` (memory:
/// many times more runs per second than a disk-backed `/tmp`) when it
/// exists, else in the temporary directory. A libFuzzer process leaves it
/// behind (one small file); the stable harness removes it.
fn work_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("otlp-mmap-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the fuzz directory");
        dir
    })
}

/// Removes the directory [`run`] writes its file into (it is made again
/// when needed).
pub fn remove_files() {
    let _ = std::fs::remove_dir_all(work_dir());
}

fn any_string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    }
}

fn attr(key_ref: i64, value: AnyValue) -> KeyValueRef {
    KeyValueRef {
        key_ref,
        value: Some(value),
    }
}

/// A small valid file with something in every ring and dictionary entries
/// of every kind, references between them included.
pub fn template() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        std::fs::create_dir_all(work_dir()).expect("creating the fuzz directory");
        let path = work_dir().join("template");
        let ring = RingConfig {
            num_buffers: 4,
            buffer_size: 96,
        };
        let config = WriterConfig {
            rings: [ring; 3],
            dictionary_size: 1024,
            max_file_size: 1 << 20,
            file_mode: 0o600,
        };
        let w = Writer::create(&path, &config).expect("template file");
        let key = w.intern(b"service.name").unwrap();
        let resource = w
            .add_entry(
                &Resource {
                    attributes: vec![attr(key, any_string("checkout"))],
                    dropped_attributes_count: 0,
                    schema_url: String::new(),
                }
                .encode_to_vec(),
            )
            .unwrap();
        let scope_name = w.intern(b"fuzz-scope").unwrap();
        let scope = w
            .add_entry(
                &InstrumentationScope {
                    name_ref: scope_name,
                    version_ref: 0,
                    attributes: vec![],
                    dropped_attributes_count: 0,
                    resource_ref: resource,
                    schema_url: String::new(),
                }
                .encode_to_vec(),
            )
            .unwrap();
        let inner = w
            .add_entry(
                &AnyValue {
                    value: Some(any_value::Value::IntValue(42)),
                }
                .encode_to_vec(),
            )
            .unwrap();
        let nested = w
            .add_entry(
                &AnyValue {
                    value: Some(any_value::Value::KvlistValue(crate::proto::KeyValueList {
                        values: vec![attr(
                            key,
                            AnyValue {
                                value: Some(any_value::Value::ValueRef(inner)),
                            },
                        )],
                    })),
                }
                .encode_to_vec(),
            )
            .unwrap();
        let metric = w
            .add_entry(
                &MetricRef {
                    name: "requests".into(),
                    description: String::new(),
                    unit: "1".into(),
                    instrumentation_scope_ref: scope,
                    aggregation: Some(crate::proto::metric_ref::Aggregation::Gauge(
                        crate::proto::Gauge {},
                    )),
                }
                .encode_to_vec(),
            )
            .unwrap();
        let value_ref = AnyValue {
            value: Some(any_value::Value::ValueRef(nested)),
        };
        let event = Event {
            scope_ref: scope,
            time_unix_nano: 1,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(value_ref.clone()),
            event_name_ref: 0,
            span_context: None,
            attributes: vec![attr(key, any_string("x"))],
            observed_time_unix_nano: 0,
            dropped_attributes_count: 0,
        };
        let start = SpanEvent {
            scope_ref: scope,
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            event: Some(span_event::Event::Start(crate::proto::StartSpan {
                parent_span_id: vec![],
                flags: 1,
                name: "GET".into(),
                kind: 2,
                start_time_unix_nano: 5,
                attributes: vec![attr(key, value_ref)],
                trace_state: String::new(),
            })),
        };
        let measurement = Measurement {
            metric_ref: metric,
            attributes: vec![attr(key, any_string("a"))],
            time_unix_nano: 7,
            span_context: None,
            value: Some(crate::proto::measurement::Value::AsLong(3)),
        };
        assert!(w.append(RingId::Events, &event.encode_to_vec()).unwrap());
        assert!(w.append(RingId::Spans, &start.encode_to_vec()).unwrap());
        assert!(w.append(RingId::Spans, b"").unwrap());
        assert!(w
            .append(RingId::Measurements, &measurement.encode_to_vec())
            .unwrap());
        // A claim never committed, for the skip path.
        assert!(w.claim_without_commit(RingId::Measurements).is_some());
        drop(w);
        let bytes = std::fs::read(&path).expect("reading the template");
        let _ = std::fs::remove_file(&path);
        bytes
    })
}

/// Edge values for int64 edits (indexes, offsets, references, sizes).
const I64_EDGES: [i64; 14] = [
    0,
    -1,
    1,
    -2,
    7,
    8,
    64,
    4096,
    i64::MIN,
    i64::MAX,
    1 << 62,
    (1 << 62) + 1,
    1 << 32,
    (1 << 31) - 1,
];

/// Edge values for int32 edits (availability entries).
const I32_EDGES: [i32; 6] = [0, -1, 1, 2, i32::MIN, i32::MAX];

/// The file an input describes (module documentation).
pub fn build_file(input: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = input.split_first() else {
        return Vec::new();
    };
    if mode & 1 == 0 {
        return rest[..rest.len().min(MAX_FILE)].to_vec();
    }
    let mut file = template().to_vec();
    let mut at = 0;
    let byte = |at: &mut usize| -> Option<u8> {
        let b = rest.get(*at).copied();
        *at += 1;
        b
    };
    while let Some(op) = byte(&mut at) {
        let (Some(lo), Some(hi)) = (byte(&mut at), byte(&mut at)) else {
            break;
        };
        let raw = u16::from_le_bytes([lo, hi]) as usize;
        let len = file.len().max(1);
        match op % 4 {
            0 => {
                let Some(n) = byte(&mut at) else { break };
                let n = (n % 32) as usize;
                let data = &rest[at.min(rest.len())..(at + n).min(rest.len())];
                at += n;
                let offset = raw % len;
                let end = (offset + data.len()).min(file.len());
                file[offset..end].copy_from_slice(&data[..end - offset]);
            }
            1 => {
                let Some(pick) = byte(&mut at) else { break };
                let value = match I64_EDGES.get(pick as usize) {
                    Some(&v) => v.to_le_bytes(),
                    None => {
                        let mut b = [0u8; 8];
                        for x in &mut b {
                            *x = byte(&mut at).unwrap_or(0);
                        }
                        b
                    }
                };
                let offset = (raw % len) & !7;
                if offset + 8 <= file.len() {
                    file[offset..offset + 8].copy_from_slice(&value);
                }
            }
            2 => {
                let Some(pick) = byte(&mut at) else { break };
                let value = match I32_EDGES.get(pick as usize) {
                    Some(&v) => v.to_le_bytes(),
                    None => {
                        let mut b = [0u8; 4];
                        for x in &mut b {
                            *x = byte(&mut at).unwrap_or(0);
                        }
                        b
                    }
                };
                let offset = (raw % len) & !3;
                if offset + 4 <= file.len() {
                    file[offset..offset + 4].copy_from_slice(&value);
                }
            }
            _ => file.resize(raw.min(MAX_FILE), 0),
        }
    }
    file
}

/// Splits a read's output into messages, checking its framing.
fn framed(mut batch: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !batch.is_empty() {
        let (len, used) = varint::decode(batch).expect("a read's output is well framed");
        let end = used
            .checked_add(usize::try_from(len).expect("length fits"))
            .filter(|&e| e <= batch.len())
            .expect("a framed message lies inside the read's output");
        out.push(&batch[used..end]);
        batch = &batch[end..];
    }
    out
}

/// Resolves attributes and an optional value through the reader.
fn resolve(r: &Reader, attributes: &[KeyValueRef], value: Option<&AnyValue>) {
    let _ = value::resolve_attributes(attributes, r);
    if let Some(v) = value {
        let _ = value::resolve(v, r);
    }
}

/// Follows a scope reference to its name, version, attributes and resource.
fn resolve_scope(r: &Reader, scope_ref: i64) {
    let Ok(bytes) = r.entry(scope_ref) else {
        return;
    };
    assert!(bytes.len() as u64 <= MAX_ENTRY, "entry size limit");
    if let Ok(scope) = InstrumentationScope::decode(bytes.as_slice()) {
        let _ = r.string(scope.name_ref);
        let _ = r.string(scope.version_ref);
        resolve(r, &scope.attributes, None);
        if let Ok(res) = r.entry(scope.resource_ref) {
            if let Ok(res) = Resource::decode(res.as_slice()) {
                resolve(r, &res.attributes, None);
            }
        }
    }
}

/// Decodes one ring message as its ring's type and resolves what it refers to.
fn use_message(r: &Reader, ring: RingId, bytes: &[u8]) {
    match ring {
        RingId::Events => {
            if let Ok(e) = Event::decode(bytes) {
                resolve_scope(r, e.scope_ref);
                let _ = r.string(e.event_name_ref);
                resolve(r, &e.attributes, e.body.as_ref());
            }
        }
        RingId::Spans => {
            if let Ok(s) = SpanEvent::decode(bytes) {
                resolve_scope(r, s.scope_ref);
                match s.event {
                    Some(span_event::Event::Start(start)) => resolve(r, &start.attributes, None),
                    Some(span_event::Event::Attributes(u)) => resolve(r, &u.attributes, None),
                    Some(span_event::Event::Link(l)) => {
                        for link in &l.links {
                            resolve(r, &link.attributes, None);
                        }
                    }
                    _ => {}
                }
            }
        }
        RingId::Measurements => {
            if let Ok(m) = Measurement::decode(bytes) {
                resolve(r, &m.attributes, None);
                if let Ok(metric) = r.entry(m.metric_ref) {
                    if let Ok(metric) = MetricRef::decode(metric.as_slice()) {
                        resolve_scope(r, metric.instrumentation_scope_ref);
                    }
                }
            }
        }
    }
}

/// Opens `path` and uses everything: reads every ring, resolves what the
/// messages refer to, and dictionary entries at offsets taken from `input`.
fn exercise(path: &Path, read_only: bool, input: &[u8]) {
    let config = ReaderConfig {
        uncommitted_timeout: Duration::ZERO,
        max_file_size: 1 << 20,
        max_entry_size: MAX_ENTRY,
        read_only,
    };
    let mut r = match Reader::open(path, config) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.to_string().is_empty() && !e.code().is_empty());
            return;
        }
    };
    let _ = r.info();
    let _ = r.is_reset();
    let mut out = Vec::new();
    for round in 0..ROUNDS {
        for ring in RingId::ALL {
            out.clear();
            // The file does not change under the harness: only a cut
            // reports an error, and it cannot happen here.
            let n = match r.read_batch(ring, READ_MESSAGES, READ_BYTES, &mut out) {
                Ok(n) => n,
                Err(e) => panic!("a file nobody cuts was reported truncated: {e}"),
            };
            let messages = framed(&out);
            assert_eq!(messages.len(), n, "the count matches the framed output");
            assert!(n <= READ_MESSAGES);
            assert!(
                out.len() <= READ_BYTES || n == 1,
                "{} bytes in {n} messages past the bound",
                out.len()
            );
            for m in messages {
                use_message(&r, ring, m);
            }
            assert!(
                r.stats(ring).resyncs <= round + 1,
                "at most one resync per read"
            );
        }
    }
    // Entries at offsets the input names, read as every kind of entry.
    for chunk in input.chunks_exact(8).take(8) {
        let reference = i64::from_le_bytes(chunk.try_into().expect("8 bytes")) & 0xFFFF;
        if let Ok(bytes) = r.entry(reference) {
            assert!(bytes.len() as u64 <= MAX_ENTRY, "entry size limit");
            if let Ok(v) = AnyValue::decode(bytes.as_slice()) {
                let _ = value::resolve(&v, &r);
            }
        }
        resolve_scope(&r, reference);
        let _ = r.string(reference);
    }
}

/// Runs one input: builds its file, exercises a consuming and a read-only
/// reader on it, and checks that the read-only one changed no byte.
pub fn run(input: &[u8]) {
    let file = build_file(input);
    let dir = work_dir();
    // Again each time: a harness may have removed the directory.
    std::fs::create_dir_all(dir).expect("creating the fuzz directory");
    let path = dir.join("fuzz.otlp-mmap");
    std::fs::write(&path, &file).expect("writing the fuzzed file");
    exercise(&path, true, input);
    assert!(
        std::fs::read(&path).expect("reading back") == file,
        "a read-only reader changed the file"
    );
    exercise(&path, false, input);
}
