//! The Rust SDK's fixture plugin, "rs-fixture". At init it registers:
//!   rs-fixture.hello  answers "hello " + its arguments
//!   rs-fixture.fail   answers an error on purpose
//!   rs-fixture.boom   panics
//!   a before_tool_call gate that panics when the tool is `clock`
//! and its shutdown panics. Its "pincer.test/1" table runs the case "tour",
//! which calls every host function through the safe layer and checks the answers.
//! Its config can make init fail: {"initFails": "why"} returns an error after
//! registering a tool, {"initPanics": true} panics.

use std::ffi::{c_char, c_void, CStr};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use pincer::json::{self, Value};
use pincer::{cap, Code, Decision, Error, Hook, HookPoint, Host, LogLevel, Plugin, RunStatus, SpawnRequest, SteerOutcome, Tool};

static HOST: OnceLock<Host> = OnceLock::new();

/// Counts drops of the values a closure owns, to see release run exactly once.
static DROPS: AtomicUsize = AtomicUsize::new(0);
struct Counted;
impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

macro_rules! check {
    ($cond:expr, $($why:tt)*) => {
        if !$cond {
            return Err(format!("line {}: {}", line!(), format!($($why)*)));
        }
    };
}

fn expect_code<T: std::fmt::Debug>(result: Result<T, Error>, code: Code) -> Result<Error, String> {
    match result {
        Err(e) if e.code() == code => Ok(e),
        other => Err(format!("expected {code:?}, got {other:?}")),
    }
}

fn tour(host: Host) -> Result<(), String> {
    let e = |e: Error| e.to_string();
    // An extension this host lacks is None, not a crash (a plugin built for a newer minor degrades).
    check!(host.get_extension(c"pincer.acp/2").is_none(), "pincer.acp/2 (a revision nobody defines) is not offered");
    check!(host.abi_version().major == 1 && !host.host_name().is_empty(), "host identity");
    let config = json::parse(&host.get_config().map_err(e)?).map_err(|x| x.to_string())?;
    check!(config.get("greeting").and_then(Value::as_str) == Some("hi"), "config {config:?}");
    host.log(LogLevel::INFO, "tour starts").map_err(e)?;
    let nul = expect_code(host.log(LogLevel::INFO, "a\0b"), Code::INVALID_ARGUMENT)?;
    check!(nul.message().contains("U+0000"), "{nul}");

    let spawned = host
        .spawn(&SpawnRequest {
            label: Some("tour"),
            metadata_json: Some(r#"{"rs-fixture":{"k":1}}"#),
            tools_deny: &["clock"],
            ..SpawnRequest::new(r#"tour @sleep{"ms":400} @echo{"text":"done"}"#)
        })
        .map_err(e)?;
    let key = spawned.session_key.as_str();
    let mut streaming = false;
    for _ in 0..2000 {
        streaming = host.is_streaming(key).map_err(e)?;
        if streaming {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    check!(streaming, "never streaming");
    check!(host.steer(key, "turn left").map_err(e)? == SteerOutcome::QUEUED, "steer queued");
    let now = host.wait(&spawned.run_id, 0).map_err(e)?;
    check!(!now.ended() && now.final_text.is_none(), "a wait of 0 reports the run under way: {now:?}");
    check!(&*host.get_metadata(key).map_err(e)? == r#"{"k":1}"#, "metadata as handed at spawn");
    host.set_metadata(key, r#"{"k":2}"#).map_err(e)?;
    check!(&*host.get_metadata(key).map_err(e)? == r#"{"k":2}"#, "metadata replaced");
    check!(host.get_session(key).map_err(e)?.contains("\"tour\""), "the label in the session");
    let done = host.wait(&spawned.run_id, 10_000).map_err(e)?;
    check!(done.status == RunStatus::COMPLETED && done.final_text.as_deref().is_some_and(|t| t.contains("done")), "{done:?}");
    let transcript = host.messages(key, 0).map_err(e)?;
    check!(transcript.contains(r#""role":"steer","content":"turn left""#), "{transcript}");
    check!(!host.is_streaming(key).map_err(e)?, "streaming after the run");
    check!(host.steer(key, "late").map_err(e)? == SteerOutcome::NO_ACTIVE_RUN, "late steer");

    let again = host.prompt(key, r#"again @sleep{"ms":5000}"#).map_err(e)?;
    host.cancel_run(&again).map_err(e)?;
    let cancelled = host.wait(&again, 10_000).map_err(e)?;
    check!(cancelled.status == RunStatus::CANCELLED && cancelled.error.is_some(), "{cancelled:?}");
    check!(host.run_stop_requested(&again).map_err(e)?, "a cancelled run is asked to stop");

    for expected in [true, true, false] {
        let r = host.rate_limit_check("tour-key", 2, 60_000).map_err(e)?;
        check!(r.allowed == expected && (expected || r.retry_after_ms > 0), "{r:?}");
    }
    host.rate_limit_reset("tour-key").map_err(e)?;
    check!(host.rate_limit_check("tour-key", 2, 60_000).map_err(e)?.allowed, "allowed after reset");
    let bad = expect_code(host.rate_limit_check("tour-key", 0, 60_000), Code::INVALID_ARGUMENT)?;
    check!(!bad.message().is_empty(), "last_error read with the failure");

    check!(json::parse(&host.status().map_err(e)?).is_ok(), "status is JSON");
    check!(host.models().map_err(e)?.contains("local/scripted"), "the catalog");
    check!(json::parse(&host.gateway_request("models.list", None).map_err(e)?).is_ok(), "a read-only method");
    let unknown = expect_code(host.gateway_request("no.such.method", Some("{}")), Code::UNSUPPORTED)?;
    check!(unknown.message().contains("no.such.method"), "{unknown}");

    host.delete_session(key).map_err(e)?;
    let gone = expect_code(host.is_streaming(key), Code::NOT_FOUND)?;
    check!(gone.message().contains(key), "{gone}");

    // A refused registration hands the closure back (dropped once, here); an
    // accepted one is dropped once, by release, after unregister.
    let before = DROPS.load(Ordering::SeqCst);
    let counted = Counted;
    let refused = Tool { name: "someone-else.tool", description: "not ours", ..Default::default() };
    expect_code(host.register_tool(&refused, move |_| { let _ = &counted; Ok(String::new()) }), Code::INVALID_ARGUMENT)?;
    check!(DROPS.load(Ordering::SeqCst) == before + 1, "a refused tool's closure dropped once");
    let counted = Counted;
    let temporary = Tool { name: "rs-fixture.temporary", description: "withdrawn at once", ..Default::default() };
    let registration = host.register_tool(&temporary, move |_| { let _ = &counted; Ok(String::new()) }).map_err(e)?;
    let counted = Counted;
    let hook = host.register_hook(Hook::at(HookPoint::AFTER_TOOL_CALL), move |_| { let _ = &counted; Ok(Decision::Continue) }).map_err(e)?;
    check!(DROPS.load(Ordering::SeqCst) == before + 1, "nothing released while registered");
    host.unregister(registration).map_err(e)?;
    host.unregister(hook).map_err(e)?;
    check!(DROPS.load(Ordering::SeqCst) == before + 3, "each closure released once by unregister");
    expect_code(host.unregister(registration), Code::NOT_FOUND)?;
    Ok(())
}

/// "pincer.test/1": runs a named case, writing a report on failure; 0 when it passed.
unsafe extern "C" fn run_case(name: *const c_char, report: *mut c_char, capacity: usize) -> i32 {
    let outcome = std::panic::catch_unwind(|| {
        let host = *HOST.get().ok_or("not initialised")?;
        match CStr::from_ptr(name).to_str() {
            Ok("tour") => tour(host),
            other => Err(format!("unknown case {other:?}")),
        }
    });
    let failure = match outcome {
        Ok(Ok(())) => return 0,
        Ok(Err(why)) => why,
        Err(_) => "the case panicked".to_owned(),
    };
    let bytes = failure.as_bytes();
    let n = bytes.len().min(capacity.saturating_sub(1));
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), report.cast::<u8>(), n);
    *report.add(n) = 0;
    1
}

/// The table TestHost.caseRunner reads: one function pointer.
#[repr(C)]
pub struct TestTable(pub unsafe extern "C" fn(*const c_char, *mut c_char, usize) -> i32);
static TEST_TABLE: TestTable = TestTable(run_case);

struct Fixture;

impl Plugin for Fixture {
    fn init(host: Host, _plugin_path: &str) -> Result<Self, Error> {
        let _ = HOST.set(host);
        let config = json::parse(&host.get_config()?).map_err(Error::plugin)?;
        let tool = |name, description| Tool { name, description, ..Default::default() };
        host.register_tool(&tool("rs-fixture.hello", "Says hello with its arguments."), |call| Ok(format!("hello {}", call.arguments_json)))?;
        host.register_tool(&tool("rs-fixture.fail", "Fails on purpose."), |_| Err(Error::plugin("refused on purpose")))?;
        host.register_tool(&tool("rs-fixture.boom", "Panics on purpose."), |call| panic!("boom in {}", call.tool_name))?;
        host.register_hook(Hook::at(HookPoint::BEFORE_TOOL_CALL), |event| {
            if event.tool_name == Some("clock") {
                panic!("the gate will not tell the time");
            }
            Ok(Decision::Continue)
        })?;
        if let Some(why) = config.get("initFails").and_then(Value::as_str) {
            return Err(Error::new(Code::LIMIT, why));
        }
        if config.get("initPanics").and_then(Value::as_bool) == Some(true) {
            panic!("init panics on purpose");
        }
        Ok(Fixture)
    }

    fn shutdown(self, _host: Host) {
        panic!("shutdown panics on purpose");
    }

    fn get_extension(&self, _host: Host, id: &CStr) -> Option<NonNull<c_void>> {
        (id == c"pincer.test/1").then(|| NonNull::from(&TEST_TABLE).cast())
    }
}

pincer::declare_plugin! {
    plugin: Fixture,
    id: "rs-fixture",
    name: "Rust SDK fixture",
    version: "0.1.0",
    capabilities: [cap::SESSIONS_SPAWN, cap::SESSIONS_READ, cap::SESSIONS_PROMPT, cap::SESSIONS_STEER, cap::SESSIONS_DELETE,
                   cap::SESSIONS_METADATA, cap::RATE_LIMIT, cap::HOST_READ, cap::TOOLS_REGISTER, cap::HOOKS_GATE, cap::HOOKS_OBSERVE],
}
