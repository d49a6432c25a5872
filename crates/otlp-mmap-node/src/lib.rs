//! Node-API binding of `otlp-mmap-core` (JS package `@otlp-mmap/native`):
//! converts arguments, calls the core, converts back. The JS contract is
//! `docs/binding-api.md`.
//!
//! The API is declared here with `#[napi]` items, for which napi-rs
//! generates the glue and the typings. The two calls made once per telemetry
//! item are hand-written Node-API callbacks instead, because the generated
//! glue costs more than their work: `Writer.prototype.append`
//! ([`fast_append`], put over the generated method when the module loads)
//! and the function `Writer.scratchAppender` returns ([`scratch_appender`]).
//! Those two modules hold the crate's `unsafe` code, apart from the calls
//! here that set them up; each says why what it does is sound.

use napi::bindgen_prelude::{
    BigInt, Buffer, BufferSlice, Env, FromNapiValue, Object, This, Unknown,
};
use napi::JsValue;
use napi_derive::napi;
use otlp_mmap_core as core;

mod fast_append;
mod otlp_value;
mod scratch_appender;

/// Runs when the module loads: installs the core's SIGBUS handler (a file
/// truncated under one of our mappings then fails calls with
/// ERR_FILE_TRUNCATED instead of killing the process; see
/// `otlp_mmap_core::fault`), and replaces the generated
/// `Writer.prototype.append` by the hand-written callback of `fast_append`
/// (same behaviour, no per-call borrow tracking).
#[napi(module_exports)]
pub fn install_fast_paths(exports: Object, env: Env) -> napi::Result<()> {
    core::fault::install();
    // SAFETY: napi-rs calls this hook after defining the classes on `exports`.
    unsafe { fast_append::install(env.raw(), exports.raw()) }
}

/// Whether the SIGBUS handler is installed in this process: a file
/// truncated under a writer or reader then fails its calls with
/// ERR_FILE_TRUNCATED; without it the process would die of SIGBUS.
#[napi]
pub fn truncation_protected() -> bool {
    core::fault::installed()
}

/// The stable `code` of an error thrown to JavaScript.
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

fn to_js(e: core::Error) -> napi::Error<Code> {
    napi::Error::new(Code(e.code()), e.to_string())
}

fn closed() -> napi::Error<Code> {
    to_js(core::Error::Closed)
}

fn invalid_option(message: String) -> napi::Error<Code> {
    to_js(core::Error::InvalidConfig(message))
}

/// An option that must be a non-negative integer no larger than `max`.
fn integer_option(
    name: &str,
    value: Option<f64>,
    default: u64,
    max: u64,
) -> napi::Result<u64, Code> {
    let Some(v) = value else { return Ok(default) };
    if !(v.is_finite() && v.fract() == 0.0 && v >= 0.0 && v <= max as f64) {
        return Err(invalid_option(format!(
            "{name} must be an integer in [0, {max}], got {v}"
        )));
    }
    Ok(v as u64)
}

/// Ring identifiers (FORMAT.md section 3, in file order).
#[napi]
pub enum Ring {
    Events = 0,
    Spans = 1,
    Measurements = 2,
}

impl From<Ring> for core::RingId {
    fn from(ring: Ring) -> core::RingId {
        match ring {
            Ring::Events => core::RingId::Events,
            Ring::Spans => core::RingId::Spans,
            Ring::Measurements => core::RingId::Measurements,
        }
    }
}

/// Size of one ring.
#[napi(object)]
pub struct RingOptions {
    /// Number of slots: a power of two >= 2.
    pub slots: Option<f64>,
    /// Bytes per slot, length prefix included: a multiple of 8, >= 16.
    pub slot_size: Option<f64>,
}

/// Options of `Writer.create`.
#[napi(object)]
pub struct WriterOptions {
    /// Default 4096 slots x 512 B.
    pub events: Option<RingOptions>,
    /// Default 4096 slots x 1024 B.
    pub spans: Option<RingOptions>,
    /// Default 8192 slots x 256 B.
    pub measurements: Option<RingOptions>,
    /// Initial dictionary bytes (its 64-byte header included), default 1 MiB.
    pub dictionary_size: Option<f64>,
    /// Virtual reservation: the file never grows past it. Default 16 GiB.
    pub max_file_size: Option<f64>,
    /// Permission bits of the file, default 0o600.
    pub file_mode: Option<f64>,
}

/// Options of `Writer.attach`.
#[napi(object)]
pub struct AttachOptions {
    /// Virtual reservation: the file never grows past it. Default 16 GiB.
    pub max_file_size: Option<f64>,
}

/// Options of `Reader.open`.
#[napi(object)]
pub struct ReaderOptions {
    /// How long a claimed, uncommitted slot blocks the reader before it is
    /// skipped (FORMAT.md 7.8). Default 2000.
    pub uncommitted_timeout_ms: Option<f64>,
    /// Virtual reservation: the largest file size the reader follows. Default 16 GiB.
    pub max_file_size: Option<f64>,
    /// Open and map the file read-only and never write to it: read()
    /// consumes nothing (the positions are kept in the Reader). Default false.
    pub read_only: Option<bool>,
}

/// One ring's geometry and current indexes.
#[napi(object)]
pub struct RingInfo {
    pub offset: i64,
    pub num_buffers: i64,
    pub buffer_size: i64,
    pub reader_index: i64,
    pub writer_index: i64,
}

/// The dictionary's position and fill.
#[napi(object)]
pub struct DictionaryInfo {
    pub offset: i64,
    pub end: i64,
    pub num_entries: i64,
}

/// A snapshot of the file header fields.
#[napi(object)]
pub struct FileInfo {
    pub version: i64,
    pub start_time_unix_nano: BigInt,
    pub file_size: i64,
    pub events: RingInfo,
    pub spans: RingInfo,
    pub measurements: RingInfo,
    pub dictionary: DictionaryInfo,
}

/// What a reader knows of the loss when its file was truncated.
#[napi(object)]
pub struct TruncationInfo {
    /// The file's size when last looked at.
    pub file_size: i64,
    /// The largest size the reader had seen before the cut.
    pub known_size: i64,
    /// Per ring [events, spans, measurements]: messages claimed by writers
    /// and not read (counted from the ring header while the file stayed
    /// cut); -1 when the header itself was cut off.
    pub unread: Vec<i64>,
    /// Per ring: messages copied out but discarded because the copy
    /// crossed the cut.
    pub discarded: Vec<i64>,
    /// Sum of the known unread and discarded messages.
    pub known_lost: i64,
}

/// Reader counters, per ring [events, spans, measurements].
#[napi(object)]
pub struct ReaderStats {
    /// Claimed indexes skipped after the timeout.
    pub skipped_uncommitted: Vec<i64>,
    /// Slots skipped because their content was invalid.
    pub corrupt: Vec<i64>,
    /// Messages returned by read().
    pub read: Vec<i64>,
    /// Times the ring's indexes were found impossible and resynchronised.
    pub resyncs: Vec<i64>,
    /// Indexes given up by those resynchronisations.
    pub resync_skipped: Vec<i64>,
    /// Slots read as committed with the lap of a writer that truncates the
    /// index to 32 bits (FORMAT.md 7.9); counted in `read` (or `corrupt`)
    /// too, not a loss.
    pub lap32_committed: Vec<i64>,
}

fn file_info(info: core::FileInfo) -> FileInfo {
    let ring = |r: core::RingInfo| RingInfo {
        offset: r.offset as i64,
        num_buffers: r.num_buffers as i64,
        buffer_size: r.buffer_size as i64,
        reader_index: r.reader_index,
        writer_index: r.writer_index,
    };
    FileInfo {
        version: info.version,
        start_time_unix_nano: BigInt::from(info.start_time_unix_nano),
        file_size: info.file_size as i64,
        events: ring(info.rings[0]),
        spans: ring(info.rings[1]),
        measurements: ring(info.rings[2]),
        dictionary: DictionaryInfo {
            offset: info.dictionary.offset as i64,
            end: info.dictionary.end,
            num_entries: info.dictionary.num_entries,
        },
    }
}

fn ring_config(
    name: &str,
    options: Option<RingOptions>,
    default: core::RingConfig,
) -> napi::Result<core::RingConfig, Code> {
    let Some(o) = options else { return Ok(default) };
    Ok(core::RingConfig {
        num_buffers: integer_option(
            &format!("{name}.slots"),
            o.slots,
            default.num_buffers,
            1 << 40,
        )?,
        buffer_size: integer_option(
            &format!("{name}.slotSize"),
            o.slot_size,
            default.buffer_size,
            1 << 40,
        )?,
    })
}

const MAX_SAFE: u64 = (1 << 53) - 1;

/// Writer of an OTLP-MMAP file (the application side).
#[napi]
pub struct Writer {
    inner: Option<core::Writer>,
}

#[napi]
impl Writer {
    /// Creates the file, or re-initialises an existing one (new start time).
    #[napi(factory)]
    pub fn create(path: String, options: Option<WriterOptions>) -> napi::Result<Writer, Code> {
        let d = core::WriterConfig::default();
        let config = match options {
            None => d,
            Some(o) => core::WriterConfig {
                rings: [
                    ring_config("events", o.events, d.rings[0])?,
                    ring_config("spans", o.spans, d.rings[1])?,
                    ring_config("measurements", o.measurements, d.rings[2])?,
                ],
                dictionary_size: integer_option(
                    "dictionarySize",
                    o.dictionary_size,
                    d.dictionary_size,
                    MAX_SAFE,
                )?,
                max_file_size: integer_option(
                    "maxFileSize",
                    o.max_file_size,
                    d.max_file_size,
                    MAX_SAFE,
                )?,
                file_mode: integer_option("fileMode", o.file_mode, d.file_mode as u64, 0o7777)?
                    as u32,
            },
        };
        let inner = core::Writer::create(path, &config).map_err(to_js)?;
        Ok(Writer { inner: Some(inner) })
    }

    /// Attaches to an existing, valid file without re-initialising it.
    #[napi(factory)]
    pub fn attach(path: String, options: Option<AttachOptions>) -> napi::Result<Writer, Code> {
        let max = options.and_then(|o| o.max_file_size);
        let reserve = integer_option(
            "maxFileSize",
            max,
            core::config::DEFAULT_MAX_FILE_SIZE,
            MAX_SAFE,
        )?;
        let inner = core::Writer::attach(path, Some(reserve)).map_err(to_js)?;
        Ok(Writer { inner: Some(inner) })
    }

    fn inner(&self) -> napi::Result<&core::Writer, Code> {
        self.inner.as_ref().ok_or_else(closed)
    }

    /// Appends one encoded message (the core adds the varint length prefix).
    /// `length` uses only `message[0..length)`. Returns false when the ring
    /// is full. Throws ERR_MESSAGE_TOO_LARGE (before claiming an index).
    #[napi]
    pub fn append(
        &self,
        ring: Ring,
        message: &[u8],
        length: Option<u32>,
    ) -> napi::Result<bool, Code> {
        let writer = self.inner()?;
        let bytes = match length {
            None => message,
            Some(n) => message.get(..n as usize).ok_or_else(|| {
                invalid_option(format!(
                    "length {n} exceeds the message's {} bytes",
                    message.len()
                ))
            })?,
        };
        writer.append(ring.into(), bytes).map_err(to_js)
    }

    /// An append bound to this writer and to `capacity` bytes of scratch
    /// memory owned by the binding: encode a message into `appender.buffer`,
    /// then `appender(ring, length)` appends `buffer[0..length)` with the
    /// results and errors of `append`, at a fraction of its call cost (see
    /// `scratch_appender.rs`). The appender keeps the writer object alive.
    #[napi(
        ts_args_type = "capacity: number",
        ts_return_type = "((ring: Ring, length: number) => boolean) & { readonly buffer: Buffer }"
    )]
    pub fn scratch_appender<'env>(
        &self,
        env: &'env Env,
        this: This,
        capacity: u32,
    ) -> napi::Result<Unknown<'env>, Code> {
        self.inner()?;
        // SAFETY: `env` is this call's env and `this` the object wrapping `self`.
        let appender = unsafe { scratch_appender::create(env.raw(), this.raw(), self, capacity) }
            .map_err(|(code, message, _)| napi::Error::new(Code(code), message))?;
        // SAFETY: `appender` is a live value of this env.
        unsafe { Unknown::from_napi_value(env.raw(), appender) }
            .map_err(|e| napi::Error::new(Code("ERR_IO"), e.reason.clone()))
    }

    /// Largest message (without prefix) that fits one slot of the ring.
    #[napi]
    pub fn max_message_size(&self, ring: Ring) -> napi::Result<i64, Code> {
        Ok(self.inner()?.max_message_size(ring.into()) as i64)
    }

    /// Adds a dictionary entry holding `bytes`; returns its reference.
    #[napi]
    pub fn add_entry(&self, bytes: &[u8]) -> napi::Result<i64, Code> {
        self.inner()?.add_entry(bytes).map_err(to_js)
    }

    /// Like addEntry, but the same bytes return the same reference.
    #[napi]
    pub fn intern(&self, bytes: &[u8]) -> napi::Result<i64, Code> {
        self.inner()?.intern(bytes).map_err(to_js)
    }

    /// intern() of the UTF-8 bytes of `value`.
    #[napi]
    pub fn intern_string(&self, value: String) -> napi::Result<i64, Code> {
        self.inner()?.intern(value.as_bytes()).map_err(to_js)
    }

    /// A snapshot of the header fields.
    #[napi]
    pub fn info(&self) -> napi::Result<FileInfo, Code> {
        Ok(file_info(self.inner()?.info()))
    }

    /// msync: makes written data durable on disk.
    #[napi]
    pub fn sync(&self) -> napi::Result<(), Code> {
        self.inner()?.sync().map_err(to_js)
    }

    /// Whether the file was cut shorter under this writer (one fstat, and
    /// whether an access faulted). Once true, stays true: appends throw
    /// ERR_FILE_TRUNCATED until `recreate()`.
    #[napi]
    pub fn is_truncated(&self) -> napi::Result<bool, Code> {
        self.inner()?.is_truncated().map_err(to_js)
    }

    /// Re-creates the file at the same path with the same layout and a new
    /// start time, writes back every dictionary entry this writer added at
    /// its old reference, and continues on it (appenders keep working).
    /// Throws ERR_PATH_REPLACED when the path now holds another file, a
    /// symbolic link or a directory (left alone), ERR_INVALID_OPTION for an
    /// attached writer, ERR_IO / ERR_FILE_TRUNCATED when it fails.
    #[napi]
    pub fn recreate(&mut self) -> napi::Result<(), Code> {
        let fresh = self.inner()?.recreate().map_err(to_js)?;
        self.inner = Some(fresh);
        Ok(())
    }

    /// Releases the mapping; later calls throw ERR_CLOSED. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        fast_append::forget(self);
    }
}

/// Batches up to this size are copied into a JS Buffer and the batch
/// buffer is kept for the next read; larger ones are handed over.
const KEEP_BATCH_CAPACITY: usize = 4 << 20;

/// Reader of an OTLP-MMAP file (the collector side). One per file.
#[napi]
pub struct Reader {
    inner: Option<core::Reader>,
    batch: Vec<u8>,
}

#[napi]
impl Reader {
    /// Opens and validates a file. Throws ERR_VERSION / ERR_INVALID_FILE / ERR_IO.
    #[napi(factory)]
    pub fn open(path: String, options: Option<ReaderOptions>) -> napi::Result<Reader, Code> {
        let mut config = core::ReaderConfig::default();
        if let Some(o) = options {
            let default_ms = config.uncommitted_timeout.as_millis() as u64;
            let ms = integer_option(
                "uncommittedTimeoutMs",
                o.uncommitted_timeout_ms,
                default_ms,
                MAX_SAFE,
            )?;
            config.uncommitted_timeout = std::time::Duration::from_millis(ms);
            config.max_file_size = integer_option(
                "maxFileSize",
                o.max_file_size,
                config.max_file_size,
                MAX_SAFE,
            )?;
            config.read_only = o.read_only.unwrap_or(false);
        }
        let inner = core::Reader::open(path, config).map_err(to_js)?;
        Ok(Reader {
            inner: Some(inner),
            batch: Vec::new(),
        })
    }

    fn inner(&self) -> napi::Result<&core::Reader, Code> {
        self.inner.as_ref().ok_or_else(closed)
    }

    /// Reads committed messages and consumes them: one Buffer holding each
    /// as in its slot (varint length, then bytes). At most `maxMessages`
    /// slots and `maxBytes` bytes (default 64 MiB; a first message larger
    /// than that is still read, alone). Empty when there is nothing to read
    /// now. Never blocks. Throws ERR_FILE_TRUNCATED when the file was cut
    /// (see `truncation()`).
    #[napi]
    pub fn read<'env>(
        &mut self,
        env: &'env Env,
        ring: Ring,
        max_messages: u32,
        max_bytes: Option<f64>,
    ) -> napi::Result<BufferSlice<'env>, Code> {
        let max_bytes = match max_bytes {
            None => core::config::DEFAULT_READ_BYTES,
            // Any non-negative number; beyond usize::MAX means no bound.
            Some(b) if b >= 0.0 => b as usize,
            Some(b) => return Err(invalid_option(format!("maxBytes must be >= 0, got {b}"))),
        };
        let reader = self.inner.as_mut().ok_or_else(closed)?;
        self.batch.clear();
        reader
            .read_batch(
                ring.into(),
                max_messages as usize,
                max_bytes,
                &mut self.batch,
            )
            .map_err(to_js)?;
        let buffer_error = |e: napi::Error| napi::Error::new(Code("ERR_IO"), e.reason.clone());
        if self.batch.len() >= KEEP_BATCH_CAPACITY {
            // A large batch is handed to JavaScript as it is (an external
            // Buffer owning the Vec): no second copy of it exists at once.
            let mut batch = std::mem::take(&mut self.batch);
            batch.shrink_to_fit();
            return BufferSlice::from_data(env, batch).map_err(buffer_error);
        }
        let result = BufferSlice::copy_from(env, &self.batch).map_err(buffer_error);
        if self.batch.capacity() > KEEP_BATCH_CAPACITY {
            self.batch = Vec::new(); // do not keep a huge batch buffer alive
        }
        result
    }

    /// The bytes of the dictionary entry at `ref` (without prefix). Throws ERR_BAD_REFERENCE.
    #[napi]
    pub fn entry(&self, reference: i64) -> napi::Result<Buffer, Code> {
        Ok(Buffer::from(self.inner()?.entry(reference).map_err(to_js)?))
    }

    /// Resolves an encoded AnyValue of the file's format (FORMAT.md section
    /// 5: keys and `value_ref`s are dictionary references) through this
    /// file's dictionary, with the core's bounds (depth, loops, size), and
    /// returns it as an encoded OTLP `common.v1.AnyValue`. For tests: it is
    /// the core's resolution, to compare the collector's with. Throws
    /// ERR_BAD_REFERENCE (a bad reference, or a value that does not decode
    /// or breaks a bound).
    #[napi]
    pub fn resolve_value(&self, any_value: &[u8]) -> napi::Result<Buffer, Code> {
        let value = core::value::resolve_encoded(any_value, self.inner()?).map_err(to_js)?;
        let mut out = Vec::new();
        otlp_value::encode(&value, &mut out);
        Ok(Buffer::from(out))
    }

    /// entry() decoded as UTF-8; ref 0 reads as "".
    #[napi]
    pub fn string(&self, reference: i64) -> napi::Result<String, Code> {
        use core::Dictionary;
        self.inner()?.string(reference).map_err(to_js)
    }

    /// A snapshot of the header fields.
    #[napi]
    pub fn info(&self) -> napi::Result<FileInfo, Code> {
        Ok(file_info(self.inner()?.info()))
    }

    /// Per-ring counters.
    #[napi]
    pub fn stats(&self) -> napi::Result<ReaderStats, Code> {
        let reader = self.inner()?;
        let stats = core::RingId::ALL.map(|r| reader.stats(r));
        Ok(ReaderStats {
            skipped_uncommitted: stats.iter().map(|s| s.skipped_uncommitted as i64).collect(),
            corrupt: stats.iter().map(|s| s.corrupt as i64).collect(),
            read: stats.iter().map(|s| s.read as i64).collect(),
            resyncs: stats.iter().map(|s| s.resyncs as i64).collect(),
            resync_skipped: stats
                .iter()
                .map(|s| s.resync_skipped.min(MAX_SAFE) as i64)
                .collect(),
            lap32_committed: stats.iter().map(|s| s.lap32_committed as i64).collect(),
        })
    }

    /// True when the file was re-initialised since open. Throws
    /// ERR_FILE_TRUNCATED when it was cut.
    #[napi]
    pub fn is_reset(&self) -> napi::Result<bool, Code> {
        self.inner()?.is_reset().map_err(to_js)
    }

    /// null while the file is intact; once it was found truncated, what is
    /// known of the loss (looked at again on each call, see TruncationInfo).
    #[napi]
    pub fn truncation(&mut self) -> napi::Result<Option<TruncationInfo>, Code> {
        let reader = self.inner.as_mut().ok_or_else(closed)?;
        Ok(reader.truncation().map(|t| TruncationInfo {
            file_size: t.file_size as i64,
            known_size: t.known_size as i64,
            unread: t
                .unread
                .iter()
                .map(|u| u.map_or(-1, |n| n as i64))
                .collect(),
            discarded: t.discarded.iter().map(|&n| n as i64).collect(),
            known_lost: t.known_lost() as i64,
        }))
    }

    /// Releases the mapping; later calls throw ERR_CLOSED. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        self.inner = None;
    }
}
