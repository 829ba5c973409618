//! pincer: write Pincer plugins in Rust.
//!
//! - [`sys`]: the C ABI of `Include/pincer/`, one to one, `#[repr(C)]`.
//! - The safe layer: [`Host`] (the plugin's handle, a typed method per host
//!   function), [`HostString`] (host-allocated text, freed on drop), [`Error`]
//!   (the host's code and its `last_error` message), tools and hooks as
//!   closures ([`Host::register_tool`], [`Host::register_hook`]), the
//!   [`Plugin`] trait and [`declare_plugin!`], which exports the entry.
//! - The gateway (ABI 1.1, "pincer.gateway/1"): [`Host::gateway`] gives the
//!   plugin's own JSON-RPC methods and HTTP routes on `pincer serve`, each a
//!   closure handed an owned [`GatewayRequest`] and its [`Reply`].
//! - [`json`]: a small JSON reader and string escaper for the payloads the
//!   host hands over (std only: no registry crate is reachable).
//!
//! Nothing unwinds across the boundary: every `extern "C"` function of this
//! crate (init, start, shutdown, get_extension, tool invoke, hook call,
//! gateway handler, release) runs the plugin's code under `catch_unwind`; a
//! panic becomes PINCER_ERR_PLUGIN (for a gateway request, an error answer)
//! with a message, logged through host->log. Build plugins with the default
//! `panic = "unwind"`: with `panic = "abort"` a panic ends the host's process
//! and nothing here can catch it.
//!
//! A minimal plugin (a `cdylib`):
//!
//! ```
//! use pincer::{cap, Error, Host, LogLevel, Plugin};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn init(host: Host, _plugin_path: &str) -> Result<Self, Error> {
//!         host.log(LogLevel::INFO, "hello")?;
//!         Ok(Hello)
//!     }
//! }
//!
//! pincer::declare_plugin! {
//!     plugin: Hello,
//!     id: "hello",
//!     name: "Hello",
//!     version: "1.0.0",
//!     description: "Says hello.",
//!     capabilities: [cap::RATE_LIMIT],
//! }
//! ```

use std::ffi::{c_char, c_void, CStr};
use std::fmt;
use std::ptr::NonNull;

/// A function of a host table (`$table.table()`: the host's, an extension's);
/// a host fills every one its table's size covers, so a NULL is a broken host.
macro_rules! function {
    ($table:expr, $name:ident) => {
        match $table.table().$name {
            Some(f) => f,
            None => return Err(Error::new(Code::INTERNAL, concat!("the host's table has no ", stringify!($name)))),
        }
    };
}

mod callbacks;
mod acp;
mod gateway;
mod runs;
mod host;
pub mod json;
pub mod sys;
mod text;

pub use callbacks::{Decision, Hook, HookEvent, Tool, ToolCall};
pub use gateway::{sse_event, Gateway, GatewayRequest, Reply, Route};
pub use acp::Acp;
pub use runs::{RunEvent, Runs};
pub use host::{Host, RateLimit, Registration, RunInfo, SpawnRequest, Spawned};
pub use sys::{Code, GatewayRequestKind, HookPoint, LogLevel, RunStatus, SteerOutcome, Verdict};
pub use text::{CText, HostString};

/// The descriptor's `sdk`: "pincer-rs/<this crate's version>".
pub const SDK: &CStr = match CStr::from_bytes_with_nul(concat!("pincer-rs/", env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(sdk) => sdk,
    Err(_) => panic!("the SDK string has no NUL inside"),
};

/// The capability ids of entry.h, for `declare_plugin!`'s `capabilities`.
pub mod cap {
    use crate::sys;
    use std::ffi::CStr;
    pub const SESSIONS_SPAWN: &CStr = sys::PINCER_CAP_SESSIONS_SPAWN;
    pub const SESSIONS_READ: &CStr = sys::PINCER_CAP_SESSIONS_READ;
    pub const SESSIONS_PROMPT: &CStr = sys::PINCER_CAP_SESSIONS_PROMPT;
    pub const SESSIONS_STEER: &CStr = sys::PINCER_CAP_SESSIONS_STEER;
    pub const SESSIONS_DELETE: &CStr = sys::PINCER_CAP_SESSIONS_DELETE;
    pub const SESSIONS_METADATA: &CStr = sys::PINCER_CAP_SESSIONS_METADATA;
    pub const RATE_LIMIT: &CStr = sys::PINCER_CAP_RATE_LIMIT;
    pub const HOST_READ: &CStr = sys::PINCER_CAP_HOST_READ;
    pub const TOOLS_REGISTER: &CStr = sys::PINCER_CAP_TOOLS_REGISTER;
    pub const HOOKS_OBSERVE: &CStr = sys::PINCER_CAP_HOOKS_OBSERVE;
    pub const HOOKS_GATE: &CStr = sys::PINCER_CAP_HOOKS_GATE;
    /// gateway.h (@since 1.1): the plugin's own JSON-RPC methods and HTTP routes.
    pub const GATEWAY_SERVE: &CStr = sys::PINCER_CAP_GATEWAY_SERVE;
    pub const ACP_SPAWN: &CStr = sys::PINCER_CAP_ACP_SPAWN;
}

/// A failed call: the host's result code and its message, read at once on the
/// thread that made the call (or, for errors a plugin returns, its own text).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    /// PINCER_ERR_PLUGIN: the plugin's own failure (a tool's, an init's).
    pub fn plugin(message: impl Into<String>) -> Self {
        Error::new(Code::PLUGIN, message)
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

/// A plugin: what `declare_plugin!` calls through the entry. Its state lives
/// from a successful `init` until `shutdown`, which consumes it.
pub trait Plugin: Send + Sized + 'static {
    /// [loader-thread] Called once. Register tools and hooks here; keep it
    /// cheap. An `Err` refuses the plugin with the error's message, and the
    /// host withdraws (and releases) whatever was registered.
    fn init(host: Host, plugin_path: &str) -> Result<Self, Error>;

    /// [loader-thread] After every plugin's init: begin background work.
    fn start(&self, _host: Host) {}

    /// [loader-thread] Stop and join your threads. The handle still answers
    /// non-blocking calls until this returns. Dropping `self` here is the end
    /// of the plugin's state.
    fn shutdown(self, _host: Host) {}

    /// [any-thread] The plugin's table for an extension id, or None. The table
    /// must stay valid until the process exits (a `static`).
    fn get_extension(&self, _host: Host, _id: &CStr) -> Option<NonNull<c_void>> {
        None
    }
}

/// What `declare_plugin!` expands to calls into; not for plugin code.
#[doc(hidden)]
pub mod __rt {
    use super::*;
    use crate::callbacks::guarded;
    use std::sync::Mutex;

    pub use crate::sys;

    /// The NULL-terminated capability list of a descriptor, in static storage.
    pub struct CapList<const N: usize>(pub [*const c_char; N]);
    // Immutable pointers to static strings.
    unsafe impl<const N: usize> Sync for CapList<N> {}

    /// The plugin's state, from init to shutdown.
    pub struct PluginCell<P> {
        state: Mutex<Option<P>>,
    }

    impl<P: Plugin> PluginCell<P> {
        #[allow(clippy::new_without_default)]
        pub const fn new() -> Self {
            PluginCell { state: Mutex::new(None) }
        }

        /// The state, even if a panic poisoned the lock: the panic was caught and reported.
        fn lock(&self) -> std::sync::MutexGuard<'_, Option<P>> {
            self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }

    pub unsafe fn init<P: Plugin>(cell: &PluginCell<P>, host: *const sys::pincer_host, path: *const c_char, error: *mut c_char, capacity: usize) -> Code {
        let Some(host) = Host::from_raw(host) else {
            return Code::INVALID_ARGUMENT;
        };
        let path = crate::text::borrowed(path).unwrap_or("");
        let failure = match guarded(host, format_args!("init"), || P::init(host, path)) {
            Ok(Ok(plugin)) => {
                *cell.lock() = Some(plugin);
                return Code::OK;
            }
            Ok(Err(e)) => (if e.code() == Code::OK { Code::PLUGIN } else { e.code() }, e.message),
            Err(panic) => (Code::PLUGIN, panic),
        };
        crate::text::write_truncated(&failure.1, error, capacity);
        failure.0
    }

    pub unsafe fn start<P: Plugin>(cell: &PluginCell<P>, host: *const sys::pincer_host) {
        let Some(host) = Host::from_raw(host) else { return };
        let _ = guarded(host, format_args!("start"), || {
            if let Some(plugin) = cell.lock().as_ref() {
                plugin.start(host)
            }
        });
    }

    pub unsafe fn shutdown<P: Plugin>(cell: &PluginCell<P>, host: *const sys::pincer_host) {
        let Some(host) = Host::from_raw(host) else { return };
        let _ = guarded(host, format_args!("shutdown"), || {
            let plugin = cell.lock().take();
            if let Some(plugin) = plugin {
                plugin.shutdown(host)
            }
        });
    }

    pub unsafe fn get_extension<P: Plugin>(cell: &PluginCell<P>, host: *const sys::pincer_host, id: *const c_char) -> *const c_void {
        let (Some(host), false) = (Host::from_raw(host), id.is_null()) else {
            return std::ptr::null();
        };
        let id = CStr::from_ptr(id);
        guarded(host, format_args!("get_extension"), || cell.lock().as_ref().and_then(|p| p.get_extension(host, id)))
            .ok()
            .flatten()
            .map_or(std::ptr::null(), |p| p.as_ptr().cast_const())
    }
}

/// Exports the plugin's entry, `pincer_plugin` (entry.h), for a type that
/// implements [`Plugin`], with its descriptor: `language` "rust", `sdk`
/// [`SDK`]. Use it once, in the crate root of a `cdylib`. `description` and
/// `capabilities` may be left out. The strings are literals.
///
/// rustc exports only `#[no_mangle]` items from a cdylib, so the entry is the
/// only symbol (`nm -D --defined-only` shows it alone); the crate's tests check it.
#[macro_export]
macro_rules! declare_plugin {
    (
        plugin: $plugin:ty,
        id: $id:literal,
        name: $name:literal,
        version: $version:literal
        $(, description: $description:literal)?
        $(, capabilities: [$($cap:expr),* $(,)?])?
        $(,)?
    ) => {
        const _: () = {
            use ::std::ffi::c_char;
            use $crate::__rt::{self, sys};

            static STATE: __rt::PluginCell<$plugin> = __rt::PluginCell::new();

            const CAPABILITY_COUNT: usize = <[&::std::ffi::CStr]>::len(&[$($($cap),*)?]);
            static CAPABILITIES: __rt::CapList<{ CAPABILITY_COUNT + 1 }> = {
                let given: [&::std::ffi::CStr; CAPABILITY_COUNT] = [$($($cap),*)?];
                let mut list = [::std::ptr::null::<c_char>(); CAPABILITY_COUNT + 1];
                let mut i = 0;
                while i < CAPABILITY_COUNT {
                    list[i] = given[i].as_ptr();
                    i += 1;
                }
                __rt::CapList(list)
            };

            static DESCRIPTOR: sys::pincer_plugin_descriptor = sys::pincer_plugin_descriptor {
                struct_size: ::std::mem::size_of::<sys::pincer_plugin_descriptor>() as u32,
                id: concat!($id, "\0").as_ptr().cast(),
                name: concat!($name, "\0").as_ptr().cast(),
                version: concat!($version, "\0").as_ptr().cast(),
                description: {
                    #[allow(unused_mut)]
                    let mut description = ::std::ptr::null::<c_char>();
                    $(description = concat!($description, "\0").as_ptr().cast();)?
                    description
                },
                capabilities: &CAPABILITIES.0 as *const _ as *const *const c_char,
                language: sys::PINCER_SOURCE_LANGUAGE.as_ptr(),
                sdk: $crate::SDK.as_ptr(),
            };

            unsafe extern "C" fn init(host: *const sys::pincer_host, path: *const c_char, error: *mut c_char, capacity: usize) -> sys::pincer_result {
                __rt::init(&STATE, host, path, error, capacity)
            }
            unsafe extern "C" fn start(host: *const sys::pincer_host) {
                __rt::start(&STATE, host)
            }
            unsafe extern "C" fn shutdown(host: *const sys::pincer_host) {
                __rt::shutdown(&STATE, host)
            }
            unsafe extern "C" fn get_extension(host: *const sys::pincer_host, id: *const c_char) -> *const ::std::ffi::c_void {
                __rt::get_extension(&STATE, host, id)
            }

            #[unsafe(no_mangle)]
            pub static pincer_plugin: sys::pincer_plugin_entry = sys::pincer_plugin_entry {
                abi_version: sys::PINCER_ABI_VERSION_INIT,
                struct_size: ::std::mem::size_of::<sys::pincer_plugin_entry>() as u32,
                descriptor: &DESCRIPTOR,
                init: Some(init),
                start: Some(start),
                shutdown: Some(shutdown),
                get_extension: Some(get_extension),
            };
        };
    };
}
