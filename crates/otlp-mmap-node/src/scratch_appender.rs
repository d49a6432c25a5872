//! `Writer.scratchAppender(capacity)`: an append bound to one writer and one
//! buffer, for the SDK's hot path.
//!
//! Even the hand-written `Writer.prototype.append` ([`crate::fast_append`])
//! spends most of its Node-API time finding its receiver (`napi_unwrap` is a
//! private-symbol property lookup) and inspecting the message argument
//! (`napi_get_typedarray_info`). An appender needs neither: it is a JS
//! function whose Node-API `data` points at its state — the writer and the
//! scratch memory — so a call reads two numbers and appends.
//!
//! The scratch memory belongs to this side. JavaScript gets it as an external
//! `Buffer`, encodes a message into it and calls `appender(ring, length)`.
//! Owning the memory here (rather than borrowing a JS buffer for the life of
//! the appender) keeps the call sound whatever JavaScript does with the
//! buffer: a detached or transferred `Buffer` only loses its view, while the
//! bytes stay allocated until both the buffer and the appender are gone.
//!
//! Lifetimes: the appender holds a strong reference to its `Writer` object,
//! so the wrapped Rust `Writer` outlives it; the memory is shared (`Arc`) by
//! the appender and the `Buffer`'s finalizer. Soundness of reading the
//! writer and the memory during a call: the call runs no JavaScript, so no
//! `&mut Writer` (only `close` and `recreate`) can exist and no JS code can write the bytes
//! while they are copied into the ring.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi::sys;
use otlp_mmap_core as core;

use crate::fast_append::{checked_length, finish, ring_arg, Thrown};
use crate::Writer;

/// The scratch bytes, written by JavaScript through the external `Buffer`
/// and read here during a call (never both at once: one thread, and a call
/// runs no JavaScript).
struct Scratch(UnsafeCell<Box<[u8]>>);

// SAFETY: the bytes are only touched on the thread of the Node-API env that
// created them; `Arc` is used for shared ownership between two finalizers,
// which also run on that thread.
unsafe impl Send for Scratch {}
// SAFETY: as above.
unsafe impl Sync for Scratch {}

impl Scratch {
    fn ptr(&self) -> *mut u8 {
        // SAFETY: only the address is taken; no reference to the bytes is
        // created here.
        unsafe { (*self.0.get()).as_mut_ptr() }
    }

    fn len(&self) -> usize {
        // SAFETY: the length of the box never changes; reading it creates
        // no reference to the bytes.
        unsafe { (&(*self.0.get())).len() }
    }
}

/// The state behind one appender function (its Node-API `data`).
struct Appender {
    /// The wrapped `Writer` of `owner`: alive while `owner` is referenced.
    writer: *const Writer,
    /// Strong reference to the `Writer` JS object.
    owner: sys::napi_ref,
    scratch: Arc<Scratch>,
}

/// Most scratch bytes an appender may ask for (a slot can never hold more).
const MAX_CAPACITY: u32 = 64 << 20;

/// Creates the appender function of `writer` (wrapped in `this`), with its
/// `buffer` property holding `capacity` bytes of scratch memory.
///
/// # Safety
/// `env` is the env of the current call; `this` is the JS object that wraps
/// `writer`.
pub(crate) unsafe fn create(
    env: sys::napi_env,
    this: sys::napi_value,
    writer: &Writer,
    capacity: u32,
) -> Result<sys::napi_value, Thrown> {
    if capacity == 0 || capacity > MAX_CAPACITY {
        return Err((
            "ERR_INVALID_OPTION",
            format!("capacity {capacity} is not in [1, {MAX_CAPACITY}]"),
            false,
        ));
    }
    let scratch = Arc::new(Scratch(UnsafeCell::new(
        vec![0u8; capacity as usize].into_boxed_slice(),
    )));

    // The buffer over the scratch memory; its finalizer drops one `Arc`.
    let buffer_hint = Arc::into_raw(Arc::clone(&scratch)) as *mut c_void;
    let mut buffer = ptr::null_mut();
    // SAFETY: valid env; the memory stays allocated until `release_buffer`
    // (the finalizer) drops the `Arc` passed as the hint.
    let s = unsafe {
        sys::napi_create_external_buffer(
            env,
            scratch.len(),
            scratch.ptr() as *mut c_void,
            Some(release_buffer),
            buffer_hint,
            &mut buffer,
        )
    };
    if s != sys::Status::napi_ok {
        // SAFETY: the buffer was not created, so its finalizer will never
        // run: take back the `Arc` given to it.
        drop(unsafe { Arc::from_raw(buffer_hint as *const Scratch) });
        return Err((
            "ERR_IO",
            "cannot create the scratch buffer (external buffers not allowed?)".into(),
            false,
        ));
    }

    let mut owner = ptr::null_mut();
    // SAFETY: valid env and object; one strong reference.
    if unsafe { sys::napi_create_reference(env, this, 1, &mut owner) } != sys::Status::napi_ok {
        return Err(("ERR_IO", "cannot reference the writer".into(), false));
    }
    let state = Box::into_raw(Box::new(Appender {
        writer: writer as *const Writer,
        owner,
        scratch,
    }));

    let mut function = ptr::null_mut();
    // SAFETY: valid env; the name is NUL-terminated; `state` lives until the
    // finalizer added below (or the failure path) frees it.
    let created = unsafe {
        sys::napi_create_function(
            env,
            c"append".as_ptr(),
            6,
            Some(call),
            state as *mut c_void,
            &mut function,
        )
    } == sys::Status::napi_ok
        // SAFETY: `function` was just created; `release_appender` frees `state`.
        && unsafe {
            sys::napi_add_finalizer(
                env,
                function,
                state as *mut c_void,
                Some(release_appender),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        } == sys::Status::napi_ok;
    if !created {
        // SAFETY: no finalizer owns `state`; release it as the finalizer would.
        unsafe { release_appender(env, state as *mut c_void, ptr::null_mut()) };
        return Err(("ERR_IO", "cannot create the appender".into(), false));
    }
    // SAFETY: valid env, function and buffer; the name is NUL-terminated.
    if unsafe { sys::napi_set_named_property(env, function, c"buffer".as_ptr(), buffer) }
        != sys::Status::napi_ok
    {
        return Err(("ERR_IO", "cannot attach the scratch buffer".into(), false));
    }
    Ok(function)
}

/// Finalizer of the external buffer: drops its share of the memory.
///
/// # Safety
/// Called by Node-API only, once, as the finalizer of the buffer made in
/// [`create`], whose hint is the `Arc<Scratch>` leaked for it.
unsafe extern "C" fn release_buffer(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Arc` leaked for this buffer in `create`, and a
    // finalizer runs once.
    drop(unsafe { Arc::from_raw(hint as *const Scratch) });
}

/// Finalizer of the appender function: releases the writer and its share of
/// the memory.
///
/// # Safety
/// `data` is the `Box<Appender>` leaked in [`create`], released once: by
/// Node-API as the function's finalizer, or by `create` when no finalizer
/// was added; `env` is the env the reference in it belongs to.
unsafe extern "C" fn release_appender(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the `Box<Appender>` leaked in `create`, released once.
    let state = unsafe { Box::from_raw(data as *mut Appender) };
    // SAFETY: valid env; the reference was created by `create`. A failure
    // (env shutting down) leaves nothing to clean up.
    unsafe { sys::napi_delete_reference(env, state.owner) };
}

/// `appender(ring, length)`: appends `buffer[0..length)` to `ring`.
///
/// # Safety
/// Called by Node-API only, as the function made in [`create`] (whose data
/// is its `Appender`), with the env and callback info of the current call.
unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by Node-API with a valid env and callback info.
    let result = unsafe { call_inner(env, info) };
    // SAFETY: valid env.
    unsafe { finish(env, result) }
}

/// The append itself: the arguments read and checked, the scratch bytes
/// appended.
///
/// # Safety
/// `env` and `info` are those of the current call of an appender function
/// made by [`create`].
unsafe fn call_inner(env: sys::napi_env, info: sys::napi_callback_info) -> Result<bool, Thrown> {
    let mut argc = 2usize;
    let mut argv = [ptr::null_mut(); 2];
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: argv has room for `argc` values; missing ones read as undefined.
    let s = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    };
    if s != sys::Status::napi_ok || data.is_null() {
        return Err((
            "ERR_INVALID_ARG_TYPE",
            "cannot read the arguments".into(),
            true,
        ));
    }
    // SAFETY: `data` is the `Appender` of this function, freed only by the
    // function's finalizer, which cannot run during a call of the function.
    let state = unsafe { &*(data as *const Appender) };
    // SAFETY: `owner` keeps the wrapped `Writer` alive; no `&mut Writer`
    // exists during the call (module documentation).
    let writer = unsafe { &*state.writer };
    let Some(writer) = writer.inner.as_ref() else {
        return Err(("ERR_CLOSED", core::Error::Closed.to_string(), false));
    };

    // SAFETY: argv[0] is an argument value of this call (or undefined).
    let ring = unsafe { ring_arg(env, argv[0]) }?;
    let mut length = 0f64;
    // SAFETY: valid env and argument value.
    if unsafe { sys::napi_get_value_double(env, argv[1], &mut length) } != sys::Status::napi_ok {
        return Err((
            "ERR_INVALID_ARG_TYPE",
            "length must be a number".into(),
            true,
        ));
    }
    let scratch = &state.scratch;
    let length = checked_length(length, scratch.len())?;
    // SAFETY: the memory is allocated while `state` holds its `Arc`, and
    // `length` is within it; no JavaScript (the only other writer of these
    // bytes) runs while the slice is used.
    let message = unsafe { std::slice::from_raw_parts(scratch.ptr(), length) };
    writer
        .append(ring, message)
        .map_err(|e| (e.code(), e.to_string(), false))
}
