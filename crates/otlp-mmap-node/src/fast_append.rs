//! A hand-written Node-API callback for `Writer.prototype.append`, the one
//! call made for every span event, log record and measurement.
//!
//! The `#[napi]` method glue of napi-rs 3 records a "native borrow" of the
//! receiver on every call (mutexes and vectors), which costs more than the
//! append itself (docs/design.md has the figures). This callback does only what
//! the call needs: read the arguments, unwrap and type-check the receiver,
//! borrow the message bytes in place (no copy, no allocation), append, return
//! a boolean. [`install`] puts it on `Writer.prototype` when the module loads,
//! replacing the generated method (which stays as the declared, typed method;
//! both behave the same).
//!
//! Soundness of borrowing the receiver without napi-rs' borrow tracking: the
//! only `&mut Writer` methods are `close` and `recreate`, which are JS calls;
//! nothing in this callback calls into JavaScript, so no `&mut` borrow can
//! exist while the `&Writer` taken here is alive.

use std::ffi::{c_void, CString};
use std::ptr;

use napi::bindgen_prelude::TypeTag;
use napi::sys;
use otlp_mmap_core as core;

use crate::Writer;

/// Puts the fast `append` on `exports.Writer.prototype`.
///
/// # Safety
/// `env` and `exports` must be the values napi-rs passes to the module
/// registration hook, after the classes were defined.
pub(crate) unsafe fn install(env: sys::napi_env, exports: sys::napi_value) -> napi::Result<()> {
    let mut ctor = ptr::null_mut();
    let mut proto = ptr::null_mut();
    // SAFETY: valid env/exports (caller); the names are NUL-terminated.
    unsafe {
        status(
            sys::napi_get_named_property(env, exports, c"Writer".as_ptr(), &mut ctor),
            "Writer",
        )?;
        status(
            sys::napi_get_named_property(env, ctor, c"prototype".as_ptr(), &mut proto),
            "prototype",
        )?;
    }
    let descriptor = sys::napi_property_descriptor {
        utf8name: c"append".as_ptr(),
        name: ptr::null_mut(),
        method: Some(append),
        getter: None,
        setter: None,
        value: ptr::null_mut(),
        attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
        data: ptr::null_mut(),
    };
    // SAFETY: `proto` is a live object of this env; one valid descriptor.
    unsafe {
        status(
            sys::napi_define_properties(env, proto, 1, &descriptor),
            "define append",
        )
    }
}

fn status(s: sys::napi_status, what: &str) -> napi::Result<()> {
    if s == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "installing the fast append failed at {what} ({s})"
        )))
    }
}

/// An error to throw: `(code, message, is_type_error)`.
pub(crate) type Thrown = (&'static str, String, bool);

/// `Writer.prototype.append(ring, message, length?)`, as Node-API calls it.
///
/// # Safety
/// Called by Node-API only (installed by [`install`]), with the env and the
/// callback info of the current call.
unsafe extern "C" fn append(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: called by Node-API with a valid env and callback info.
    let result = unsafe { append_inner(env, info) };
    // SAFETY: valid env.
    unsafe { finish(env, result) }
}

/// The return value of an append callback: the boolean, or (after throwing
/// the error) null.
///
/// # Safety
/// `env` is the env of the current callback.
pub(crate) unsafe fn finish(env: sys::napi_env, result: Result<bool, Thrown>) -> sys::napi_value {
    match result {
        Ok(written) => {
            let mut value = ptr::null_mut();
            // SAFETY: valid env; on failure `value` stays null, which
            // Node-API reads as `undefined`.
            unsafe { sys::napi_get_boolean(env, written, &mut value) };
            value
        }
        Err((code, message, type_error)) => {
            let code = CString::new(code).unwrap_or_default();
            let message = CString::new(message).unwrap_or_default();
            // SAFETY: valid env and NUL-terminated strings; napi_throw_*
            // sets the `code` property of the thrown error.
            unsafe {
                if type_error {
                    sys::napi_throw_type_error(env, code.as_ptr(), message.as_ptr());
                } else {
                    sys::napi_throw_error(env, code.as_ptr(), message.as_ptr());
                }
            }
            ptr::null_mut()
        }
    }
}

/// The append itself: the arguments read and checked, the message appended.
///
/// # Safety
/// `env` and `info` are those of the current `append` callback.
unsafe fn append_inner(env: sys::napi_env, info: sys::napi_callback_info) -> Result<bool, Thrown> {
    let mut argc = 3usize;
    let mut argv = [ptr::null_mut(); 3];
    let mut this = ptr::null_mut();
    // SAFETY: argv has room for `argc` values; missing ones are filled with undefined.
    let s = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            &mut this,
            ptr::null_mut(),
        )
    };
    if s != sys::Status::napi_ok {
        return Err((
            "ERR_INVALID_ARG_TYPE",
            "cannot read the arguments".into(),
            true,
        ));
    }

    // SAFETY: `this` is the receiver Node-API reported for this call.
    let writer = unsafe { receiver(env, this) }?;
    let Some(writer) = writer.inner.as_ref() else {
        return Err(("ERR_CLOSED", core::Error::Closed.to_string(), false));
    };

    // SAFETY: argv[0] is an argument value of this call (or undefined).
    let ring = unsafe { ring_arg(env, argv[0]) }?;

    // SAFETY: argv[1] is an argument value of this call (or undefined).
    let message = unsafe { bytes_of(env, argv[1]) }?;
    let message = if argc >= 3 {
        // SAFETY: argv[2] is an argument value of this call.
        unsafe { prefix(env, argv[2], message) }?
    } else {
        message
    };

    writer
        .append(ring, message)
        .map_err(|e| (e.code(), e.to_string(), false))
}

thread_local! {
    /// Addresses of the live `Writer`s of this thread whose type tag was
    /// checked once. A JS object and its wrapped `Writer` belong to one
    /// thread (its Node-API env), and `Writer::drop` removes the address
    /// before the allocation is freed, so an address found here is a live
    /// `Writer`. Usually one or two entries: a linear scan is fastest.
    static VERIFIED: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Forgets a `Writer` that is being dropped.
pub(crate) fn forget(writer: *const Writer) {
    // try_with: at thread exit the list may already be gone, and with it
    // every reason to remember anything.
    let _ = VERIFIED.try_with(|v| v.borrow_mut().retain(|&a| a != writer as usize));
}

/// The `Writer` wrapped in `this`. The first call for a given `Writer`
/// checks the type tag napi-rs put on the object (a property lookup that
/// costs more than the append); later calls find the address in `VERIFIED`.
///
/// # Safety
/// `this` is the receiver of the current callback of `env`; the `Writer`
/// returned must not be used after the callback returns (`'a` is chosen by
/// the caller), nor while JavaScript runs.
unsafe fn receiver<'a>(env: sys::napi_env, this: sys::napi_value) -> Result<&'a Writer, Thrown> {
    let wrong = || {
        (
            "ERR_INVALID_ARG_TYPE",
            "append must be called on a Writer".to_string(),
            true,
        )
    };
    let mut wrapped: *mut c_void = ptr::null_mut();
    // SAFETY: valid env and value.
    if unsafe { sys::napi_unwrap(env, this, &mut wrapped) } != sys::Status::napi_ok
        || wrapped.is_null()
    {
        return Err(wrong());
    }
    let address = wrapped as usize;
    let known = VERIFIED.with(|v| v.borrow().contains(&address));
    if !known {
        let mut tagged = false;
        let tag = <Writer as TypeTag>::type_tag();
        // SAFETY: valid env and value; `tag` outlives the call.
        let s = unsafe { sys::napi_check_object_type_tag(env, this, &tag, &mut tagged) };
        if s != sys::Status::napi_ok || !tagged {
            return Err(wrong());
        }
        VERIFIED.with(|v| v.borrow_mut().push(address));
    }
    // SAFETY: the address is that of a live `Writer` (type tag checked now
    // or before, and removed from VERIFIED when dropped), wrapped by napi-rs
    // in the object `this`, which the call keeps alive; no `&mut Writer`
    // exists during the call (module documentation).
    Ok(unsafe { &*(wrapped as *const Writer) })
}

/// The bytes of a Uint8Array (or Buffer), borrowed in place.
///
/// # Safety
/// `value` is an argument of the current callback of `env`; the slice must
/// not be used after the callback returns, nor while JavaScript runs (which
/// could detach or resize the array).
unsafe fn bytes_of<'a>(env: sys::napi_env, value: sys::napi_value) -> Result<&'a [u8], Thrown> {
    let mut kind = 0;
    let mut length = 0usize;
    let mut data: *mut c_void = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: valid env and value; out pointers are valid locals.
    let s = unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut length,
            &mut data,
            ptr::null_mut(),
            &mut offset,
        )
    };
    if s != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
        return Err((
            "ERR_INVALID_ARG_TYPE",
            "message must be a Uint8Array".into(),
            true,
        ));
    }
    if length == 0 || data.is_null() {
        return Ok(&[]);
    }
    // SAFETY: Node-API reports `data` (already offset into the buffer) and
    // `length` of a live Uint8Array argument, which the call keeps alive; no
    // JS runs while the slice is used, so it cannot be detached or resized.
    Ok(unsafe { std::slice::from_raw_parts(data as *const u8, length) })
}

/// `message[..length]` when `length` is a number; all of it when undefined/null.
///
/// # Safety
/// `value` is a live value of `env`.
unsafe fn prefix(
    env: sys::napi_env,
    value: sys::napi_value,
    message: &[u8],
) -> Result<&[u8], Thrown> {
    let mut kind = 0;
    // SAFETY: valid env and value.
    unsafe { sys::napi_typeof(env, value, &mut kind) };
    if kind == sys::ValueType::napi_undefined || kind == sys::ValueType::napi_null {
        return Ok(message);
    }
    let mut length = 0f64;
    if kind != sys::ValueType::napi_number
        // SAFETY: valid env and value.
        || unsafe { sys::napi_get_value_double(env, value, &mut length) } != sys::Status::napi_ok
    {
        return Err((
            "ERR_INVALID_ARG_TYPE",
            "length must be a number".into(),
            true,
        ));
    }
    Ok(&message[..checked_length(length, message.len())?])
}

/// The ring a JS number names.
///
/// # Safety
/// `value` is a live value of `env`.
pub(crate) unsafe fn ring_arg(
    env: sys::napi_env,
    value: sys::napi_value,
) -> Result<core::RingId, Thrown> {
    let mut ring = 0u32;
    // SAFETY: valid env and value (caller).
    if unsafe { sys::napi_get_value_uint32(env, value, &mut ring) } != sys::Status::napi_ok {
        return Err((
            "ERR_INVALID_ARG_TYPE",
            "ring must be a Ring (number)".into(),
            true,
        ));
    }
    core::RingId::from_index(ring as usize)
        .ok_or_else(|| ("ERR_INVALID_OPTION", format!("unknown ring {ring}"), false))
}

/// A length argument as an index: an integer in `[0, max]`.
pub(crate) fn checked_length(length: f64, max: usize) -> Result<usize, Thrown> {
    if length >= 0.0 && length.fract() == 0.0 && length <= max as f64 {
        Ok(length as usize)
    } else {
        Err((
            "ERR_INVALID_OPTION",
            format!("length {length} is not an integer in [0, {max}]"),
            false,
        ))
    }
}
