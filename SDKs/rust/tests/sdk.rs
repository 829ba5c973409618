//! What the crate promises without a host: the layout matches the ABI's
//! description, enums keep unknown values, text converts as documented, JSON
//! reads what the host writes, and declare_plugin! builds a valid entry.

use std::ffi::{c_char, CStr};

use pincer::json::{self, Value};
use pincer::sys;
use pincer::{CText, Code, HookPoint, LogLevel, RunStatus, SteerOutcome};

/// A struct of the description: name, size, align, and (field, offset) in order.
type Described = (String, u64, u64, Vec<(String, u64)>);

/// Include/pincer/layout/abi-1.0.json, then abi-1.1.json (the structs minor
/// 1.1 adds), read with the crate's own JSON reader.
fn description() -> Vec<Described> {
    ["abi-1.0.json", "abi-1.1.json", "abi-1.2.json"].iter().flat_map(|file| described(file)).collect()
}

fn described(file: &str) -> Vec<Described> {
    let path = format!("{}/../../Include/pincer/layout/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the layout description");
    let doc = json::parse(&text).expect("valid JSON");
    doc.get("structs").and_then(Value::as_array).expect("structs").iter().map(|s| {
        let fields = s.get("fields").and_then(Value::as_array).unwrap().iter()
            .map(|f| (f.get("name").and_then(Value::as_str).unwrap().to_owned(), f.get("offset").and_then(Value::as_u64).unwrap()))
            .collect();
        (s.get("name").and_then(Value::as_str).unwrap().to_owned(), s.get("size").and_then(Value::as_u64).unwrap(),
         s.get("align").and_then(Value::as_u64).unwrap(), fields)
    }).collect()
}

#[test]
fn every_struct_matches_the_layout_description() {
    let ours = sys::layout::describe();
    let expected = description();
    assert_eq!(ours.iter().map(|s| s.name).collect::<Vec<_>>(), expected.iter().map(|s| s.0.as_str()).collect::<Vec<_>>());
    for (s, (name, size, align, fields)) in ours.iter().zip(&expected) {
        assert_eq!((s.size as u64, s.align as u64), (*size, *align), "{name}");
        let offsets: Vec<(String, u64)> = s.fields.iter().map(|(f, o)| (f.to_string(), *o as u64)).collect();
        assert_eq!(&offsets, fields, "{name}");
    }
}

#[test]
fn gateway_constants_match_gateway_h() {
    assert_eq!(sys::PINCER_GATEWAY_EXTENSION_ID, c"pincer.gateway/1");
    assert_eq!(sys::PINCER_CAP_GATEWAY_SERVE, c"gateway.serve");
    assert_eq!(pincer::cap::GATEWAY_SERVE, c"gateway.serve");
    assert_eq!((sys::PINCER_GATEWAY_ROUTE_PREFIX, sys::PINCER_GATEWAY_ROUTE_PUBLIC), (1, 2));
    assert_eq!((sys::PINCER_GATEWAY_METHOD.0, sys::PINCER_GATEWAY_ROUTE.0), (0, 1));
    assert_eq!(format!("{:?}", pincer::GatewayRequestKind::ROUTE), "PINCER_GATEWAY_ROUTE");
    assert_eq!(format!("{:?}", pincer::GatewayRequestKind(7)), "GatewayRequestKind(7)");
    assert_eq!(
        [sys::PINCER_GATEWAY_MAX_METHODS_PER_PLUGIN, sys::PINCER_GATEWAY_MAX_ROUTES_PER_PLUGIN, sys::PINCER_GATEWAY_NAME_MAX_BYTES,
         sys::PINCER_GATEWAY_DESCRIPTION_MAX_BYTES, sys::PINCER_GATEWAY_PATH_MAX_BYTES, sys::PINCER_GATEWAY_MAX_PENDING_REPLIES],
        [64, 64, 64, 4096, 256, 256]
    );
    assert_eq!(
        [sys::PINCER_GATEWAY_REPLY_MAX_BYTES, sys::PINCER_GATEWAY_MAX_RESPONSE_HEADERS, sys::PINCER_GATEWAY_HEADER_MAX_BYTES,
         sys::PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES],
        [16 << 20, 64, 8 << 10, 1 << 20]
    );
    assert_eq!(std::mem::size_of::<sys::pincer_gateway_reply>(), 8);
}

#[test]
fn gateway_offsets_are_abi_1_1s() {
    // The numbers of abi-1.1.json, written out, so a change of either side shows here too.
    use std::mem::{offset_of, size_of};
    use sys::{pincer_gateway_request as R, pincer_gateway_response as P, pincer_gateway_route_definition as D, pincer_gateway_v1 as V};
    assert_eq!(size_of::<sys::pincer_gateway_header>(), 16);
    assert_eq!((size_of::<R>(), offset_of!(R, kind), offset_of!(R, reply), offset_of!(R, headers), offset_of!(R, body_len), offset_of!(R, client_address)),
               (88, 4, 8, 40, 64, 80));
    assert_eq!((size_of::<sys::pincer_gateway_method_definition>(), offset_of!(sys::pincer_gateway_method_definition, handler)), (48, 24));
    assert_eq!((size_of::<D>(), offset_of!(D, flags), offset_of!(D, method), offset_of!(D, handler), offset_of!(D, release)), (48, 4, 8, 24, 40));
    assert_eq!((size_of::<P>(), offset_of!(P, status), offset_of!(P, header_count), offset_of!(P, body_len)), (40, 4, 16, 32));
    assert_eq!((size_of::<V>(), offset_of!(V, register_method), offset_of!(V, stream_write), offset_of!(V, stream_end)), (72, 8, 56, 64));
}

#[test]
fn run_follow_offsets_are_abi_1_1s() {
    use std::mem::{offset_of, size_of};
    use sys::{pincer_run_event as E, pincer_run_follow as F};
    assert_eq!((size_of::<E>(), offset_of!(E, seq), offset_of!(E, event_json), offset_of!(E, status), offset_of!(E, final_text), offset_of!(E, duration_ms)),
               (72, 16, 32, 40, 48, 64));
    assert_eq!((size_of::<F>(), offset_of!(F, run_id), offset_of!(F, on_event), offset_of!(F, release)), (40, 8, 16, 32));
    assert_eq!((size_of::<sys::pincer_runs_v1>(), offset_of!(sys::pincer_runs_v1, follow)), (16, 8));
}

#[test]
fn result_minimums_are_the_ends_of_the_1_0_fields() {
    assert_eq!(sys::PINCER_SPAWN_RESULT_MIN_SIZE, 196);
    assert_eq!(sys::PINCER_RUN_REF_MIN_SIZE, 68);
    assert_eq!(sys::PINCER_RUN_INFO_MIN_SIZE, 32);
    assert_eq!(sys::PINCER_RATE_LIMIT_RESULT_MIN_SIZE, 24);
}

#[test]
fn enums_name_known_values_and_keep_unknown_ones() {
    assert_eq!(Code::WOULD_BLOCK, sys::PINCER_ERR_WOULD_BLOCK);
    assert_eq!(format!("{:?}", Code::NOT_FOUND), "PINCER_ERR_NOT_FOUND");
    // A code a newer minor adds still travels, and reads as unknown rather than as UB.
    let newer = Code(42);
    assert_eq!(newer.name(), None);
    assert_eq!(format!("{newer:?}"), "Code(42)");
    assert_eq!(format!("{:?}", SteerOutcome(9)), "SteerOutcome(9)");
    assert_eq!(HookPoint::RUN_EVENT.0, 4);
    assert_eq!(RunStatus::INTERRUPTED.0, 6);
    assert_eq!(LogLevel::ERROR.name(), Some("PINCER_LOG_ERROR"));
    assert_eq!(std::mem::size_of::<Code>(), 4);
}

#[test]
fn version_rule_matches_version_h() {
    let v = sys::PINCER_ABI_VERSION_INIT;
    assert!(sys::pincer_version_is_compatible(v));
    assert!(!sys::pincer_version_is_compatible(sys::pincer_version { major: 2, ..v }));
    assert!(!sys::pincer_version_is_compatible(sys::pincer_version { prerelease: 1, ..v }));
    // While this is a candidate, the final of the same minor may differ: refused.
    assert!(!sys::pincer_version_is_compatible(sys::pincer_version { prerelease: 0, ..v }));
    assert!(sys::pincer_version_is_compatible(sys::pincer_version { minor: 1, prerelease: 0, ..v }));
}

fn through_c(text: &str) -> Result<String, pincer::Error> {
    text.with_c(|p| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

#[test]
fn text_goes_in_nul_terminated_and_u0000_is_refused() {
    assert_eq!(through_c("198.51.0.1").unwrap(), "198.51.0.1");
    assert_eq!(through_c("").unwrap(), "");
    let long = "é".repeat(400);
    assert_eq!(through_c(&long).unwrap(), long, "past the stack buffer");
    let exactly = "x".repeat(255);
    assert_eq!(through_c(&exactly).unwrap(), exactly);
    let error = through_c("a\0b").unwrap_err();
    assert_eq!(error.code(), Code::INVALID_ARGUMENT);
    assert!(error.message().contains("U+0000"), "{error}");
    // The word-at-a-time copy finds a NUL wherever it is, in the words and in the tail.
    for len in 1..40 {
        for at in 0..len {
            let mut text = vec![b'k'; len];
            text[at] = 0;
            let text = String::from_utf8(text).unwrap();
            assert!(through_c(&text).is_err(), "U+0000 at {at} of {len} passed");
        }
        let clean = "k".repeat(len);
        assert_eq!(through_c(&clean).unwrap(), clean);
    }
    assert_eq!(through_c("\u{80}\u{ff}ÿ").unwrap(), "\u{80}\u{ff}ÿ", "bytes with the high bit set are not zeros");
    assert_eq!(c"as is".with_c(|p| unsafe { CStr::from_ptr(p) }.to_bytes().len()).unwrap(), 5);
}

#[test]
fn json_reads_what_the_host_writes() {
    let v = json::parse(r#" {"kind":"turn","text":"a \"q\" \u00e9 \ud83d\ude00\n","n":18446744073709551615,"ok":true,"x":null,"l":[1,{}]} "#).unwrap();
    assert_eq!(v.get("kind").and_then(Value::as_str), Some("turn"));
    assert_eq!(v.get("text").and_then(Value::as_str), Some("a \"q\" é 😀\n"));
    assert_eq!(v.get("n").and_then(Value::as_u64), Some(u64::MAX));
    assert_eq!(v.get("ok").and_then(Value::as_bool), Some(true));
    assert_eq!(v.get("x"), Some(&Value::Null));
    assert_eq!(v.get("l").and_then(Value::as_array).map(<[Value]>::len), Some(2));
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"\\x\"", &"[".repeat(200)] {
        assert!(json::parse(bad).is_err(), "{bad:?} parsed");
    }
    let escaped = json::string("say \"hi\"\n\u{1}\\");
    assert_eq!(escaped, r#""say \"hi\"\n\u0001\\""#);
    assert_eq!(json::parse(&escaped).unwrap().as_str(), Some("say \"hi\"\n\u{1}\\"));
}

mod declared {
    use pincer::{cap, Error, Host, Plugin};
    pub struct Probe;
    impl Plugin for Probe {
        fn init(_host: Host, _path: &str) -> Result<Self, Error> {
            Ok(Probe)
        }
    }
    pincer::declare_plugin! {
        plugin: Probe,
        id: "probe",
        name: "Probe",
        version: "0.0.1",
        capabilities: [cap::RATE_LIMIT, cap::HOOKS_OBSERVE],
    }
    extern "C" {
        pub static pincer_plugin: pincer::sys::pincer_plugin_entry;
    }
}

fn c(p: *const c_char) -> &'static str {
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

#[test]
fn declare_plugin_builds_a_complete_entry_and_descriptor() {
    let entry = unsafe { &declared::pincer_plugin };
    assert_eq!(entry.abi_version, sys::PINCER_ABI_VERSION_INIT);
    assert_eq!(entry.struct_size as usize, std::mem::size_of::<sys::pincer_plugin_entry>());
    assert!(entry.init.is_some() && entry.shutdown.is_some() && entry.start.is_some() && entry.get_extension.is_some());
    let d = unsafe { &*entry.descriptor };
    assert_eq!(d.struct_size, 64);
    assert_eq!((c(d.id), c(d.name), c(d.version)), ("probe", "Probe", "0.0.1"));
    assert!(d.description.is_null());
    assert_eq!(c(d.language), "rust");
    assert_eq!(c(d.sdk), concat!("pincer-rs/", env!("CARGO_PKG_VERSION")));
    let caps: Vec<&str> = (0..).map(|i| unsafe { *d.capabilities.add(i) }).take_while(|p| !p.is_null()).map(c).collect();
    assert_eq!(caps, ["rate_limit", "hooks.observe"]);
}

#[test]
fn init_refuses_a_null_handle_without_calling_the_plugin() {
    let entry = unsafe { &declared::pincer_plugin };
    let mut error = [0 as c_char; 64];
    let code = unsafe { entry.init.unwrap()(std::ptr::null(), c"x.so".as_ptr(), error.as_mut_ptr(), error.len()) };
    assert_eq!(code, Code::INVALID_ARGUMENT);
}

/// Plugins hand these handles to their own threads: each must stay Send + Sync.
#[test]
fn host_and_extension_handles_are_send_and_sync() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<pincer::Host>();
    send_and_sync::<pincer::Gateway>();
    send_and_sync::<pincer::Runs>();
    send_and_sync::<pincer::Acp>();
}
