//! Strings across the boundary: Rust text in as NUL-terminated C strings,
//! host-allocated text out as an owned [`HostString`].
//!
//! Inputs: every host function takes `impl CText`, implemented for `str`,
//! `String`, `CStr` and `CString`. A `&CStr` passes as it is; a `&str` short
//! enough is copied onto the stack with its NUL (no allocation: the hot calls,
//! `rate_limit_check` and `is_streaming`, take short keys), a longer one into a
//! `CString`. The copy costs a few nanoseconds (pincer-bench measures it): a
//! key polled in a tight loop is cheapest held as a `CString` and passed as is. Text containing U+0000 cannot travel (pincer.h) and is refused
//! here with the host's code for it, PINCER_ERR_INVALID_ARGUMENT.

use std::ffi::{c_char, CStr, CString};
use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::ptr;
use std::ptr::NonNull;

use crate::{Error, Host};

/// Text of this many bytes or fewer (without the NUL) goes through a stack buffer.
const STACK_BYTES: usize = 255;

/// Text a host function can take: converted to a NUL-terminated C string for
/// the call only.
pub trait CText {
    /// Calls `f` with a pointer to this text, NUL-terminated, valid during `f`.
    fn with_c<R>(&self, f: impl FnOnce(*const c_char) -> R) -> Result<R, Error>;
}

impl CText for CStr {
    #[inline]
    fn with_c<R>(&self, f: impl FnOnce(*const c_char) -> R) -> Result<R, Error> {
        Ok(f(self.as_ptr()))
    }
}

impl CText for CString {
    #[inline]
    fn with_c<R>(&self, f: impl FnOnce(*const c_char) -> R) -> Result<R, Error> {
        Ok(f(self.as_ptr()))
    }
}

impl CText for str {
    #[inline]
    fn with_c<R>(&self, f: impl FnOnce(*const c_char) -> R) -> Result<R, Error> {
        let bytes = self.as_bytes();
        if bytes.len() <= STACK_BYTES {
            // Uninitialised, not zeroed: only the text and its NUL are written (the hot path).
            let mut buffer = [MaybeUninit::<u8>::uninit(); STACK_BYTES + 1];
            let start = buffer.as_mut_ptr().cast::<u8>();
            if !copy_without_nul(bytes, start) {
                return Err(contains_nul(self));
            }
            buffer[bytes.len()].write(0);
            Ok(f(start.cast_const().cast()))
        } else {
            let owned = CString::new(bytes).map_err(|_| contains_nul(self))?;
            Ok(f(owned.as_ptr()))
        }
    }
}

#[cold]
fn contains_nul(text: &str) -> Error {
    Error::new(crate::Code::INVALID_ARGUMENT, format!("text contains U+0000, which cannot travel as a C string: {text:?}"))
}

/// Copies `src` to `dst` and tells whether it held no 0 byte, in one pass of
/// 8-byte words: keys are short and this runs on every hot call, where a
/// memchr and a memcpy cost more than the host's own work (SWAR zero test:
/// `(v - 0x01…01) & !v & 0x80…80` is non-zero exactly when a byte of v is 0).
#[inline]
fn copy_without_nul(src: &[u8], dst: *mut u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let n = src.len();
    let from = src.as_ptr();
    let mut zero = 0u64;
    unsafe {
        if n >= 8 {
            let mut i = 0;
            while i + 8 <= n {
                let v = ptr::read_unaligned(from.add(i).cast::<u64>());
                zero |= v.wrapping_sub(ONES) & !v & HIGHS;
                ptr::write_unaligned(dst.add(i).cast::<u64>(), v);
                i += 8;
            }
            // The last, overlapping word covers the tail.
            let v = ptr::read_unaligned(from.add(n - 8).cast::<u64>());
            zero |= v.wrapping_sub(ONES) & !v & HIGHS;
            ptr::write_unaligned(dst.add(n - 8).cast::<u64>(), v);
        } else {
            for i in 0..n {
                let b = *from.add(i);
                zero |= (b == 0) as u64;
                *dst.add(i) = b;
            }
        }
    }
    zero == 0
}

impl CText for String {
    #[inline]
    fn with_c<R>(&self, f: impl FnOnce(*const c_char) -> R) -> Result<R, Error> {
        self.as_str().with_c(f)
    }
}

impl<T: CText + ?Sized> CText for &T {
    #[inline]
    fn with_c<R>(&self, f: impl FnOnce(*const c_char) -> R) -> Result<R, Error> {
        (**self).with_c(f)
    }
}

/// An owned copy for a struct field: NUL inside is refused like in [`CText`].
pub(crate) fn owned(text: &str, what: &str) -> Result<CString, Error> {
    CString::new(text).map_err(|_| Error::new(crate::Code::INVALID_ARGUMENT, format!("{what} contains U+0000, which cannot travel as a C string")))
}

/// Text the host allocated (a JSON document, say), released with host->free
/// when dropped. Dereferences to `str`: the ABI promises UTF-8, and the
/// constructor checks it.
pub struct HostString {
    host: Host,
    ptr: NonNull<c_char>,
    len: usize,
}

// The host's free is [any-thread], and the text is never written after the call.
unsafe impl Send for HostString {}
unsafe impl Sync for HostString {}

impl HostString {
    /// Takes ownership of `ptr`, which `host` allocated (an output of its table).
    /// Text that is not UTF-8 is freed and reported as PINCER_ERR_INTERNAL.
    ///
    /// # Safety
    /// `ptr` is NULL or a NUL-terminated string from `host`'s table, not freed elsewhere.
    pub unsafe fn from_raw(host: Host, ptr: *mut c_char) -> Result<HostString, Error> {
        let Some(ptr) = NonNull::new(ptr) else {
            return Err(Error::new(crate::Code::INTERNAL, "the host answered PINCER_OK with no text"));
        };
        let owned = HostString { host, len: CStr::from_ptr(ptr.as_ptr()).to_bytes().len(), ptr };
        match std::str::from_utf8(owned.bytes()) {
            Ok(_) => Ok(owned),
            Err(e) => Err(Error::new(crate::Code::INTERNAL, format!("the host answered text that is not UTF-8: {e}"))),
        }
    }

    fn bytes(&self) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast(), self.len) }
    }

    pub fn as_str(&self) -> &str {
        // Checked in from_raw, and never changed since.
        unsafe { std::str::from_utf8_unchecked(self.bytes()) }
    }

    pub fn as_c_str(&self) -> &CStr {
        unsafe { CStr::from_ptr(self.ptr.as_ptr()) }
    }
}

impl Drop for HostString {
    fn drop(&mut self) {
        self.host.free_raw(self.ptr.as_ptr().cast());
    }
}

impl Deref for HostString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for HostString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for HostString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host-owned string borrowed for a callback: None for NULL; text that is not
/// UTF-8 (the host promises it is) reads as None too, rather than as a panic.
///
/// # Safety
/// `ptr` is NULL or NUL-terminated and outlives `'a`.
pub(crate) unsafe fn borrowed<'a>(ptr: *const c_char) -> Option<&'a str> {
    if ptr.is_null() {
        None
    } else {
        CStr::from_ptr(ptr).to_str().ok()
    }
}

/// A host-owned string copied for keeping: None for NULL; bytes that are not
/// UTF-8 (the host promises they are) become U+FFFD rather than a failure.
///
/// # Safety
/// `ptr` is NULL or NUL-terminated.
pub(crate) unsafe fn lossy(ptr: *const c_char) -> Option<String> {
    (!ptr.is_null()).then(|| CStr::from_ptr(ptr).to_string_lossy().into_owned())
}

/// Reads a NUL-terminated fixed array the host wrote (a session key, a run id).
pub(crate) fn from_array(array: &[c_char]) -> Result<String, Error> {
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(array.as_ptr().cast(), array.len()) };
    let end = bytes.iter().position(|&b| b == 0).ok_or_else(|| Error::new(crate::Code::INTERNAL, "the host wrote an id without its NUL"))?;
    String::from_utf8(bytes[..end].to_vec()).map_err(|e| Error::new(crate::Code::INTERNAL, format!("the host wrote an id that is not UTF-8: {e}")))
}

/// Copies `text` into a NUL-terminated buffer of `capacity` bytes (an init error
/// buffer), cut at the last whole UTF-8 character that fits.
pub(crate) fn write_truncated(text: &str, buffer: *mut c_char, capacity: usize) {
    if buffer.is_null() || capacity == 0 {
        return;
    }
    let mut end = text.len().min(capacity - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // A NUL inside would end the message early: harmless, the host reads up to it.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), end);
        *buffer.add(end) = 0;
    }
}
