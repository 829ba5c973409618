//! Following a run (runs.h, "pincer.runs/1", ABI 1.1): the host pushes each of
//! its events, then its end, to a closure — on the plugin's events lane, one
//! call at a time, in order. The non-blocking form of [`Host::wait`], for a
//! plugin that must not hold a thread per run.
//!
//! The closure is boxed as the follow's context; the host's release drops the
//! box once, after the last call (END, an unregister, or the plugin stopping),
//! or it is dropped here when follow() is refused. A panic in the closure is
//! caught and logged, never unwound into the host.

use std::ffi::c_void;
use std::ptr;

use crate::callbacks::{guarded, release, Context};
use crate::text::{lossy, CText};
use crate::{sys, Code, Error, Host, Registration, RunStatus};

/// One call of a follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEvent {
    /// An event the run recorded: its number from 0, and the event as a JSON object
    /// (`{"kind": "turn" | "tool_call" | …, "at": …, …}`).
    Event { seq: u64, json: String },
    /// Events the lane had no room for: the first one's number and how many.
    Gap { first: u64, missed: u64 },
    /// The run ended (once, last): what wait() would answer, and how many events it recorded.
    End { status: RunStatus, final_text: Option<String>, error: Option<String>, duration_ms: u64, events: u64 },
}

/// The host's "pincer.runs/1" table, for the plugin's own handle.
#[derive(Copy, Clone)]
pub struct Runs {
    host: Host,
    // Owned by the host, immutable and valid until the plugin is dead, as the Host is: only
    // u32 and function pointers, so the handle is Send + Sync with no unsafe impl.
    table: &'static sys::pincer_runs_v1,
}

impl Host {
    /// The host's run follower ("pincer.runs/1", ABI 1.1); None on an older host: wait() instead.
    pub fn runs(&self) -> Option<Runs> {
        self.extension_table(sys::PINCER_RUNS_EXTENSION_ID).map(|table| Runs { host: *self, table })
    }
}

impl Runs {
    /// Follows run `run_id`: `f` gets each event (unless `end_only`), then [`RunEvent::End`].
    /// The registration ends by itself after END; [`Host::unregister`] stops it earlier.
    pub fn follow<F>(&self, run_id: &str, end_only: bool, f: F) -> Result<Registration, Error>
    where
        F: Fn(RunEvent) + Send + Sync + 'static,
    {
        let Some(follow) = self.table.follow else { return Err(Error::new(Code::UNSUPPORTED, "the host's pincer.runs/1 has no follow")) };
        let context: *mut Context<F> = Box::into_raw(Box::new(Context { host: self.host, name: format!("follow of {run_id}"), f }));
        let mut registration = 0;
        let code = run_id.with_c(|run| {
            let request = sys::pincer_run_follow {
                struct_size: std::mem::size_of::<sys::pincer_run_follow>() as u32,
                flags: if end_only { sys::PINCER_RUN_FOLLOW_END_ONLY } else { 0 },
                run_id: run,
                on_event: Some(on_event::<F>),
                context: context.cast(),
                release: Some(release::<F>),
            };
            unsafe { follow(self.host.as_raw(), &request, &mut registration) }
        });
        let code = match code {
            Ok(code) => code,
            Err(error) => {
                drop(unsafe { Box::from_raw(context) });
                return Err(error);
            }
        };
        self.host.check(code).map(|()| Registration(registration)).inspect_err(|_| {
            drop(unsafe { Box::from_raw(context) });
        })
    }
}

/// Text the host handed over, or None for NULL.
fn text(pointer: *const std::ffi::c_char) -> Option<String> {
    unsafe { lossy(pointer) }
}

unsafe extern "C" fn on_event<F>(context: *mut c_void, event: *const sys::pincer_run_event)
where
    F: Fn(RunEvent) + Send + Sync + 'static,
{
    let context = &*(context as *const Context<F>);
    if event.is_null() || ((*event).struct_size as usize) < std::mem::size_of::<sys::pincer_run_event>() {
        return;
    }
    let e = ptr::read(event);
    let call = match e.kind {
        sys::PINCER_RUN_EVENT => RunEvent::Event { seq: e.seq, json: text(e.event_json).unwrap_or_default() },
        sys::PINCER_RUN_GAP => RunEvent::Gap { first: e.seq, missed: e.missed },
        sys::PINCER_RUN_END => RunEvent::End {
            status: RunStatus(e.status),
            final_text: text(e.final_text),
            error: text(e.error),
            duration_ms: e.duration_ms,
            events: e.seq,
        },
        _ => return, // a kind a newer host adds
    };
    let _ = guarded(context.host, format_args!("{}", context.name), || (context.f)(call));
}
