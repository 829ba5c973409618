//! The raw ABI: `Include/pincer/*.h`, one to one, as `#[repr(C)]` Rust.
//!
//! Every struct, field, function-pointer type, constant and limit of the
//! headers has its twin here under the header's own name, so a reader can go
//! from a header line to its Rust line by grep. Two deliberate differences:
//!
//! - The headers' enums travel as `int32_t`; here each is a `#[repr(transparent)]`
//!   newtype over `i32` ([`Code`], [`LogLevel`], …) with the values as
//!   associated consts, and the C name (`pincer_result`, …) is an alias of it.
//!   A value a newer host sends that this crate does not know is still
//!   representable (`Code(42)`): matching on an enum would be undefined behaviour.
//! - Nullable function pointers are `Option<unsafe extern "C" fn …>`, which has
//!   the layout of a C function pointer, NULL being `None`.
//!
//! `layout::describe()` reports each struct's size, alignment and field
//! offsets in the format of `Include/pincer/layout/abi-1.0.json`; the crate's
//! tests and the host's LayoutTests compare it with that file and with
//! `abi-1.1.json` (the structs minor 1.1 adds: gateway.h).
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void, CStr};
use std::fmt;

// ---- platform.h / version.h ---------------------------------------------------

pub const PINCER_ABI_MAJOR: u32 = 1;
pub const PINCER_ABI_MINOR: u32 = 0;
pub const PINCER_ABI_PATCH: u32 = 0;
/// The release-candidate number; 0 once the version is final.
pub const PINCER_ABI_PRERELEASE: u32 = 2;

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct pincer_version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// 0 for a final version; N for release candidate N.
    pub prerelease: u32,
}

/// `PINCER_ABI_VERSION_INIT`: the version these bindings describe.
pub const PINCER_ABI_VERSION_INIT: pincer_version = pincer_version {
    major: PINCER_ABI_MAJOR,
    minor: PINCER_ABI_MINOR,
    patch: PINCER_ABI_PATCH,
    prerelease: PINCER_ABI_PRERELEASE,
};

/// `pincer_version_is_compatible`: true when a peer compiled against `v` can be
/// loaded by code compiled against these bindings.
pub const fn pincer_version_is_compatible(v: pincer_version) -> bool {
    if v.major != PINCER_ABI_MAJOR {
        return false;
    }
    if v.prerelease != 0 {
        return v.minor == PINCER_ABI_MINOR && v.prerelease == PINCER_ABI_PRERELEASE;
    }
    v.minor != PINCER_ABI_MINOR || PINCER_ABI_PRERELEASE == 0
}

/// Declares an `int32_t` enum of the headers as a newtype with named values.
macro_rules! abi_enum {
    ($(#[$doc:meta])* $name:ident, $c_name:ident { $($(#[$vdoc:meta])* $value:ident = $c_const:ident = $n:expr,)* }) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i32);
        impl $name {
            $($(#[$vdoc])* pub const $value: Self = Self($n);)*
            /// The header's name for this value, or None for one this crate does not know.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($n => Some(stringify!($c_const)),)*
                    _ => None,
                }
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }
        pub type $c_name = $name;
        $(pub const $c_const: $name = $name::$value;)*
    };
}

// ---- result.h -----------------------------------------------------------------

abi_enum! {
    /// `pincer_result`: what every fallible call returns. Treat an unknown code as a failure.
    Code, pincer_result {
        OK = PINCER_OK = 0,
        INVALID_ARGUMENT = PINCER_ERR_INVALID_ARGUMENT = 1,
        BAD_HANDLE = PINCER_ERR_BAD_HANDLE = 2,
        SHUT_DOWN = PINCER_ERR_SHUT_DOWN = 3,
        NOT_FOUND = PINCER_ERR_NOT_FOUND = 4,
        DENIED = PINCER_ERR_DENIED = 5,
        LIMIT = PINCER_ERR_LIMIT = 6,
        TIMEOUT = PINCER_ERR_TIMEOUT = 7,
        INTERNAL = PINCER_ERR_INTERNAL = 8,
        UNSUPPORTED = PINCER_ERR_UNSUPPORTED = 9,
        /// Returned by a plugin's callback to say it failed; never by the host.
        PLUGIN = PINCER_ERR_PLUGIN = 10,
        /// @since 1.0-rc2.
        WOULD_BLOCK = PINCER_ERR_WOULD_BLOCK = 11,
    }
}

// ---- log.h --------------------------------------------------------------------

pub const PINCER_LOG_MAX_BYTES: u32 = 64 << 10;

abi_enum! {
    /// `pincer_log_level`.
    LogLevel, pincer_log_level {
        DEBUG = PINCER_LOG_DEBUG = 0,
        INFO = PINCER_LOG_INFO = 1,
        WARN = PINCER_LOG_WARN = 2,
        ERROR = PINCER_LOG_ERROR = 3,
    }
}

// ---- entry.h ------------------------------------------------------------------

pub const PINCER_ENTRY_FUNCTION_SYMBOL: &CStr = c"pincer_plugin_get";
pub const PINCER_ENTRY_DATA_SYMBOL: &CStr = c"pincer_plugin";

pub const PINCER_CAP_SESSIONS_SPAWN: &CStr = c"sessions.spawn";
pub const PINCER_CAP_SESSIONS_READ: &CStr = c"sessions.read";
pub const PINCER_CAP_SESSIONS_PROMPT: &CStr = c"sessions.prompt";
pub const PINCER_CAP_SESSIONS_STEER: &CStr = c"sessions.steer";
pub const PINCER_CAP_SESSIONS_DELETE: &CStr = c"sessions.delete";
pub const PINCER_CAP_SESSIONS_METADATA: &CStr = c"sessions.metadata";
pub const PINCER_CAP_RATE_LIMIT: &CStr = c"rate_limit";
pub const PINCER_CAP_HOST_READ: &CStr = c"host.read";
pub const PINCER_CAP_TOOLS_REGISTER: &CStr = c"tools.register";
pub const PINCER_CAP_HOOKS_OBSERVE: &CStr = c"hooks.observe";
pub const PINCER_CAP_HOOKS_GATE: &CStr = c"hooks.gate";

pub const PINCER_PLUGIN_ID_MAX_BYTES: u32 = 32;
pub const PINCER_MAX_CAPABILITIES: u32 = 64;
pub const PINCER_RESERVED_IDS: &str = "operator pincer host system gateway admin anonymous";

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_plugin_descriptor {
    pub struct_size: u32,
    pub id: *const c_char,
    pub name: *const c_char,
    pub version: *const c_char,
    pub description: *const c_char,
    pub capabilities: *const *const c_char,
    /// @since 1.0 (rc2, at the tail).
    pub language: *const c_char,
    /// @since 1.0 (rc2, at the tail).
    pub sdk: *const c_char,
}

/// `PINCER_SOURCE_LANGUAGE` for this language.
pub const PINCER_SOURCE_LANGUAGE: &CStr = c"rust";

pub type pincer_init_fn = Option<
    unsafe extern "C" fn(host: *const pincer_host, plugin_path: *const c_char, error: *mut c_char, error_capacity: usize) -> pincer_result,
>;
pub type pincer_lifecycle_fn = Option<unsafe extern "C" fn(host: *const pincer_host)>;
pub type pincer_get_extension_fn = Option<unsafe extern "C" fn(host: *const pincer_host, id: *const c_char) -> *const c_void>;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_plugin_entry {
    pub abi_version: pincer_version,
    pub struct_size: u32,
    pub descriptor: *const pincer_plugin_descriptor,
    pub init: pincer_init_fn,
    pub start: pincer_lifecycle_fn,
    pub shutdown: pincer_lifecycle_fn,
    pub get_extension: pincer_get_extension_fn,
}

// The descriptor and the entry are immutable data in static storage (entry.h),
// read by the host from any thread: sharing them is sound, and a `static` needs it.
unsafe impl Sync for pincer_plugin_descriptor {}
unsafe impl Sync for pincer_plugin_entry {}

// ---- extension.h --------------------------------------------------------------

pub const PINCER_MAX_STRUCT_SIZE: u32 = 4096;

/// `PINCER_STRUCT_HAS`: true when a host-written struct whose struct_size is
/// `struct_size` covers the field that ends `field_end` bytes into it
/// (`offset_of!(T, field) + size_of` the field).
pub const fn pincer_struct_has(struct_size: u32, field_end: usize) -> bool {
    struct_size as usize >= field_end
}

// ---- sessions.h ---------------------------------------------------------------

pub const PINCER_SESSION_KEY_CAPACITY: usize = 128;
pub const PINCER_RUN_ID_CAPACITY: usize = 64;
pub const PINCER_MAX_MESSAGE_BYTES: u32 = 1 << 20;
pub const PINCER_MAX_SYSTEM_PROMPT_BYTES: u32 = 256 << 10;
pub const PINCER_MAX_LABEL_BYTES: u32 = 256;
pub const PINCER_MAX_MODEL_BYTES: u32 = 256;
pub const PINCER_MAX_POLICY_PATTERNS: u32 = 128;
pub const PINCER_MAX_PATTERN_BYTES: u32 = 256;
pub const PINCER_MAX_METADATA_BYTES: u32 = 64 << 10;
pub const PINCER_MAX_METADATA_NAMESPACES: u32 = 16;
pub const PINCER_MAX_TIMEOUT_SECONDS: u32 = 604800;
pub const PINCER_MAX_QUEUED_RUNS: u32 = 16;
pub const PINCER_MAX_QUEUED_MESSAGE_BYTES: u32 = 16 << 20;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_spawn_request {
    pub struct_size: u32,
    pub message: *const c_char,
    pub system_prompt: *const c_char,
    pub tools_allow: *const *const c_char,
    pub tools_allow_count: usize,
    pub tools_deny: *const *const c_char,
    pub tools_deny_count: usize,
    pub model: *const c_char,
    pub timeout_seconds: u32,
    pub label: *const c_char,
    pub metadata_json: *const c_char,
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_spawn_result {
    pub struct_size: u32,
    pub session_key: [c_char; PINCER_SESSION_KEY_CAPACITY],
    pub run_id: [c_char; PINCER_RUN_ID_CAPACITY],
}

pub const PINCER_SPAWN_RESULT_MIN_SIZE: usize = std::mem::offset_of!(pincer_spawn_result, run_id) + PINCER_RUN_ID_CAPACITY;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_prompt_request {
    pub struct_size: u32,
    pub session_key: *const c_char,
    pub text: *const c_char,
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_run_ref {
    pub struct_size: u32,
    pub run_id: [c_char; PINCER_RUN_ID_CAPACITY],
}

pub const PINCER_RUN_REF_MIN_SIZE: usize = std::mem::offset_of!(pincer_run_ref, run_id) + PINCER_RUN_ID_CAPACITY;

abi_enum! {
    /// `pincer_run_status`.
    RunStatus, pincer_run_status {
        QUEUED = PINCER_RUN_QUEUED = 0,
        RUNNING = PINCER_RUN_RUNNING = 1,
        COMPLETED = PINCER_RUN_COMPLETED = 2,
        FAILED = PINCER_RUN_FAILED = 3,
        TIMED_OUT = PINCER_RUN_TIMED_OUT = 4,
        CANCELLED = PINCER_RUN_CANCELLED = 5,
        INTERRUPTED = PINCER_RUN_INTERRUPTED = 6,
    }
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_run_info {
    pub struct_size: u32,
    pub status: pincer_run_status,
    pub final_text: *mut c_char,
    pub error: *mut c_char,
    pub duration_ms: u64,
}

pub const PINCER_RUN_INFO_MIN_SIZE: usize = std::mem::offset_of!(pincer_run_info, duration_ms) + 8;

abi_enum! {
    /// `pincer_steer_outcome`.
    SteerOutcome, pincer_steer_outcome {
        QUEUED = PINCER_STEER_QUEUED = 0,
        NO_SESSION = PINCER_STEER_NO_SESSION = 1,
        NO_ACTIVE_RUN = PINCER_STEER_NO_ACTIVE_RUN = 2,
        NOT_STREAMING = PINCER_STEER_NOT_STREAMING = 3,
        COMPACTING = PINCER_STEER_COMPACTING = 4,
        BUSY = PINCER_STEER_BUSY = 5,
    }
}

pub const PINCER_STEER_MAX_PENDING: u32 = 32;

// ---- rate_limit.h -------------------------------------------------------------

pub const PINCER_RATE_LIMIT_MAX_REQUESTS: u32 = 65535;
pub const PINCER_RATE_LIMIT_MAX_WINDOW_MS: u64 = 30 * 24 * 3600 * 1000;
pub const PINCER_RATE_LIMIT_MAX_KEY_BYTES: u32 = 256;
pub const PINCER_RATE_LIMIT_EXACT_REQUESTS: u32 = 64;
pub const PINCER_RATE_LIMIT_BUCKETS: u32 = 128;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_rate_limit_result {
    pub struct_size: u32,
    pub allowed: bool,
    pub remaining: u32,
    pub retry_after_ms: u64,
}

pub const PINCER_RATE_LIMIT_RESULT_MIN_SIZE: usize = std::mem::offset_of!(pincer_rate_limit_result, retry_after_ms) + 8;

// ---- tools.h ------------------------------------------------------------------

pub const PINCER_MAX_TOOLS_PER_PLUGIN: u32 = 256;
pub const PINCER_TOOL_NAME_MAX_BYTES: u32 = 64;
pub const PINCER_TOOL_DESCRIPTION_MAX_BYTES: u32 = 4 << 10;
pub const PINCER_TOOL_SCHEMA_MAX_BYTES: u32 = 64 << 10;
pub const PINCER_TOOL_GROUP_MAX_BYTES: u32 = 64;
pub const PINCER_TOOL_RESULT_MAX_BYTES: u32 = 16 << 20;

/// A handle for one registration (tool or hook); 0 is never one.
pub type pincer_registration = u64;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_tool_call {
    pub struct_size: u32,
    pub session_key: *const c_char,
    pub session_id: *const c_char,
    pub run_id: *const c_char,
    pub tool_call_id: *const c_char,
    pub tool_name: *const c_char,
    pub arguments_json: *const c_char,
    pub workspace_dir: *const c_char,
}

pub type pincer_tool_invoke =
    Option<unsafe extern "C" fn(context: *mut c_void, call: *const pincer_tool_call, out_text: *mut *mut c_char) -> pincer_result>;
pub type pincer_release_fn = Option<unsafe extern "C" fn(context: *mut c_void)>;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_tool_definition {
    pub struct_size: u32,
    pub name: *const c_char,
    pub description: *const c_char,
    pub parameters_json: *const c_char,
    pub group: *const c_char,
    pub invoke: pincer_tool_invoke,
    pub context: *mut c_void,
    /// @since 1.0-rc2.
    pub release: pincer_release_fn,
}

// ---- hooks.h ------------------------------------------------------------------

pub const PINCER_MAX_HOOKS_PER_PLUGIN: u32 = 64;
pub const PINCER_HOOK_MAX_DEADLINE_MS: u32 = 60000;
pub const PINCER_HOOK_MAX_NESTING: u32 = 4;
pub const PINCER_HOOK_MAX_PENDING_GATES: u32 = 64;
pub const PINCER_HOOK_MAX_QUEUED_EVENTS: u32 = 8192;
pub const PINCER_HOOK_MAX_QUEUED_EVENT_BYTES: u32 = 64 << 20;
pub const PINCER_HOOK_REASON_MAX_BYTES: u32 = 64 << 10;
pub const PINCER_HOOK_PATCH_MAX_BYTES: u32 = 1 << 20;

abi_enum! {
    /// `pincer_hook_point`.
    HookPoint, pincer_hook_point {
        BEFORE_SESSION_CREATE = PINCER_HOOK_BEFORE_SESSION_CREATE = 0,
        SESSION_CREATED = PINCER_HOOK_SESSION_CREATED = 1,
        BEFORE_TOOL_CALL = PINCER_HOOK_BEFORE_TOOL_CALL = 2,
        AFTER_TOOL_CALL = PINCER_HOOK_AFTER_TOOL_CALL = 3,
        RUN_EVENT = PINCER_HOOK_RUN_EVENT = 4,
    }
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_hook_event {
    pub struct_size: u32,
    pub point: pincer_hook_point,
    pub session_key: *const c_char,
    pub session_id: *const c_char,
    pub run_id: *const c_char,
    pub owner: *const c_char,
    pub workspace_dir: *const c_char,
    pub tool_name: *const c_char,
    pub tool_call_id: *const c_char,
    pub payload_json: *const c_char,
}

abi_enum! {
    /// `pincer_hook_verdict`.
    Verdict, pincer_hook_verdict {
        CONTINUE = PINCER_HOOK_CONTINUE = 0,
        BLOCK = PINCER_HOOK_BLOCK = 1,
    }
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_hook_decision {
    pub struct_size: u32,
    pub verdict: pincer_hook_verdict,
    pub reason: *mut c_char,
    pub patch_json: *mut c_char,
}

pub type pincer_hook_fn = Option<
    unsafe extern "C" fn(context: *mut c_void, event: *const pincer_hook_event, decision: *mut pincer_hook_decision) -> pincer_result,
>;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_hook_definition {
    pub struct_size: u32,
    pub point: pincer_hook_point,
    pub priority: i32,
    pub deadline_ms: u32,
    pub call: pincer_hook_fn,
    pub context: *mut c_void,
    /// @since 1.0-rc2.
    pub release: pincer_release_fn,
}

// ---- host.h -------------------------------------------------------------------

pub const PINCER_GATEWAY_PARAMS_MAX_BYTES: u32 = 1 << 20;
pub const PINCER_GATEWAY_METHOD_MAX_BYTES: u32 = 256;

type H = *const pincer_host;

#[repr(C)]
pub struct pincer_host {
    pub abi_version: pincer_version,
    pub struct_size: u32,
    pub host_data: *mut c_void,
    pub host_name: *const c_char,
    pub host_version: *const c_char,
    pub get_extension: Option<unsafe extern "C" fn(H, id: *const c_char) -> *const c_void>,
    pub last_error: Option<unsafe extern "C" fn(H) -> *const c_char>,
    pub alloc: Option<unsafe extern "C" fn(H, size: usize) -> *mut c_void>,
    pub free: Option<unsafe extern "C" fn(H, ptr: *mut c_void)>,
    pub log: Option<unsafe extern "C" fn(H, level: pincer_log_level, message: *const c_char) -> pincer_result>,
    pub get_config: Option<unsafe extern "C" fn(H, out_json: *mut *mut c_char) -> pincer_result>,
    pub spawn: Option<unsafe extern "C" fn(H, request: *const pincer_spawn_request, out: *mut pincer_spawn_result) -> pincer_result>,
    pub prompt: Option<unsafe extern "C" fn(H, request: *const pincer_prompt_request, out: *mut pincer_run_ref) -> pincer_result>,
    pub cancel_run: Option<unsafe extern "C" fn(H, run_id: *const c_char) -> pincer_result>,
    pub wait: Option<unsafe extern "C" fn(H, run_id: *const c_char, timeout_ms: u32, out: *mut pincer_run_info) -> pincer_result>,
    pub messages: Option<unsafe extern "C" fn(H, session_key: *const c_char, limit: u32, out_json: *mut *mut c_char) -> pincer_result>,
    pub get_session: Option<unsafe extern "C" fn(H, session_key: *const c_char, out_json: *mut *mut c_char) -> pincer_result>,
    pub is_streaming: Option<unsafe extern "C" fn(H, session_key: *const c_char, out: *mut bool) -> pincer_result>,
    pub get_metadata: Option<unsafe extern "C" fn(H, session_key: *const c_char, out_json: *mut *mut c_char) -> pincer_result>,
    pub steer: Option<
        unsafe extern "C" fn(H, session_key: *const c_char, text: *const c_char, out: *mut pincer_steer_outcome) -> pincer_result,
    >,
    pub delete_session: Option<unsafe extern "C" fn(H, session_key: *const c_char) -> pincer_result>,
    pub set_metadata: Option<unsafe extern "C" fn(H, session_key: *const c_char, json_object: *const c_char) -> pincer_result>,
    pub rate_limit_check: Option<
        unsafe extern "C" fn(
            H,
            key: *const c_char,
            max_requests: u32,
            window_ms: u64,
            out: *mut pincer_rate_limit_result,
        ) -> pincer_result,
    >,
    pub rate_limit_reset: Option<unsafe extern "C" fn(H, key: *const c_char) -> pincer_result>,
    pub status: Option<unsafe extern "C" fn(H, out_json: *mut *mut c_char) -> pincer_result>,
    pub models: Option<unsafe extern "C" fn(H, out_json: *mut *mut c_char) -> pincer_result>,
    pub gateway_request: Option<
        unsafe extern "C" fn(H, method: *const c_char, params_json: *const c_char, out_json: *mut *mut c_char) -> pincer_result,
    >,
    pub register_tool:
        Option<unsafe extern "C" fn(H, tool: *const pincer_tool_definition, out: *mut pincer_registration) -> pincer_result>,
    pub register_hook:
        Option<unsafe extern "C" fn(H, hook: *const pincer_hook_definition, out: *mut pincer_registration) -> pincer_result>,
    pub unregister: Option<unsafe extern "C" fn(H, registration: pincer_registration) -> pincer_result>,
    pub run_stop_requested: Option<unsafe extern "C" fn(H, run_id: *const c_char, out: *mut bool) -> pincer_result>,
}

// ---- gateway.h (@since 1.1: the first part of ABI 1.1) ---------------------

pub const PINCER_GATEWAY_EXTENSION_ID: &CStr = c"pincer.gateway/1";

/// The capability register_method and register_route need.
pub const PINCER_CAP_GATEWAY_SERVE: &CStr = c"gateway.serve";

pub const PINCER_GATEWAY_MAX_METHODS_PER_PLUGIN: u32 = 64;
pub const PINCER_GATEWAY_MAX_ROUTES_PER_PLUGIN: u32 = 64;
pub const PINCER_GATEWAY_NAME_MAX_BYTES: u32 = 64;
pub const PINCER_GATEWAY_DESCRIPTION_MAX_BYTES: u32 = 4 << 10;
pub const PINCER_GATEWAY_PATH_MAX_BYTES: u32 = 256;
pub const PINCER_GATEWAY_MAX_PENDING_REPLIES: u32 = 256;
/// A method's result, an error message, a whole response body (bytes).
pub const PINCER_GATEWAY_REPLY_MAX_BYTES: u32 = 16 << 20;
pub const PINCER_GATEWAY_MAX_RESPONSE_HEADERS: u32 = 64;
pub const PINCER_GATEWAY_HEADER_MAX_BYTES: u32 = 8 << 10;
pub const PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES: u32 = 1 << 20;

/// One pending request; 0 is never one. A stale or forged one is refused
/// (PINCER_ERR_NOT_FOUND), never dereferenced.
pub type pincer_gateway_reply = u64;

abi_enum! {
    /// `pincer_gateway_request_kind`.
    GatewayRequestKind, pincer_gateway_request_kind {
        /// A JSON-RPC call of one of the plugin's methods.
        METHOD = PINCER_GATEWAY_METHOD = 0,
        /// An HTTP request on one of the plugin's routes.
        ROUTE = PINCER_GATEWAY_ROUTE = 1,
    }
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_gateway_header {
    pub name: *const c_char,
    pub value: *const c_char,
}

/// Host-written: read a field only when struct_size covers it. Every pointer is
/// valid only during the handler call; `reply` until answered.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_gateway_request {
    pub struct_size: u32,
    pub kind: pincer_gateway_request_kind,
    pub reply: pincer_gateway_reply,
    pub method: *const c_char,
    pub path: *const c_char,
    pub query: *const c_char,
    pub headers: *const pincer_gateway_header,
    pub header_count: usize,
    /// A NUL follows the last byte (not counted in body_len).
    pub body: *const u8,
    pub body_len: usize,
    pub principal: *const c_char,
    pub client_address: *const c_char,
}

pub type pincer_gateway_handler = Option<unsafe extern "C" fn(context: *mut c_void, request: *const pincer_gateway_request)>;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_gateway_method_definition {
    pub struct_size: u32,
    pub name: *const c_char,
    pub description: *const c_char,
    pub handler: pincer_gateway_handler,
    pub context: *mut c_void,
    pub release: pincer_release_fn,
}

/// The route matches its path and every path below it ("/a2a" → "/a2a/x/y").
pub const PINCER_GATEWAY_ROUTE_PREFIX: u32 = 1;
/// Served without the operator's token: the plugin does its own auth.
pub const PINCER_GATEWAY_ROUTE_PUBLIC: u32 = 2;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_gateway_route_definition {
    pub struct_size: u32,
    /// PINCER_GATEWAY_ROUTE_* bits.
    pub flags: u32,
    /// NULL = every method.
    pub method: *const c_char,
    pub path: *const c_char,
    pub handler: pincer_gateway_handler,
    pub context: *mut c_void,
    pub release: pincer_release_fn,
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_gateway_response {
    pub struct_size: u32,
    /// 200 to 599.
    pub status: u32,
    pub headers: *const pincer_gateway_header,
    pub header_count: usize,
    /// stream_start: NULL and 0.
    pub body: *const u8,
    pub body_len: usize,
}

/// The table get_extension(host, PINCER_GATEWAY_EXTENSION_ID) returns; every
/// function is [any-thread] and takes the plugin's own host handle first.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_gateway_v1 {
    pub struct_size: u32,
    pub register_method: Option<
        unsafe extern "C" fn(H, definition: *const pincer_gateway_method_definition, out: *mut pincer_registration) -> pincer_result,
    >,
    pub register_route: Option<
        unsafe extern "C" fn(H, definition: *const pincer_gateway_route_definition, out: *mut pincer_registration) -> pincer_result,
    >,
    pub reply_result: Option<unsafe extern "C" fn(H, reply: pincer_gateway_reply, result_json: *const c_char) -> pincer_result>,
    pub reply_error:
        Option<unsafe extern "C" fn(H, reply: pincer_gateway_reply, code: i32, message: *const c_char) -> pincer_result>,
    pub respond:
        Option<unsafe extern "C" fn(H, reply: pincer_gateway_reply, response: *const pincer_gateway_response) -> pincer_result>,
    pub stream_start:
        Option<unsafe extern "C" fn(H, reply: pincer_gateway_reply, head: *const pincer_gateway_response) -> pincer_result>,
    pub stream_write: Option<unsafe extern "C" fn(H, reply: pincer_gateway_reply, data: *const u8, len: usize) -> pincer_result>,
    pub stream_end: Option<unsafe extern "C" fn(H, reply: pincer_gateway_reply) -> pincer_result>,
}

// ---- runs.h (ABI 1.1): following a run ----------------------------------------------

pub const PINCER_RUNS_EXTENSION_ID: &CStr = c"pincer.runs/1";
pub const PINCER_RUNS_MAX_FOLLOWS: u32 = 64;
/// pincer_run_follow.flags: only the END call (a completion callback).
pub const PINCER_RUN_FOLLOW_END_ONLY: u32 = 1;
/// pincer_run_event.kind.
pub const PINCER_RUN_EVENT: i32 = 0;
pub const PINCER_RUN_GAP: i32 = 1;
pub const PINCER_RUN_END: i32 = 2;

/// One call of on_event; host-written, valid during the call.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_run_event {
    pub struct_size: u32,
    pub kind: i32,
    pub run_id: *const c_char,
    pub seq: u64,
    pub missed: u64,
    pub event_json: *const c_char,
    pub status: i32,
    pub final_text: *const c_char,
    pub error: *const c_char,
    pub duration_ms: u64,
}

pub type pincer_run_event_fn = Option<unsafe extern "C" fn(context: *mut c_void, event: *const pincer_run_event)>;

/// What follow() copies; struct_size must reach `on_event`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_run_follow {
    pub struct_size: u32,
    pub flags: u32,
    pub run_id: *const c_char,
    pub on_event: pincer_run_event_fn,
    pub context: *mut c_void,
    pub release: pincer_release_fn,
}

/// The table get_extension(host, PINCER_RUNS_EXTENSION_ID) returns.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_runs_v1 {
    pub struct_size: u32,
    pub follow: Option<unsafe extern "C" fn(H, follow: *const pincer_run_follow, out: *mut pincer_registration) -> pincer_result>,
}

// ---- acp.h (ABI 1.2): sessions on external coding agents -----------------------------

pub const PINCER_ACP_EXTENSION_ID: &CStr = c"pincer.acp/1";
pub const PINCER_CAP_ACP_SPAWN: &CStr = c"acp.spawn";

/// The table get_extension(host, PINCER_ACP_EXTENSION_ID) returns.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct pincer_acp_v1 {
    pub struct_size: u32,
    pub spawn: Option<
        unsafe extern "C" fn(H, agent: *const c_char, request: *const pincer_spawn_request, out: *mut pincer_spawn_result) -> pincer_result,
    >,
    pub agents: Option<unsafe extern "C" fn(H, out_json: *mut *mut c_char) -> pincer_result>,
}

/// Each struct's layout as this crate compiles it, in the vocabulary of
/// `Include/pincer/layout/abi-1.0.json`: the 1.0 structs in that file's order,
/// then 1.1's in `abi-1.1.json`'s. The layout probe prints it and the tests
/// compare it with the two files.
pub mod layout {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    pub struct StructLayout {
        pub name: &'static str,
        pub size: usize,
        pub align: usize,
        pub fields: Vec<(&'static str, usize)>,
    }

    macro_rules! describe {
        ($($t:ident { $($f:ident),* $(,)? })*) => {
            vec![$(StructLayout {
                name: stringify!($t),
                size: size_of::<$t>(),
                align: align_of::<$t>(),
                fields: vec![$((stringify!($f), offset_of!($t, $f))),*],
            }),*]
        };
    }

    pub fn describe() -> Vec<StructLayout> {
        describe! {
            pincer_version { major, minor, patch, prerelease }
            pincer_plugin_descriptor { struct_size, id, name, version, description, capabilities, language, sdk }
            pincer_plugin_entry { abi_version, struct_size, descriptor, init, start, shutdown, get_extension }
            pincer_spawn_request { struct_size, message, system_prompt, tools_allow, tools_allow_count, tools_deny,
                                   tools_deny_count, model, timeout_seconds, label, metadata_json }
            pincer_spawn_result { struct_size, session_key, run_id }
            pincer_prompt_request { struct_size, session_key, text }
            pincer_run_ref { struct_size, run_id }
            pincer_run_info { struct_size, status, final_text, error, duration_ms }
            pincer_rate_limit_result { struct_size, allowed, remaining, retry_after_ms }
            pincer_host { abi_version, struct_size, host_data, host_name, host_version, get_extension, last_error, alloc,
                          free, log, get_config, spawn, prompt, cancel_run, wait, messages, get_session, is_streaming,
                          get_metadata, steer, delete_session, set_metadata, rate_limit_check, rate_limit_reset, status,
                          models, gateway_request, register_tool, register_hook, unregister, run_stop_requested }
            pincer_tool_call { struct_size, session_key, session_id, run_id, tool_call_id, tool_name, arguments_json,
                               workspace_dir }
            pincer_tool_definition { struct_size, name, description, parameters_json, group, invoke, context, release }
            pincer_hook_event { struct_size, point, session_key, session_id, run_id, owner, workspace_dir, tool_name,
                                tool_call_id, payload_json }
            pincer_hook_decision { struct_size, verdict, reason, patch_json }
            pincer_hook_definition { struct_size, point, priority, deadline_ms, call, context, release }
            // 1.1 (abi-1.1.json): gateway.h
            pincer_gateway_header { name, value }
            pincer_gateway_request { struct_size, kind, reply, method, path, query, headers, header_count, body, body_len,
                                     principal, client_address }
            pincer_gateway_method_definition { struct_size, name, description, handler, context, release }
            pincer_gateway_route_definition { struct_size, flags, method, path, handler, context, release }
            pincer_gateway_response { struct_size, status, headers, header_count, body, body_len }
            pincer_gateway_v1 { struct_size, register_method, register_route, reply_result, reply_error, respond,
                                stream_start, stream_write, stream_end }
            // 1.1: runs.h
            pincer_run_event { struct_size, kind, run_id, seq, missed, event_json, status, final_text, error, duration_ms }
            pincer_run_follow { struct_size, flags, run_id, on_event, context, release }
            pincer_runs_v1 { struct_size, follow }
            // 1.2 (abi-1.2.json): acp.h
            pincer_acp_v1 { struct_size, spawn, agents }
        }
    }

    /// The lines the C probe of LayoutTests prints, with reader "rust":
    /// `rust NAME size S align A`, then `rust NAME.FIELD OFFSET` per field.
    pub fn report() -> String {
        let mut out = String::new();
        for s in describe() {
            out += &format!("rust {} size {} align {}\n", s.name, s.size, s.align);
            for (field, offset) in &s.fields {
                out += &format!("rust {}.{} {}\n", s.name, field, offset);
            }
        }
        out
    }
}
