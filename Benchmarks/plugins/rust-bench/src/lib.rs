//! The Rust benchmark plugin, "bench-rs": offers "pincer.bench-rs/1", whose
//! functions time is_streaming and rate_limit_check from Rust, either through
//! the safe layer (`Host` methods taking `&str`: the C-string conversion and
//! the `Result` are part of the figure) or raw through `pincer::sys` (what a C
//! plugin does), and registers the tool `bench-rs.echo` for the tool round trip.

use std::ffi::{c_char, c_void, CStr, CString};
use std::hint::black_box;
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::time::Instant;

use pincer::{cap, Error, Host, Plugin, Tool};

static HOST: OnceLock<Host> = OnceLock::new();

/// ns per call, or -1 when a call failed or the timing panicked (a figure of failures means nothing).
fn timed(iterations: u64, body: impl FnOnce() -> u64) -> f64 {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let start = Instant::now();
        let failures = body();
        let elapsed = start.elapsed().as_nanos() as f64;
        if failures > 0 { -1.0 } else { elapsed / iterations as f64 }
    }))
    .unwrap_or(-1.0)
}

/// ns per is_streaming call on `key`: `mode` 1 through `Host::is_streaming` with a `&str`
/// key, 2 with a `&CStr` key (no conversion), 0 raw through sys.
unsafe extern "C" fn is_streaming(key: *const c_char, iterations: u64, mode: i32) -> f64 {
    let Some(&host) = HOST.get() else { return -1.0 };
    let key = CStr::from_ptr(key);
    if mode == 2 {
        timed(iterations, || {
            let mut failures = 0;
            for _ in 0..iterations {
                match host.is_streaming(black_box(key)) {
                    Ok(streaming) => { black_box(streaming); }
                    Err(_) => failures += 1,
                }
            }
            failures
        })
    } else if mode == 1 {
        // An author holds keys as Rust strings.
        let key = key.to_str().unwrap_or_default().to_owned();
        timed(iterations, || {
            let mut failures = 0;
            for _ in 0..iterations {
                match host.is_streaming(black_box(key.as_str())) {
                    Ok(streaming) => { black_box(streaming); }
                    Err(_) => failures += 1,
                }
            }
            failures
        })
    } else {
        let raw = host.as_raw();
        let Some(f) = (*raw).is_streaming else { return -1.0 };
        timed(iterations, || {
            let mut failures = 0;
            let mut streaming = false;
            for _ in 0..iterations {
                failures += (f(raw, black_box(key.as_ptr()), &mut streaming) != pincer::Code::OK) as u64;
                black_box(streaming);
            }
            failures
        })
    }
}

/// ns per rate_limit_check cycling through `key_count` keys; counts the allowed into *allowed.
unsafe extern "C" fn rate_limit(key_count: u32, iterations: u64, max_requests: u32, window_ms: u64, safe: i32, allowed: *mut u64) -> f64 {
    let Some(&host) = HOST.get() else { return -1.0 };
    // The C plugin's keys (in this plugin's own namespace): both modes check the same windows.
    let keys: Vec<String> = (0..key_count).map(|k| format!("198.51.{}.{}", k / 256, k % 256)).collect();
    let mut ok = 0u64;
    let figure = if safe != 0 {
        timed(iterations, || {
            let mut failures = 0;
            let mut k = 0;
            for _ in 0..iterations {
                match host.rate_limit_check(keys[k].as_str(), max_requests, window_ms) {
                    Ok(r) => ok += r.allowed as u64,
                    Err(_) => failures += 1,
                }
                k = if k + 1 == keys.len() { 0 } else { k + 1 };
            }
            failures
        })
    } else {
        let keys: Vec<CString> = keys.into_iter().map(|k| CString::new(k).unwrap()).collect();
        let raw = host.as_raw();
        let Some(f) = (*raw).rate_limit_check else { return -1.0 };
        timed(iterations, || {
            let mut failures = 0;
            let mut k = 0;
            let mut r = pincer::sys::pincer_rate_limit_result {
                struct_size: std::mem::size_of::<pincer::sys::pincer_rate_limit_result>() as u32,
                allowed: false, remaining: 0, retry_after_ms: 0,
            };
            for _ in 0..iterations {
                failures += (f(raw, keys[k].as_ptr(), max_requests, window_ms, &mut r) != pincer::Code::OK) as u64;
                ok += r.allowed as u64;
                k = if k + 1 == keys.len() { 0 } else { k + 1 };
            }
            failures
        })
    };
    *allowed = ok;
    figure
}

/// Forgets the windows of the first `key_count` keys rate_limit uses, so a fill can be timed again.
unsafe extern "C" fn reset_keys(key_count: u32) {
    let Some(&host) = HOST.get() else { return };
    let _ = std::panic::catch_unwind(|| {
        for k in 0..key_count {
            let _ = host.rate_limit_reset(format!("198.51.{}.{}", k / 256, k % 256));
        }
    });
}

/// The table pincer-bench reads.
#[repr(C)]
pub struct BenchTable {
    pub is_streaming: unsafe extern "C" fn(*const c_char, u64, i32) -> f64,
    pub rate_limit: unsafe extern "C" fn(u32, u64, u32, u64, i32, *mut u64) -> f64,
    pub reset_keys: unsafe extern "C" fn(u32),
}
static TABLE: BenchTable = BenchTable { is_streaming, rate_limit, reset_keys };

struct Bench;

impl Plugin for Bench {
    fn init(host: Host, _plugin_path: &str) -> Result<Self, Error> {
        let _ = HOST.set(host);
        let echo = Tool { name: "bench-rs.echo", description: "Answers ok.", ..Default::default() };
        host.register_tool(&echo, |_| Ok("ok".to_owned()))?;
        Ok(Bench)
    }

    fn get_extension(&self, _host: Host, id: &CStr) -> Option<NonNull<c_void>> {
        (id == c"pincer.bench-rs/1").then(|| NonNull::from(&TABLE).cast())
    }
}

pincer::declare_plugin! {
    plugin: Bench,
    id: "bench-rs",
    name: "Rust benchmark",
    version: "0.1.0",
    description: "Times host calls through the Rust SDK.",
    capabilities: [cap::SESSIONS_READ, cap::RATE_LIMIT, cap::TOOLS_REGISTER],
}
