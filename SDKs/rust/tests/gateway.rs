//! The gateway's safe layer against a fake host: what the definitions carry,
//! what a handler is handed, what each answer sends, what a panic answers, and
//! that a closure is dropped exactly once. The fake keeps gateway.h's reply
//! rule (a request is answered once; after that NOT_FOUND), nothing more: the
//! real host is exercised by the sample plugins' tests.

use std::collections::{HashSet, VecDeque};
use std::ffi::{c_char, c_void, CStr, CString};
use std::mem::{offset_of, size_of};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use pincer::sys::{self, Code};
use pincer::{sse_event, GatewayRequest, GatewayRequestKind, Host, Registration, Reply, Route};

/// What the fake host saw, in order.
#[derive(Clone, Debug, PartialEq)]
enum Call {
    Result(u64, String),
    Error(u64, i32, String),
    Respond(u64, u32, Vec<(String, String)>, Vec<u8>),
    /// A stream's head; `bool`: its body was NULL and 0, as gateway.h requires.
    Start(u64, u32, Vec<(String, String)>, bool),
    Write(u64, Vec<u8>),
    End(u64),
}

/// A registration the fake accepted: its strings, and the trampolines to call.
struct Defined {
    struct_size: u32,
    name: Option<String>,
    description: Option<String>,
    flags: u32,
    handler: sys::pincer_gateway_handler,
    context: usize,
    release: sys::pincer_release_fn,
}

#[derive(Default)]
struct Fake {
    table: Option<&'static sys::pincer_gateway_v1>,
    /// What register_* answers instead of OK, with its last_error message.
    refuse: Option<(Code, &'static CStr)>,
    /// What stream_write answers, in turn (OK once they run out).
    writes: Mutex<VecDeque<Code>>,
    answered: Mutex<HashSet<u64>>,
    calls: Mutex<Vec<Call>>,
    defined: Mutex<Vec<Defined>>,
    logs: Mutex<Vec<String>>,
    last_error: Mutex<Option<CString>>,
}

unsafe fn fake<'a>(host: *const sys::pincer_host) -> &'a Fake {
    &*((*host).host_data as *const Fake)
}

unsafe fn text(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_str().unwrap().to_owned())
}

unsafe fn bytes(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 { Vec::new() } else { std::slice::from_raw_parts(p, len).to_vec() }
}

unsafe fn headers(h: *const sys::pincer_gateway_header, count: usize) -> Vec<(String, String)> {
    (0..count).map(|i| (text((*h.add(i)).name).unwrap(), text((*h.add(i)).value).unwrap())).collect()
}

unsafe extern "C" fn get_extension(host: *const sys::pincer_host, id: *const c_char) -> *const c_void {
    match fake(host).table {
        Some(table) if CStr::from_ptr(id) == sys::PINCER_GATEWAY_EXTENSION_ID => (table as *const sys::pincer_gateway_v1).cast(),
        _ => ptr::null(),
    }
}

unsafe extern "C" fn last_error(host: *const sys::pincer_host) -> *const c_char {
    fake(host).last_error.lock().unwrap().as_ref().map_or(c"".as_ptr(), |e| e.as_ptr())
}

unsafe extern "C" fn log(host: *const sys::pincer_host, _level: sys::LogLevel, message: *const c_char) -> Code {
    fake(host).logs.lock().unwrap().push(text(message).unwrap());
    Code::OK
}

unsafe fn define(host: *const sys::pincer_host, defined: Defined, out: *mut u64) -> Code {
    let fake = fake(host);
    if let Some((code, message)) = fake.refuse {
        *fake.last_error.lock().unwrap() = Some(message.to_owned());
        return code;
    }
    let mut all = fake.defined.lock().unwrap();
    all.push(defined);
    *out = all.len() as u64;
    Code::OK
}

unsafe extern "C" fn register_method(host: *const sys::pincer_host, d: *const sys::pincer_gateway_method_definition, out: *mut u64) -> Code {
    let d = &*d;
    let defined = Defined { struct_size: d.struct_size, name: text(d.name), description: text(d.description), flags: 0,
                            handler: d.handler, context: d.context as usize, release: d.release };
    define(host, defined, out)
}

unsafe extern "C" fn register_route(host: *const sys::pincer_host, d: *const sys::pincer_gateway_route_definition, out: *mut u64) -> Code {
    let d = &*d;
    // A route's method goes in `name`, its path in `description`.
    let defined = Defined { struct_size: d.struct_size, name: text(d.method), description: text(d.path), flags: d.flags,
                            handler: d.handler, context: d.context as usize, release: d.release };
    define(host, defined, out)
}

/// Records a call; `last`: it answers the request, which may happen once.
unsafe fn record(host: *const sys::pincer_host, reply: u64, last: bool, call: Call) -> Code {
    let fake = fake(host);
    if fake.answered.lock().unwrap().contains(&reply) || (last && !fake.answered.lock().unwrap().insert(reply)) {
        return Code::NOT_FOUND;
    }
    fake.calls.lock().unwrap().push(call);
    Code::OK
}

unsafe extern "C" fn reply_result(host: *const sys::pincer_host, reply: u64, json: *const c_char) -> Code {
    record(host, reply, true, Call::Result(reply, text(json).unwrap()))
}

unsafe extern "C" fn reply_error(host: *const sys::pincer_host, reply: u64, code: i32, message: *const c_char) -> Code {
    record(host, reply, true, Call::Error(reply, code, text(message).unwrap()))
}

unsafe extern "C" fn respond(host: *const sys::pincer_host, reply: u64, r: *const sys::pincer_gateway_response) -> Code {
    let r = &*r;
    assert_eq!(r.struct_size as usize, size_of::<sys::pincer_gateway_response>());
    record(host, reply, true, Call::Respond(reply, r.status, headers(r.headers, r.header_count), bytes(r.body, r.body_len)))
}

unsafe extern "C" fn stream_start(host: *const sys::pincer_host, reply: u64, r: *const sys::pincer_gateway_response) -> Code {
    let r = &*r;
    record(host, reply, false, Call::Start(reply, r.status, headers(r.headers, r.header_count), r.body.is_null() && r.body_len == 0))
}

unsafe extern "C" fn stream_write(host: *const sys::pincer_host, reply: u64, data: *const u8, len: usize) -> Code {
    let code = fake(host).writes.lock().unwrap().pop_front().unwrap_or(Code::OK);
    if code != Code::OK {
        *fake(host).last_error.lock().unwrap() = Some(CString::new(format!("write answered {code:?}")).unwrap());
        return code;
    }
    record(host, reply, false, Call::Write(reply, bytes(data, len)))
}

unsafe extern "C" fn stream_end(host: *const sys::pincer_host, reply: u64) -> Code {
    record(host, reply, true, Call::End(reply))
}

const TABLE: sys::pincer_gateway_v1 = sys::pincer_gateway_v1 {
    struct_size: size_of::<sys::pincer_gateway_v1>() as u32,
    register_method: Some(register_method),
    register_route: Some(register_route),
    reply_result: Some(reply_result),
    reply_error: Some(reply_error),
    respond: Some(respond),
    stream_start: Some(stream_start),
    stream_write: Some(stream_write),
    stream_end: Some(stream_end),
};
static FULL: sys::pincer_gateway_v1 = TABLE;
/// A table that ends before stream_end: the crate must not use it.
static SHORT: sys::pincer_gateway_v1 = sys::pincer_gateway_v1 { struct_size: 64, ..TABLE };

/// A host whose gateway is `table`, and its fake state; both live until the test process ends.
fn host_with(fake: Fake) -> (Host, &'static Fake) {
    let fake: &'static Fake = Box::leak(Box::new(fake));
    let mut raw: sys::pincer_host = unsafe { std::mem::zeroed() };
    raw.struct_size = size_of::<sys::pincer_host>() as u32;
    raw.host_data = fake as *const Fake as *mut c_void;
    raw.get_extension = Some(get_extension);
    raw.last_error = Some(last_error);
    raw.log = Some(log);
    let raw: &'static sys::pincer_host = Box::leak(Box::new(raw));
    (unsafe { Host::from_raw(raw) }.unwrap(), fake)
}

fn host() -> (Host, &'static Fake) {
    host_with(Fake { table: Some(&FULL), ..Fake::default() })
}

/// The strings a request points at, kept alive while the handler runs.
struct Request {
    kind: GatewayRequestKind,
    reply: u64,
    method: CString,
    path: Option<CString>,
    query: Option<CString>,
    headers: Vec<(CString, CString)>,
    /// With the NUL gateway.h puts after the last byte.
    body: Vec<u8>,
    principal: Option<CString>,
}

impl Request {
    fn method(reply: u64, name: &str, params: &str) -> Self {
        Request { kind: GatewayRequestKind::METHOD, reply, method: CString::new(name).unwrap(), path: None, query: None, headers: vec![],
                  body: [params.as_bytes(), b"\0"].concat(), principal: Some(c"operator".to_owned()) }
    }

    fn route(reply: u64, verb: &str, path: &str, body: &[u8]) -> Self {
        Request { kind: GatewayRequestKind::ROUTE, reply, method: CString::new(verb).unwrap(), path: Some(CString::new(path).unwrap()),
                  query: Some(c"a=1".to_owned()), headers: vec![(c"content-type".to_owned(), c"application/json".to_owned())],
                  body: [body, b"\0"].concat(), principal: None }
    }

    /// Calls the registration's handler with this request as the host lays it out, `struct_size` as given.
    fn send_sized(&self, to: &Defined, struct_size: u32) {
        let headers: Vec<sys::pincer_gateway_header> =
            self.headers.iter().map(|(n, v)| sys::pincer_gateway_header { name: n.as_ptr(), value: v.as_ptr() }).collect();
        let c = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        let raw = sys::pincer_gateway_request {
            struct_size,
            kind: self.kind,
            reply: self.reply,
            method: self.method.as_ptr(),
            path: c(&self.path),
            query: c(&self.query),
            headers: if headers.is_empty() { ptr::null() } else { headers.as_ptr() },
            header_count: headers.len(),
            body: self.body.as_ptr(),
            body_len: self.body.len() - 1,
            principal: c(&self.principal),
            client_address: c"192.0.2.7:50123".as_ptr(),
        };
        unsafe { to.handler.unwrap()(to.context as *mut c_void, &raw) };
    }

    fn send(&self, to: &Defined) {
        self.send_sized(to, size_of::<sys::pincer_gateway_request>() as u32)
    }
}

/// Sends `request` to registration `registration` (1-based, as the fake numbers them).
fn send(fake: &Fake, registration: Registration, request: &Request) {
    request.send(&fake.defined.lock().unwrap()[registration.0 as usize - 1])
}

/// A handler that hands each request over to the test's thread, and where they arrive.
fn forwarding() -> (impl Fn(GatewayRequest) + Send + Sync + 'static, mpsc::Receiver<GatewayRequest>) {
    let (tx, rx) = mpsc::channel();
    (move |request| tx.send(request).unwrap(), rx)
}

fn calls(fake: &Fake) -> Vec<Call> {
    fake.calls.lock().unwrap().clone()
}

#[test]
fn a_host_without_the_table_or_with_a_short_one_has_no_gateway() {
    assert!(host_with(Fake::default()).0.gateway().is_none());
    assert!(host_with(Fake { table: Some(&SHORT), ..Fake::default() }).0.gateway().is_none());
    let (host, _) = host();
    let gateway = host.gateway().expect("the full table");
    assert_eq!(gateway.host(), host);
    assert_eq!(gateway.as_raw(), &FULL as *const _);
}

#[test]
fn a_method_gets_an_owned_request_and_answers_from_another_thread() {
    let (host, fake) = host();
    let gateway = host.gateway().unwrap();
    let (handler, rx) = forwarding();
    let registration = gateway.register_method("fk.echo", Some("Echoes its params."), handler).unwrap();
    {
        let defined = &fake.defined.lock().unwrap()[0];
        assert_eq!(defined.struct_size as usize, size_of::<sys::pincer_gateway_method_definition>());
        assert_eq!((defined.name.as_deref(), defined.description.as_deref()), (Some("fk.echo"), Some("Echoes its params.")));
        assert!(defined.release.is_some());
    }
    send(fake, registration, &Request::method(41, "fk.echo", r#"{"n":1}"#));
    // The handler returned before anything answered; the request outlives the call.
    assert!(calls(fake).is_empty());
    let request = rx.recv().unwrap();
    assert_eq!(request.kind, GatewayRequestKind::METHOD);
    assert_eq!((request.method.as_str(), request.body_text().as_ref()), ("fk.echo", r#"{"n":1}"#));
    assert_eq!((request.path.as_str(), request.query.as_str(), request.headers.len()), ("", "", 0));
    assert_eq!((request.principal.as_deref(), request.client_address.as_str()), (Some("operator"), "192.0.2.7:50123"));
    assert_eq!(request.reply.handle(), 41);
    let answer = std::thread::spawn(move || {
        let reply = request.reply;
        let result = reply.result(&format!(r#"{{"params":{}}}"#, request.body_text()));
        (result, reply.result("2"))
    });
    let (first, second) = answer.join().unwrap();
    assert_eq!(first, Ok(()));
    assert_eq!(second.unwrap_err().code(), Code::NOT_FOUND, "a request is answered once");
    assert_eq!(calls(fake), [Call::Result(41, r#"{"params":{"n":1}}"#.into())]);
    // A reply kept as its number alone answers the same request.
    let kept = gateway.reply(42);
    kept.error(-32042, "refused").unwrap();
    assert_eq!(calls(fake)[1], Call::Error(42, -32042, "refused".into()));
    assert_eq!(kept.error(1, "a\0b").unwrap_err().code(), Code::INVALID_ARGUMENT, "U+0000 cannot travel");
}

#[test]
fn a_route_carries_its_flags_and_gets_the_whole_http_request() {
    let (host, fake) = host();
    let gateway = host.gateway().unwrap();
    let card = gateway.register_route(Route::get("/agent-card").public(), |request| {
        assert_eq!(request.principal, None);
        request.reply.respond_json(200, r#"{"name":"fk"}"#).unwrap();
    }).unwrap();
    let echo = gateway.register_route(Route::any("/echo").prefix(), |request| {
        assert_eq!(request.kind, GatewayRequestKind::ROUTE);
        assert_eq!((request.method.as_str(), request.path.as_str(), request.query.as_str()), ("PUT", "/plugins/fk/echo/x", "a=1"));
        assert_eq!(request.header("Content-Type"), Some("application/json"));
        assert_eq!(request.header("x-missing"), None);
        let headers = [("content-type", request.header("content-type").unwrap()), ("x-seen", "1")];
        request.reply.respond(201, &headers, &request.body).unwrap();
    }).unwrap();
    {
        let defined = fake.defined.lock().unwrap();
        assert_eq!(defined[0].struct_size as usize, size_of::<sys::pincer_gateway_route_definition>());
        assert_eq!((defined[0].name.as_deref(), defined[0].description.as_deref()), (Some("GET"), Some("/agent-card")));
        assert_eq!(defined[0].flags, sys::PINCER_GATEWAY_ROUTE_PUBLIC);
        assert_eq!((defined[1].name.as_deref(), defined[1].flags), (None, sys::PINCER_GATEWAY_ROUTE_PREFIX), "None is every method: NULL");
    }
    send(fake, card, &Request::route(7, "GET", "/plugins/fk/agent-card", b""));
    // The body is bytes: a NUL of its own travels.
    send(fake, echo, &Request::route(8, "PUT", "/plugins/fk/echo/x", b"a\0b"));
    assert_eq!(calls(fake), [
        Call::Respond(7, 200, vec![("content-type".into(), "application/json".into())], br#"{"name":"fk"}"#.to_vec()),
        Call::Respond(8, 201, vec![("content-type".into(), "application/json".into()), ("x-seen".into(), "1".into())], b"a\0b".to_vec()),
    ]);
}

#[test]
fn a_stream_tells_would_block_from_shut_down() {
    let (host, fake) = host();
    fake.writes.lock().unwrap().extend([Code::OK, Code::WOULD_BLOCK, Code::OK, Code::SHUT_DOWN]);
    let gateway = host.gateway().unwrap();
    let (tx, rx) = mpsc::channel::<Reply>();
    let events = gateway.register_route(Route::get("/events").public(), move |request| {
        request.reply.stream_start(200, &[("content-type", "text/event-stream")]).unwrap();
        tx.send(request.reply).unwrap();
    }).unwrap();
    send(fake, events, &Request::route(9, "GET", "/plugins/fk/events", b""));
    let reply = rx.recv().unwrap();
    let writer = std::thread::spawn(move || {
        let mut codes = Vec::new();
        for i in 0..3 {
            let event = sse_event(Some("tick"), &i.to_string());
            loop {
                match reply.write(event.as_bytes()) {
                    Ok(()) => break,
                    Err(e) if e.code() == Code::WOULD_BLOCK => codes.push(e.code()),
                    Err(e) => {
                        assert_eq!(e.message(), "write answered PINCER_ERR_SHUT_DOWN");
                        codes.push(e.code());
                        reply.end().unwrap();
                        return codes;
                    }
                }
            }
        }
        codes
    });
    assert_eq!(writer.join().unwrap(), [Code::WOULD_BLOCK, Code::SHUT_DOWN]);
    assert_eq!(calls(fake), [
        Call::Start(9, 200, vec![("content-type".into(), "text/event-stream".into())], true),
        Call::Write(9, b"event: tick\ndata: 0\n\n".to_vec()),
        Call::Write(9, b"event: tick\ndata: 1\n\n".to_vec()),
        Call::End(9),
    ]);
}

#[test]
fn a_panicking_handler_answers_what_is_still_pending() {
    let (host, fake) = host();
    let gateway = host.gateway().unwrap();
    let method = gateway.register_method("fk.boom", None, |_| panic!("boom")).unwrap();
    let route = gateway.register_route(Route::post("/a2a").public(), |_| panic!("secret detail")).unwrap();
    let answered = gateway.register_method("fk.late", None, |request| {
        request.reply.result("true").unwrap();
        panic!("after the answer");
    }).unwrap();
    send(fake, method, &Request::method(1, "fk.boom", "null"));
    send(fake, route, &Request::route(2, "POST", "/plugins/fk/a2a", b"{}"));
    send(fake, answered, &Request::method(3, "fk.late", "null"));
    let calls = calls(fake);
    assert_eq!(calls.len(), 3, "{calls:?}");
    let Call::Error(1, -32603, message) = &calls[0] else { panic!("{calls:?}") };
    assert!(message.contains("method fk.boom panicked: boom"), "{message}");
    let Call::Respond(2, 500, _, body) = &calls[1] else { panic!("{calls:?}") };
    assert!(!String::from_utf8_lossy(body).contains("secret"), "a public caller does not see the panic");
    assert_eq!(calls[2], Call::Result(3, "true".into()), "an answered request stays answered");
    let logs = fake.logs.lock().unwrap();
    assert!(logs.iter().any(|l| l.contains("route POST /a2a panicked: secret detail")), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("method fk.late panicked: after the answer")), "{logs:?}");
}

/// Counts its drops: the closure's captured state.
struct Dropped(Arc<AtomicUsize>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn release_drops_the_closure_once_and_a_refusal_drops_it_at_once() {
    let (host, fake) = host();
    let gateway = host.gateway().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let held = Dropped(drops.clone());
    let registration = gateway.register_method("fk.held", None, move |_| {
        let _ = &held;
    }).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    let (release, context) = {
        let defined = &fake.defined.lock().unwrap()[registration.0 as usize - 1];
        (defined.release.unwrap(), defined.context)
    };
    unsafe { release(context as *mut c_void) };
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    let (refusing, _) = host_with(Fake { table: Some(&FULL), refuse: Some((Code::DENIED, c"needs gateway.serve")), ..Fake::default() });
    let held = Dropped(drops.clone());
    let error = refusing.gateway().unwrap().register_route(Route::get("/x"), move |_| {
        let _ = &held;
    }).unwrap_err();
    assert_eq!((error.code(), error.message()), (Code::DENIED, "needs gateway.serve"));
    assert_eq!(drops.load(Ordering::SeqCst), 2, "refused: dropped at once, never released");
    // Text that cannot travel is refused before anything is registered.
    assert_eq!(gateway.register_method("fk.\0", None, |_| {}).unwrap_err().code(), Code::INVALID_ARGUMENT);
    assert_eq!(fake.defined.lock().unwrap().len(), 1);
}

#[test]
fn a_short_request_reads_as_empty_and_one_without_a_reply_is_not_handled() {
    let (host, fake) = host();
    let gateway = host.gateway().unwrap();
    let (handler, rx) = forwarding();
    let registration = gateway.register_route(Route::any("/old"), handler).unwrap();
    let request = Request::route(5, "GET", "/plugins/fk/old", b"body");
    let defined = &fake.defined.lock().unwrap()[registration.0 as usize - 1];
    // A host whose struct ends after `query`: the rest reads as absent.
    request.send_sized(defined, offset_of!(sys::pincer_gateway_request, headers) as u32);
    let old = rx.recv().unwrap();
    assert_eq!((old.method.as_str(), old.path.as_str(), old.query.as_str()), ("GET", "/plugins/fk/old", "a=1"));
    assert!(old.headers.is_empty() && old.body.is_empty() && old.principal.is_none() && old.client_address.is_empty());
    // One that does not reach `reply` cannot be answered: logged, the handler not called.
    request.send_sized(defined, offset_of!(sys::pincer_gateway_request, reply) as u32);
    assert!(rx.try_recv().is_err());
    assert!(fake.logs.lock().unwrap().iter().any(|l| l.contains("route * /old") && l.contains("no reply")));
}

#[test]
fn route_flags_compose() {
    assert_eq!(Route::any("/a").flags(), 0);
    assert_eq!(Route::get("/a").public().flags(), sys::PINCER_GATEWAY_ROUTE_PUBLIC);
    assert_eq!(Route::post("/a").prefix().flags(), sys::PINCER_GATEWAY_ROUTE_PREFIX);
    let both = Route::post("/a2a").public().prefix();
    assert_eq!(both.flags(), sys::PINCER_GATEWAY_ROUTE_PUBLIC | sys::PINCER_GATEWAY_ROUTE_PREFIX);
    assert_eq!(both, Route { method: Some("POST"), path: "/a2a", public: true, prefix: true });
}

#[test]
fn sse_events_put_each_line_of_data_on_its_own_line() {
    assert_eq!(sse_event(None, "{\"a\":1}"), "data: {\"a\":1}\n\n");
    assert_eq!(sse_event(Some("status\nupdate"), "one\r\ntwo\nthree\rfour"), "event: status update\ndata: one\ndata: two\ndata: three\ndata: four\n\n");
    assert_eq!(sse_event(None, ""), "data: \n\n");
}

#[test]
fn replies_and_requests_travel_between_threads() {
    fn shared<T: Send + Sync + Copy + 'static>() {}
    fn sent<T: Send + 'static>() {}
    shared::<Reply>();
    shared::<pincer::Gateway>();
    sent::<GatewayRequest>();
}
