//! Tools and hooks as Rust closures.
//!
//! A closure is boxed with the handle and its name, the box becomes the
//! registration's `context`, and monomorphised `extern "C"` trampolines
//! (`invoke_tool::<F>`, `call_hook::<F>`, `release::<C>`) go in the definition.
//! The host calls `release` exactly once after the last call (tools.h), which
//! drops the box; when registration fails the host never calls it and the box
//! is dropped here. Every trampoline runs the closure under `catch_unwind`: a
//! panic becomes PINCER_ERR_PLUGIN with a message, logged through the host.

use std::ffi::{c_char, c_void};
use std::mem::{offset_of, size_of};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::host::Registration;
use crate::sys::{self, Code, HookPoint, LogLevel, Verdict};
use crate::text::{self, owned};
use crate::{Error, Host};

/// What register_tool needs besides the closure (tools.h).
#[derive(Clone, Debug, Default)]
pub struct Tool<'a> {
    /// "<plugin-id>.<name>".
    pub name: &'a str,
    /// What the tool does, for the model.
    pub description: &'a str,
    /// JSON Schema of the arguments (None: any object).
    pub parameters_json: Option<&'a str>,
    /// "<plugin-id>.<group>", or None.
    pub group: Option<&'a str>,
}

/// One call of a tool, borrowed from the host for the call. A field the host's
/// struct does not cover (an older host) reads as "".
#[derive(Clone, Debug)]
pub struct ToolCall<'a> {
    pub session_key: &'a str,
    pub session_id: &'a str,
    pub run_id: &'a str,
    pub tool_call_id: &'a str,
    pub tool_name: &'a str,
    /// The arguments, a JSON object.
    pub arguments_json: &'a str,
    /// The directory the session works in, as hook events carry it.
    pub workspace_dir: &'a str,
}

/// What register_hook needs besides the closure (hooks.h).
#[derive(Copy, Clone, Debug)]
pub struct Hook {
    pub point: HookPoint,
    /// Higher runs first; 0 is the usual one.
    pub priority: i32,
    /// 0 = the host's default.
    pub deadline_ms: u32,
}

impl Hook {
    pub fn at(point: HookPoint) -> Self {
        Hook { point, priority: 0, deadline_ms: 0 }
    }
}

/// One hook call, borrowed from the host for the call.
#[derive(Clone, Debug)]
pub struct HookEvent<'a> {
    pub point: HookPoint,
    pub session_key: &'a str,
    pub session_id: &'a str,
    pub run_id: &'a str,
    /// A plugin id, or "operator".
    pub owner: &'a str,
    pub workspace_dir: &'a str,
    /// At the tool points only.
    pub tool_name: Option<&'a str>,
    pub tool_call_id: Option<&'a str>,
    /// A JSON object; its members per point are in hooks.h.
    pub payload_json: &'a str,
}

/// A hook's answer. Observers answer `Continue`; the host ignores the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Continue,
    /// Go on with this patch (a JSON object with the members the point allows).
    Patch(String),
    /// Refuse, with this reason.
    Block(String),
}

/// Reads a string field of a host-written struct, only where struct_size covers it.
macro_rules! field {
    ($raw:expr, $type:ty, $field:ident) => {
        if sys::pincer_struct_has($raw.struct_size, offset_of!($type, $field) + size_of::<*const c_char>()) {
            unsafe { text::borrowed($raw.$field) }
        } else {
            None
        }
    };
}

/// What a registration's `context` points at: the closure, boxed with what its
/// trampoline needs. `release::<F>` drops it.
pub(crate) struct Context<F> {
    pub(crate) host: Host,
    /// For messages: the tool's name, the hook's point, the gateway method or route.
    pub(crate) name: String,
    pub(crate) f: F,
}

/// The text of a panic's payload (what panic! was given).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// Logs a caught panic as an error line (the host prefixes the plugin's id).
/// A log that fails has nowhere else to go: the caller returns an error code anyway.
pub(crate) fn log_panic(host: Host, message: &str) {
    let _ = host.log(LogLevel::ERROR, message.replace('\0', "\\0"));
}

/// Runs `f` under catch_unwind; a panic is logged and becomes `Err(message)`.
pub(crate) fn guarded<R>(host: Host, what: std::fmt::Arguments<'_>, f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        // Formatting or dropping the payload could itself panic: keep it inside the guard too.
        let message = catch_unwind(AssertUnwindSafe(|| format!("{what} panicked: {}", panic_message(&*payload))))
            .unwrap_or_else(|_| format!("{what} panicked"));
        log_panic(host, &message);
        message
    })
}

unsafe extern "C" fn invoke_tool<F>(context: *mut c_void, call: *const sys::pincer_tool_call, out_text: *mut *mut c_char) -> Code
where
    F: Fn(&ToolCall<'_>) -> Result<String, Error> + Send + Sync + 'static,
{
    let context = &*(context as *const Context<F>);
    let host = context.host;
    let outcome = guarded(host, format_args!("tool {}", context.name), || {
        let raw = &*call;
        let call = ToolCall {
            session_key: field!(raw, sys::pincer_tool_call, session_key).unwrap_or(""),
            session_id: field!(raw, sys::pincer_tool_call, session_id).unwrap_or(""),
            run_id: field!(raw, sys::pincer_tool_call, run_id).unwrap_or(""),
            tool_call_id: field!(raw, sys::pincer_tool_call, tool_call_id).unwrap_or(""),
            tool_name: field!(raw, sys::pincer_tool_call, tool_name).unwrap_or(""),
            arguments_json: field!(raw, sys::pincer_tool_call, arguments_json).unwrap_or("{}"),
            workspace_dir: field!(raw, sys::pincer_tool_call, workspace_dir).unwrap_or(""),
        };
        (context.f)(&call)
    });
    let (code, text) = match outcome {
        Ok(Ok(text)) => (Code::OK, text),
        Ok(Err(error)) => (if error.code() == Code::OK { Code::PLUGIN } else { error.code() }, error.message().to_owned()),
        Err(panic) => (Code::PLUGIN, panic),
    };
    match host.alloc_text(&text) {
        Some(p) => {
            *out_text = p.as_ptr();
            code
        }
        None => {
            let why = format!("tool {}: its result could not be handed over (U+0000 in it, or no memory)", context.name);
            *out_text = host.alloc_text(&why).map_or(ptr::null_mut(), |p| p.as_ptr());
            Code::PLUGIN
        }
    }
}

unsafe extern "C" fn call_hook<F>(context: *mut c_void, event: *const sys::pincer_hook_event, decision: *mut sys::pincer_hook_decision) -> Code
where
    F: Fn(&HookEvent<'_>) -> Result<Decision, Error> + Send + Sync + 'static,
{
    let context = &*(context as *const Context<F>);
    let host = context.host;
    let outcome = guarded(host, format_args!("hook at {}", context.name), || {
        let raw = &*event;
        let event = HookEvent {
            point: raw.point,
            session_key: field!(raw, sys::pincer_hook_event, session_key).unwrap_or(""),
            session_id: field!(raw, sys::pincer_hook_event, session_id).unwrap_or(""),
            run_id: field!(raw, sys::pincer_hook_event, run_id).unwrap_or(""),
            owner: field!(raw, sys::pincer_hook_event, owner).unwrap_or(""),
            workspace_dir: field!(raw, sys::pincer_hook_event, workspace_dir).unwrap_or(""),
            tool_name: field!(raw, sys::pincer_hook_event, tool_name),
            tool_call_id: field!(raw, sys::pincer_hook_event, tool_call_id),
            payload_json: field!(raw, sys::pincer_hook_event, payload_json).unwrap_or("{}"),
        };
        (context.f)(&event)
    });
    let decision = &mut *decision;
    let covers = |end: usize| sys::pincer_struct_has(decision.struct_size, end);
    let can_verdict = covers(offset_of!(sys::pincer_hook_decision, verdict) + size_of::<Verdict>());
    let can_reason = covers(offset_of!(sys::pincer_hook_decision, reason) + size_of::<*mut c_char>());
    let can_patch = covers(offset_of!(sys::pincer_hook_decision, patch_json) + size_of::<*mut c_char>());
    let alloc = |text: &str| host.alloc_text(text).map_or(ptr::null_mut(), |p| p.as_ptr());
    match outcome {
        Ok(Ok(Decision::Continue)) => Code::OK,
        Ok(Ok(Decision::Patch(patch))) if can_patch => {
            decision.patch_json = alloc(&patch);
            if decision.patch_json.is_null() { Code::PLUGIN } else { Code::OK }
        }
        Ok(Ok(Decision::Block(reason))) if can_verdict => {
            decision.verdict = Verdict::BLOCK;
            if can_reason {
                decision.reason = alloc(&reason);
            }
            Code::OK
        }
        Ok(Ok(_)) => Code::PLUGIN,
        // A failed gate blocks (hooks.h); the reason says why, where the struct has room.
        Ok(Err(error)) => {
            if can_reason {
                decision.reason = alloc(error.message());
            }
            if error.code() == Code::OK { Code::PLUGIN } else { error.code() }
        }
        Err(panic) => {
            if can_reason {
                decision.reason = alloc(&panic);
            }
            Code::PLUGIN
        }
    }
}

pub(crate) unsafe extern "C" fn release<F>(context: *mut c_void) {
    // Copied out first: the box, and the name in it, are gone when a panic is reported.
    let (host, name) = {
        let context = &*(context as *const Context<F>);
        (context.host, context.name.clone())
    };
    let _ = guarded(host, format_args!("release of {name}"), || drop(Box::from_raw(context as *mut Context<F>)));
}

impl Host {
    /// Registers a tool whose calls run `f`; returns its registration. `f`
    /// answers the text the model reads, or an [`Error`] (its message reaches
    /// the model as the tool's error). `f` is dropped exactly once: when the
    /// registration is withdrawn and its last call has returned, or here if
    /// the host refuses the registration.
    pub fn register_tool<F>(&self, tool: &Tool<'_>, f: F) -> Result<Registration, Error>
    where
        F: Fn(&ToolCall<'_>) -> Result<String, Error> + Send + Sync + 'static,
    {
        let name = owned(tool.name, "tool name")?;
        let description = owned(tool.description, "tool description")?;
        let parameters = tool.parameters_json.map(|p| owned(p, "parameters_json")).transpose()?;
        let group = tool.group.map(|g| owned(g, "group")).transpose()?;
        let context = Box::into_raw(Box::new(Context { host: *self, name: tool.name.to_owned(), f }));
        let definition = sys::pincer_tool_definition {
            struct_size: size_of::<sys::pincer_tool_definition>() as u32,
            name: name.as_ptr(),
            description: description.as_ptr(),
            parameters_json: parameters.as_ref().map_or(ptr::null(), |p| p.as_ptr()),
            group: group.as_ref().map_or(ptr::null(), |g| g.as_ptr()),
            invoke: Some(invoke_tool::<F>),
            context: context.cast(),
            release: Some(release::<F>),
        };
        self.register_tool_raw(&definition).inspect_err(|_| {
            // Refused: the host never calls release, the closure is still ours.
            drop(unsafe { Box::from_raw(context) });
        })
    }

    /// Registers a hook whose calls run `f`; returns its registration. A gate
    /// answers a [`Decision`]; an observer answers `Decision::Continue`. An
    /// `Err` fails the call (a gate then blocks, with the error's message as
    /// its reason). `f` is dropped exactly once, as for [`Host::register_tool`].
    pub fn register_hook<F>(&self, hook: Hook, f: F) -> Result<Registration, Error>
    where
        F: Fn(&HookEvent<'_>) -> Result<Decision, Error> + Send + Sync + 'static,
    {
        let context = Box::into_raw(Box::new(Context { host: *self, name: format!("{:?}", hook.point), f }));
        let definition = sys::pincer_hook_definition {
            struct_size: size_of::<sys::pincer_hook_definition>() as u32,
            point: hook.point,
            priority: hook.priority,
            deadline_ms: hook.deadline_ms,
            call: Some(call_hook::<F>),
            context: context.cast(),
            release: Some(release::<F>),
        };
        self.register_hook_raw(&definition).inspect_err(|_| {
            drop(unsafe { Box::from_raw(context) });
        })
    }
}
