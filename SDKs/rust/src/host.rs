//! [`Host`]: the plugin's handle with a typed method for each function of the
//! host table (host.h). Each method fills request and result structs by
//! extension.h's rule (zeroed, `struct_size` set), turns a code other than
//! PINCER_OK into an [`Error`] carrying `last_error` read at once, on the same
//! thread, and copies or wraps what the host allocated so nothing leaks.

use std::ffi::{c_char, c_void, CStr};
use std::mem::{size_of, MaybeUninit};
use std::ptr::{self, NonNull};

use crate::sys::{self, Code, LogLevel, RunStatus, SteerOutcome};
use crate::text::{self, CText, HostString};
use crate::Error;

/// The plugin's own handle (the `const pincer_host *` init received): its
/// identity, valid until the plugin is dead, after which every call answers
/// PINCER_ERR_SHUT_DOWN. Copy it freely, into closures and threads: the host
/// table is [any-thread].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Host {
    raw: NonNull<sys::pincer_host>,
}

unsafe impl Send for Host {}
unsafe impl Sync for Host {}

/// A result struct, zeroed, with struct_size set (extension.h).
fn result_struct<T>() -> T {
    let mut value: T = unsafe { MaybeUninit::zeroed().assume_init() };
    // Every result struct starts with its uint32_t struct_size.
    unsafe { *(&mut value as *mut T).cast::<u32>() = size_of::<T>() as u32 };
    value
}

/// What spawn starts: a session's first message and its options (sessions.h).
#[derive(Clone, Debug, Default)]
pub struct SpawnRequest<'a> {
    pub message: &'a str,
    pub system_prompt: Option<&'a str>,
    pub tools_allow: &'a [&'a str],
    pub tools_deny: &'a [&'a str],
    pub model: Option<&'a str>,
    /// 0 = the host's default run timeout.
    pub timeout_seconds: u32,
    pub label: Option<&'a str>,
    /// `{"<plugin-id>": {…}, …}`: initial metadata keyed by namespace.
    pub metadata_json: Option<&'a str>,
}

impl<'a> SpawnRequest<'a> {
    pub fn new(message: &'a str) -> Self {
        SpawnRequest { message, ..Default::default() }
    }
}

/// A new session and its first run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spawned {
    pub session_key: String,
    pub run_id: String,
}

/// A run's state as wait() saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    pub status: RunStatus,
    /// The final assistant text when COMPLETED.
    pub final_text: Option<String>,
    /// Why the run failed, timed out or was cancelled.
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl RunInfo {
    /// False while the run is QUEUED or RUNNING (a wait that timed out).
    pub fn ended(&self) -> bool {
        self.status != RunStatus::QUEUED && self.status != RunStatus::RUNNING
    }
}

/// rate_limit_check's answer (rate_limit.h).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub allowed: bool,
    pub remaining: u32,
    pub retry_after_ms: u64,
}

/// A tool's, hook's, gateway method's or route's registration, for [`Host::unregister`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Registration(pub sys::pincer_registration);

/// Collects a `char **out` answer into a [`HostString`].
macro_rules! json_out {
    ($host:expr, |$out:ident| $call:expr) => {{
        let mut $out: *mut c_char = ptr::null_mut();
        let code = $call;
        $host.check(code)?;
        unsafe { HostString::from_raw(*$host, $out) }
    }};
}

impl Host {
    /// Wraps the handle init received.
    ///
    /// # Safety
    /// `raw` is a handle the host handed this plugin (or NULL, refused).
    pub unsafe fn from_raw(raw: *const sys::pincer_host) -> Option<Host> {
        NonNull::new(raw.cast_mut()).map(|raw| Host { raw })
    }

    pub fn as_raw(&self) -> *const sys::pincer_host {
        self.raw.as_ptr()
    }

    #[inline]
    fn table(&self) -> &sys::pincer_host {
        unsafe { self.raw.as_ref() }
    }

    #[inline]
    pub(crate) fn check(&self, code: Code) -> Result<(), Error> {
        if code == Code::OK {
            Ok(())
        } else {
            Err(self.error(code))
        }
    }

    /// The error for a failed call, with the host's message for it, read now
    /// (it is per thread and replaced by the next failing call).
    #[cold]
    fn error(&self, code: Code) -> Error {
        Error::new(code, self.last_error())
    }

    /// The ABI version the host was compiled against.
    pub fn abi_version(&self) -> sys::pincer_version {
        self.table().abi_version
    }

    pub fn host_name(&self) -> &'static str {
        unsafe { text::borrowed(self.table().host_name) }.unwrap_or("")
    }

    pub fn host_version(&self) -> &'static str {
        unsafe { text::borrowed(self.table().host_version) }.unwrap_or("")
    }

    // ---- Host services ------------------------------------------------------

    /// The host's table for an extension id, or None when this host has none
    /// (an older host, say: degrade). Casting it to the id's table type is the
    /// caller's (unsafe) business.
    pub fn get_extension(&self, id: &CStr) -> Option<NonNull<c_void>> {
        let f = self.table().get_extension?;
        NonNull::new(unsafe { f(self.as_raw(), id.as_ptr()) }.cast_mut())
    }

    /// The message of this plugin's last failed call on this thread ("" when none).
    pub fn last_error(&self) -> String {
        match self.table().last_error {
            Some(f) => unsafe { CStr::from_ptr(f(self.as_raw())) }.to_string_lossy().into_owned(),
            None => String::new(),
        }
    }

    /// `text` in memory from host->alloc, NUL-terminated, for the host to take
    /// over (a tool's result, a gate's reason); None when the host has no memory
    /// for it or the text holds U+0000 (the host would read it cut short).
    pub fn alloc_text(&self, text: &str) -> Option<NonNull<c_char>> {
        if text.as_bytes().contains(&0) {
            return None;
        }
        let f = self.table().alloc?;
        let p = NonNull::new(unsafe { f(self.as_raw(), text.len() + 1) }.cast::<c_char>())?;
        unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), p.as_ptr().cast::<u8>(), text.len());
            *p.as_ptr().add(text.len()) = 0;
        }
        Some(p)
    }

    /// host->free, for memory the host allocated ([`HostString`] calls it).
    pub(crate) fn free_raw(&self, ptr: *mut c_void) {
        if let Some(f) = self.table().free {
            unsafe { f(self.as_raw(), ptr) }
        }
    }

    /// One line in the host's log, attributed to this plugin.
    pub fn log(&self, level: LogLevel, message: impl CText) -> Result<(), Error> {
        let f = function!(self, log);
        let code = message.with_c(|m| unsafe { f(self.as_raw(), level, m) })?;
        self.check(code)
    }

    /// The plugin's config object from the operator's config file, as JSON ("{}" when none).
    pub fn get_config(&self) -> Result<HostString, Error> {
        let f = function!(self, get_config);
        json_out!(self, |out| unsafe { f(self.as_raw(), &mut out) })
    }

    // ---- Sessions and runs --------------------------------------------------

    /// A host extension table (`id`) of type `T`, which starts with its `uint32_t struct_size`:
    /// None when the host has none, or one shorter than this crate's `T` (it would lack functions
    /// this crate calls). The table is the host's, valid until the plugin is dead.
    pub(crate) fn extension_table<T>(&self, id: &CStr) -> Option<&'static T> {
        let table = self.get_extension(id)?.cast::<T>();
        let size = unsafe { *table.as_ptr().cast::<u32>() } as usize;
        (size >= size_of::<T>()).then(|| unsafe { &*table.as_ptr() })
    }

    /// Creates a session owned by this plugin and queues its first run.
    pub fn spawn(&self, request: &SpawnRequest<'_>) -> Result<Spawned, Error> {
        let f = function!(self, spawn);
        self.spawn_with(request, |raw, out| unsafe { f(self.as_raw(), raw, out) })
    }

    /// Builds the C spawn request from `request` and hands it to `call` (host->spawn, acp->spawn).
    pub(crate) fn spawn_with(
        &self,
        request: &SpawnRequest<'_>,
        call: impl FnOnce(*const sys::pincer_spawn_request, *mut sys::pincer_spawn_result) -> sys::pincer_result,
    ) -> Result<Spawned, Error> {
        let opt = |s: Option<&str>, what| s.map(|s| text::owned(s, what)).transpose();
        let message = text::owned(request.message, "message")?;
        let system_prompt = opt(request.system_prompt, "system_prompt")?;
        let model = opt(request.model, "model")?;
        let label = opt(request.label, "label")?;
        let metadata = opt(request.metadata_json, "metadata_json")?;
        let allow = request.tools_allow.iter().map(|p| text::owned(p, "tools_allow")).collect::<Result<Vec<_>, _>>()?;
        let deny = request.tools_deny.iter().map(|p| text::owned(p, "tools_deny")).collect::<Result<Vec<_>, _>>()?;
        let allow_ptrs: Vec<*const c_char> = allow.iter().map(|s| s.as_ptr()).collect();
        let deny_ptrs: Vec<*const c_char> = deny.iter().map(|s| s.as_ptr()).collect();
        let c = |s: &Option<std::ffi::CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        let mut raw: sys::pincer_spawn_request = unsafe { MaybeUninit::zeroed().assume_init() };
        raw.struct_size = size_of::<sys::pincer_spawn_request>() as u32;
        raw.message = message.as_ptr();
        raw.system_prompt = c(&system_prompt);
        raw.tools_allow = if allow_ptrs.is_empty() { ptr::null() } else { allow_ptrs.as_ptr() };
        raw.tools_allow_count = allow_ptrs.len();
        raw.tools_deny = if deny_ptrs.is_empty() { ptr::null() } else { deny_ptrs.as_ptr() };
        raw.tools_deny_count = deny_ptrs.len();
        raw.model = c(&model);
        raw.timeout_seconds = request.timeout_seconds;
        raw.label = c(&label);
        raw.metadata_json = c(&metadata);
        let mut out: sys::pincer_spawn_result = result_struct();
        self.check(call(&raw, &mut out))?;
        Ok(Spawned { session_key: text::from_array(&out.session_key)?, run_id: text::from_array(&out.run_id)? })
    }

    /// Queues a follow-up user message in a session as a new run; its run id.
    pub fn prompt(&self, session_key: impl CText, text: impl CText) -> Result<String, Error> {
        let f = function!(self, prompt);
        let mut out: sys::pincer_run_ref = result_struct();
        let code = session_key.with_c(|key| {
            text.with_c(|text| {
                let request = sys::pincer_prompt_request {
                    struct_size: size_of::<sys::pincer_prompt_request>() as u32,
                    session_key: key,
                    text,
                };
                unsafe { f(self.as_raw(), &request, &mut out) }
            })
        })??;
        self.check(code)?;
        text::from_array(&out.run_id)
    }

    /// Cancels a queued or running run (Ok also when it had ended).
    pub fn cancel_run(&self, run_id: impl CText) -> Result<(), Error> {
        let f = function!(self, cancel_run);
        self.check(run_id.with_c(|id| unsafe { f(self.as_raw(), id) })?)
    }

    /// [blocking] Waits up to `timeout_ms` for the run to end (0: report its
    /// state now). A wait that times out is Ok with the run QUEUED or RUNNING
    /// ([`RunInfo::ended`] false): that is an answer, not a failure.
    pub fn wait(&self, run_id: impl CText, timeout_ms: u32) -> Result<RunInfo, Error> {
        let f = function!(self, wait);
        let mut out: sys::pincer_run_info = result_struct();
        let code = run_id.with_c(|id| unsafe { f(self.as_raw(), id, timeout_ms, &mut out) })?;
        if code != Code::OK && code != Code::TIMEOUT {
            return Err(self.error(code));
        }
        // Copied at once, then freed: the caller owns plain Strings.
        let take = |p: *mut c_char| {
            let s = unsafe { text::borrowed(p) }.map(str::to_owned);
            self.free_raw(p.cast());
            s
        };
        Ok(RunInfo { status: out.status, final_text: take(out.final_text), error: take(out.error), duration_ms: out.duration_ms })
    }

    /// The session's transcript as JSON; `limit` > 0 keeps the last `limit` messages.
    pub fn messages(&self, session_key: impl CText, limit: u32) -> Result<HostString, Error> {
        let f = function!(self, messages);
        json_out!(self, |out| session_key.with_c(|key| unsafe { f(self.as_raw(), key, limit, &mut out) })?)
    }

    /// The session's description as JSON.
    pub fn get_session(&self, session_key: impl CText) -> Result<HostString, Error> {
        let f = function!(self, get_session);
        json_out!(self, |out| session_key.with_c(|key| unsafe { f(self.as_raw(), key, &mut out) })?)
    }

    /// Whether a run is at work in the session (and it is not compacting). Cheap.
    #[inline]
    pub fn is_streaming(&self, session_key: impl CText) -> Result<bool, Error> {
        let f = function!(self, is_streaming);
        let mut streaming = false;
        self.check(session_key.with_c(|key| unsafe { f(self.as_raw(), key, &mut streaming) })?)?;
        Ok(streaming)
    }

    /// This plugin's own metadata namespace on the session, as a JSON object.
    pub fn get_metadata(&self, session_key: impl CText) -> Result<HostString, Error> {
        let f = function!(self, get_metadata);
        json_out!(self, |out| session_key.with_c(|key| unsafe { f(self.as_raw(), key, &mut out) })?)
    }

    /// Queues `text` for the session's running run; what happened to it.
    pub fn steer(&self, session_key: impl CText, text: impl CText) -> Result<SteerOutcome, Error> {
        let f = function!(self, steer);
        let mut outcome = SteerOutcome::QUEUED;
        let code = session_key.with_c(|key| text.with_c(|text| unsafe { f(self.as_raw(), key, text, &mut outcome) }))??;
        self.check(code)?;
        Ok(outcome)
    }

    /// [blocking] Deletes the session and its transcript.
    pub fn delete_session(&self, session_key: impl CText) -> Result<(), Error> {
        let f = function!(self, delete_session);
        self.check(session_key.with_c(|key| unsafe { f(self.as_raw(), key) })?)
    }

    /// Replaces this plugin's own metadata namespace on the session.
    pub fn set_metadata(&self, session_key: impl CText, json_object: impl CText) -> Result<(), Error> {
        let f = function!(self, set_metadata);
        let code = session_key.with_c(|key| json_object.with_c(|json| unsafe { f(self.as_raw(), key, json) }))??;
        self.check(code)
    }

    // ---- Rate limiting ------------------------------------------------------

    /// Checks, and when allowed counts, one request for `key`.
    #[inline]
    pub fn rate_limit_check(&self, key: impl CText, max_requests: u32, window_ms: u64) -> Result<RateLimit, Error> {
        let f = function!(self, rate_limit_check);
        let mut out = sys::pincer_rate_limit_result {
            struct_size: size_of::<sys::pincer_rate_limit_result>() as u32,
            allowed: false,
            remaining: 0,
            retry_after_ms: 0,
        };
        self.check(key.with_c(|key| unsafe { f(self.as_raw(), key, max_requests, window_ms, &mut out) })?)?;
        Ok(RateLimit { allowed: out.allowed, remaining: out.remaining, retry_after_ms: out.retry_after_ms })
    }

    /// Forgets every request counted for `key`.
    pub fn rate_limit_reset(&self, key: impl CText) -> Result<(), Error> {
        let f = function!(self, rate_limit_reset);
        self.check(key.with_c(|key| unsafe { f(self.as_raw(), key) })?)
    }

    // ---- Host state, read-only ----------------------------------------------

    /// The host's status summary as JSON.
    pub fn status(&self) -> Result<HostString, Error> {
        let f = function!(self, status);
        json_out!(self, |out| unsafe { f(self.as_raw(), &mut out) })
    }

    /// The model catalog as JSON.
    pub fn models(&self) -> Result<HostString, Error> {
        let f = function!(self, models);
        json_out!(self, |out| unsafe { f(self.as_raw(), &mut out) })
    }

    /// A read-only gateway method with JSON params (None = none), answering JSON.
    pub fn gateway_request(&self, method: impl CText, params_json: Option<&str>) -> Result<HostString, Error> {
        let f = function!(self, gateway_request);
        let params = params_json.map(|p| text::owned(p, "params_json")).transpose()?;
        let params = params.as_ref().map_or(ptr::null(), |p| p.as_ptr());
        json_out!(self, |out| method.with_c(|m| unsafe { f(self.as_raw(), m, params, &mut out) })?)
    }

    // ---- Registrations (the callbacks themselves are in callbacks.rs) ------

    pub(crate) fn register_tool_raw(&self, definition: &sys::pincer_tool_definition) -> Result<Registration, Error> {
        let f = function!(self, register_tool);
        let mut registration = 0;
        self.check(unsafe { f(self.as_raw(), definition, &mut registration) })?;
        Ok(Registration(registration))
    }

    pub(crate) fn register_hook_raw(&self, definition: &sys::pincer_hook_definition) -> Result<Registration, Error> {
        let f = function!(self, register_hook);
        let mut registration = 0;
        self.check(unsafe { f(self.as_raw(), definition, &mut registration) })?;
        Ok(Registration(registration))
    }

    /// Withdraws a registration; its closure is dropped once its last call returned.
    pub fn unregister(&self, registration: Registration) -> Result<(), Error> {
        let f = function!(self, unregister);
        self.check(unsafe { f(self.as_raw(), registration.0) })
    }

    /// Whether the run a tool serves has been asked to stop: poll it in a long tool.
    pub fn run_stop_requested(&self, run_id: impl CText) -> Result<bool, Error> {
        let f = function!(self, run_stop_requested);
        let mut stop = false;
        self.check(run_id.with_c(|id| unsafe { f(self.as_raw(), id, &mut stop) })?)?;
        Ok(stop)
    }
}
