//! The gateway (gateway.h, ABI 1.1): the plugin's own JSON-RPC methods and
//! HTTP routes on `pincer serve`, as Rust closures.
//!
//! [`Host::gateway`] finds the host's "pincer.gateway/1" table (None on a host
//! without it: degrade). A handler is handed an owned [`GatewayRequest`], a
//! copy of the host's (whose pointers live only during the call), with the
//! [`Reply`] that answers it once, from any thread, now or later. Handlers run
//! on the host's gateway threads, may overlap (for one registration too) and
//! should return quickly: answer at once, or move the request to a thread.
//!
//! Registration follows callbacks.rs: the closure is boxed as the context,
//! `handle::<F>` is the handler and `release::<F>` drops the box, once. A panic
//! in a handler is caught and logged, and the request, if nothing answered it
//! yet, is answered: a method with the JSON-RPC error -32603 naming the panic,
//! a route with HTTP 500 and a plain body (a public route's caller is a
//! stranger: the details go to the host's log only). A stream the handler had
//! started is left to whoever holds its reply.

use std::borrow::Cow;
use std::ffi::{c_char, c_void, CString};
use std::fmt;
use std::mem::{offset_of, size_of, size_of_val};
use std::ptr;

use crate::callbacks::{guarded, release, Context};
use crate::host::Registration;
use crate::sys::{self, Code, GatewayRequestKind};
use crate::text::{self, owned, CText};
use crate::{Error, Host};

/// JSON-RPC 2.0's "Internal error": what a method whose handler panicked answers.
const INTERNAL_ERROR: i32 = -32603;

/// The host's gateway table, for this plugin ([`Host::gateway`]). Copy it
/// freely, into closures and threads: like [`Host`] it is valid until the
/// plugin is dead, and every function is [any-thread].
#[derive(Copy, Clone)]
pub struct Gateway {
    host: Host,
    // Owned by the host, valid until the plugin is dead (gateway.h), as the Host is.
    table: &'static sys::pincer_gateway_v1,
}

/// Which requests a route receives (register_route's definition, without the closure).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Route<'a> {
    /// "GET", "POST", … upper-case; None for every method.
    pub method: Option<&'a str>,
    /// Relative to `/plugins/<plugin-id>`, starting with "/": "/agent-card".
    pub path: &'a str,
    /// PINCER_GATEWAY_ROUTE_PUBLIC: served without the operator's token; the
    /// plugin does its own auth ([`GatewayRequest::principal`] is then None).
    pub public: bool,
    /// PINCER_GATEWAY_ROUTE_PREFIX: every path below `path` too.
    pub prefix: bool,
}

impl<'a> Route<'a> {
    /// `path` for every HTTP method.
    pub fn any(path: &'a str) -> Self {
        Route { method: None, path, public: false, prefix: false }
    }

    pub fn get(path: &'a str) -> Self {
        Route { method: Some("GET"), ..Route::any(path) }
    }

    pub fn post(path: &'a str) -> Self {
        Route { method: Some("POST"), ..Route::any(path) }
    }

    /// Served without the operator's token (PINCER_GATEWAY_ROUTE_PUBLIC).
    pub fn public(self) -> Self {
        Route { public: true, ..self }
    }

    /// Matches every path below its own too (PINCER_GATEWAY_ROUTE_PREFIX).
    pub fn prefix(self) -> Self {
        Route { prefix: true, ..self }
    }

    /// The definition's PINCER_GATEWAY_ROUTE_* bits.
    pub fn flags(&self) -> u32 {
        let public = if self.public { sys::PINCER_GATEWAY_ROUTE_PUBLIC } else { 0 };
        let prefix = if self.prefix { sys::PINCER_GATEWAY_ROUTE_PREFIX } else { 0 };
        public | prefix
    }
}

/// One request, copied out of the host's for keeping: move it to another
/// thread and answer through [`GatewayRequest::reply`] when ready. Text the
/// host promises is UTF-8 and is copied lossily (U+FFFD) should it not be.
#[derive(Clone, Debug)]
pub struct GatewayRequest {
    pub kind: GatewayRequestKind,
    /// Answers the request, once, from any thread.
    pub reply: Reply,
    /// METHOD: the full method name, `<plugin-id>.<name>`. ROUTE: the HTTP
    /// method, upper-case ("GET", "POST", …).
    pub method: String,
    /// ROUTE: the path the client asked for, without the query
    /// (`/plugins/<plugin-id>/…`, or the operator's alias). METHOD: "".
    pub path: String,
    /// ROUTE: the query string without its "?" ("" when none). METHOD: "".
    pub query: String,
    /// ROUTE: the request's headers, names lower-case, in order (a name may
    /// repeat). METHOD: none.
    pub headers: Vec<(String, String)>,
    /// METHOD: the params as JSON text ("null" when the call had none).
    /// ROUTE: the request body, any bytes.
    pub body: Vec<u8>,
    /// Some("operator") when the caller presented the operator's token (or
    /// the server has none); None only on a public route.
    pub principal: Option<String>,
    /// The client's address, "ip:port".
    pub client_address: String,
}

impl GatewayRequest {
    /// The first header named `name` (any case; the host's names are lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text (a method's params JSON), lossily where it is not UTF-8.
    pub fn body_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// A copy of the host's request; None when it does not reach `reply` (nothing could answer it).
    ///
    /// # Safety
    /// `raw` is the request a handler was called with, during the call.
    unsafe fn copy(gateway: Gateway, raw: &sys::pincer_gateway_request) -> Option<GatewayRequest> {
        // A field of the host-written request, read only where its struct_size reaches (extension.h).
        macro_rules! covered {
            ($field:ident) => {
                if sys::pincer_struct_has(raw.struct_size, offset_of!(sys::pincer_gateway_request, $field) + size_of_val(&raw.$field)) {
                    Some(raw.$field)
                } else {
                    None
                }
            };
        }
        let text = |p: Option<*const c_char>| p.and_then(|p| text::lossy(p));
        let handle = covered!(reply).filter(|&handle| handle != 0)?;
        let headers = match (covered!(headers), covered!(header_count)) {
            (Some(headers), Some(count)) if !headers.is_null() && count > 0 => std::slice::from_raw_parts(headers, count)
                .iter()
                .map(|h| (text::lossy(h.name).unwrap_or_default(), text::lossy(h.value).unwrap_or_default()))
                .collect(),
            _ => Vec::new(),
        };
        let body = match (covered!(body), covered!(body_len)) {
            (Some(body), Some(len)) if !body.is_null() && len > 0 => std::slice::from_raw_parts(body, len).to_vec(),
            _ => Vec::new(),
        };
        Some(GatewayRequest {
            kind: covered!(kind)?,
            reply: gateway.reply(handle),
            method: text(covered!(method)).unwrap_or_default(),
            path: text(covered!(path)).unwrap_or_default(),
            query: text(covered!(query)).unwrap_or_default(),
            headers,
            body,
            principal: text(covered!(principal)),
            client_address: text(covered!(client_address)).unwrap_or_default(),
        })
    }
}

/// The answer to one request: a number and the gateway, so Copy, Send and
/// Sync. Every request is answered exactly once: a method by [`Reply::result`]
/// or [`Reply::error`], a route by [`Reply::respond`] or by
/// [`Reply::stream_start`], [`Reply::write`]s and [`Reply::end`]. A reply that
/// is not pending (answered, timed out, its client gone) is
/// PINCER_ERR_NOT_FOUND and changes nothing; the wrong kind of answer is
/// PINCER_ERR_INVALID_ARGUMENT and leaves it pending.
#[derive(Copy, Clone)]
pub struct Reply {
    gateway: Gateway,
    handle: sys::pincer_gateway_reply,
}

impl Reply {
    /// The host's number for the request (never 0): [`Gateway::reply`] turns it back into a Reply.
    pub fn handle(&self) -> sys::pincer_gateway_reply {
        self.handle
    }

    pub fn gateway(&self) -> Gateway {
        self.gateway
    }

    fn check(&self, code: Code) -> Result<(), Error> {
        self.gateway.host.check(code)
    }

    /// Answers a method with its result, JSON text of any type. Text that is
    /// not JSON is PINCER_ERR_INVALID_ARGUMENT, and the host answers the client
    /// with an error (-32603) instead.
    pub fn result(&self, json: &str) -> Result<(), Error> {
        let f = function!(self.gateway, reply_result);
        self.check(json.with_c(|json| unsafe { f(self.gateway.host.as_raw(), self.handle, json) })?)
    }

    /// Answers a method with a JSON-RPC error (-32000 to -32099 are the server's own range).
    pub fn error(&self, code: i32, message: &str) -> Result<(), Error> {
        let f = function!(self.gateway, reply_error);
        self.check(message.with_c(|message| unsafe { f(self.gateway.host.as_raw(), self.handle, code, message) })?)
    }

    /// Answers a route with a whole response: status 200 to 599, headers
    /// (the host sets content-length itself), the body.
    pub fn respond(&self, status: u32, headers: &[(&str, &str)], body: &[u8]) -> Result<(), Error> {
        let f = function!(self.gateway, respond);
        self.check(with_response(status, headers, body, |response| unsafe { f(self.gateway.host.as_raw(), self.handle, response) })?)
    }

    /// [`Reply::respond`] with a JSON body ("content-type: application/json").
    pub fn respond_json(&self, status: u32, json: &str) -> Result<(), Error> {
        self.respond(status, &[("content-type", "application/json")], json.as_bytes())
    }

    /// Starts a streamed answer to a route (chunked: server-sent events, long
    /// downloads): status and headers now, the body in [`Reply::write`]s, then
    /// [`Reply::end`]. A started stream has no timeout.
    pub fn stream_start(&self, status: u32, headers: &[(&str, &str)]) -> Result<(), Error> {
        let f = function!(self.gateway, stream_start);
        self.check(with_response(status, headers, &[], |head| unsafe { f(self.gateway.host.as_raw(), self.handle, head) })?)
    }

    /// Sends the next bytes of a started stream. `Code::WOULD_BLOCK`: the
    /// client has PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES not yet sent and took
    /// none of these; write them again later. `Code::SHUT_DOWN`: the client
    /// went away or the plugin is stopping; call [`Reply::end`] and stop.
    pub fn write(&self, bytes: &[u8]) -> Result<(), Error> {
        let f = function!(self.gateway, stream_write);
        self.check(unsafe { f(self.gateway.host.as_raw(), self.handle, bytes.as_ptr(), bytes.len()) })
    }

    /// Ends a started stream; the request is answered.
    pub fn end(&self) -> Result<(), Error> {
        let f = function!(self.gateway, stream_end);
        self.check(unsafe { f(self.gateway.host.as_raw(), self.handle) })
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply({})", self.handle)
    }
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway").field("host", &self.host).field("table", &self.as_raw()).finish()
    }
}

/// One server-sent event as text for [`Reply::write`]: an `event:` line when
/// `event` is given, a `data:` line for each line of `data`, and the blank line
/// that ends the event.
pub fn sse_event(event: Option<&str>, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 16);
    if let Some(event) = event {
        out += "event: ";
        out += &event.replace(['\r', '\n'], " ");
        out.push('\n');
    }
    for line in data.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
        out += "data: ";
        out += line;
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Calls `f` with a response pointing at C copies of `headers` and at `body`
/// (NULL and 0 when empty, as stream_start's head needs).
fn with_response<R>(status: u32, headers: &[(&str, &str)], body: &[u8], f: impl FnOnce(&sys::pincer_gateway_response) -> R) -> Result<R, Error> {
    let texts = headers
        .iter()
        .map(|(name, value)| Ok((owned(name, "header name")?, owned(value, "header value")?)))
        .collect::<Result<Vec<(CString, CString)>, Error>>()?;
    let raw: Vec<sys::pincer_gateway_header> =
        texts.iter().map(|(name, value)| sys::pincer_gateway_header { name: name.as_ptr(), value: value.as_ptr() }).collect();
    let response = sys::pincer_gateway_response {
        struct_size: size_of::<sys::pincer_gateway_response>() as u32,
        status,
        headers: if raw.is_empty() { ptr::null() } else { raw.as_ptr() },
        header_count: raw.len(),
        body: if body.is_empty() { ptr::null() } else { body.as_ptr() },
        body_len: body.len(),
    };
    Ok(f(&response))
}

/// A registration's context: the gateway (for each request's reply) and the plugin's closure.
type Served<F> = Context<(Gateway, F)>;

unsafe extern "C" fn handle<F>(context: *mut c_void, request: *const sys::pincer_gateway_request)
where
    F: Fn(GatewayRequest) + Send + Sync + 'static,
{
    let context = &*(context as *const Served<F>);
    let (gateway, f) = &context.f;
    let mut answer_to = None;
    let outcome = guarded(context.host, format_args!("{}", context.name), || match request.as_ref().and_then(|raw| GatewayRequest::copy(*gateway, raw)) {
        Some(request) => {
            answer_to = Some((request.kind, request.reply));
            f(request);
            true
        }
        None => false,
    });
    match (outcome, answer_to) {
        (Ok(true), _) => {}
        (Ok(false), _) => {
            let why = format!("{}: the host handed a request with no reply (NULL, or too short a struct_size); it was not handled", context.name);
            let _ = context.host.log(sys::LogLevel::ERROR, why);
        }
        // Nothing may have answered yet: answer now. One that was answered just gets NOT_FOUND.
        (Err(panic), Some((kind, reply))) => {
            let _ = match kind {
                GatewayRequestKind::METHOD => reply.error(INTERNAL_ERROR, &panic.replace('\0', "\\0")),
                GatewayRequestKind::ROUTE => reply.respond(500, &[("content-type", "text/plain; charset=utf-8")], b"the plugin failed on this request\n"),
                _ => Ok(()),
            };
        }
        (Err(_), None) => {}
    }
}

impl Gateway {
    pub fn host(&self) -> Host {
        self.host
    }

    pub fn as_raw(&self) -> *const sys::pincer_gateway_v1 {
        self.table
    }

    fn table(&self) -> &sys::pincer_gateway_v1 {
        self.table
    }

    /// The [`Reply`] for a request's number ([`Reply::handle`]), for a plugin
    /// that keeps the number alone. A stale or forged one is refused by the
    /// host (PINCER_ERR_NOT_FOUND), never dereferenced.
    pub fn reply(&self, handle: sys::pincer_gateway_reply) -> Reply {
        Reply { gateway: *self, handle }
    }

    /// Registers the method `name` (`<plugin-id>.<name>`, the name 1 to 31 of
    /// `[a-z][a-z0-9_-]*`), called through the host's JSON-RPC endpoint with the
    /// operator's token; `description` is listed by rpc.methods. Each call
    /// runs `handler`, which answers through the request's [`Reply`]. Needs
    /// [`crate::cap::GATEWAY_SERVE`]. `handler` is dropped exactly once, as
    /// for [`Host::register_tool`].
    pub fn register_method<F>(&self, name: &str, description: Option<&str>, handler: F) -> Result<Registration, Error>
    where
        F: Fn(GatewayRequest) + Send + Sync + 'static,
    {
        let register = function!(self, register_method);
        let c_name = owned(name, "method name")?;
        let description = description.map(|d| owned(d, "method description")).transpose()?;
        self.register(format!("method {name}"), handler, |handler, context, release, out| {
            let definition = sys::pincer_gateway_method_definition {
                struct_size: size_of::<sys::pincer_gateway_method_definition>() as u32,
                name: c_name.as_ptr(),
                description: description.as_ref().map_or(ptr::null(), |d| d.as_ptr()),
                handler,
                context,
                release,
            };
            unsafe { register(self.host.as_raw(), &definition, out) }
        })
    }

    /// Registers a route, served at `/plugins/<plugin-id>` + `route.path`;
    /// each request on it runs `handler`, which answers through the request's
    /// [`Reply`]. Needs [`crate::cap::GATEWAY_SERVE`]. `handler` is dropped
    /// exactly once, as for [`Host::register_tool`].
    pub fn register_route<F>(&self, route: Route<'_>, handler: F) -> Result<Registration, Error>
    where
        F: Fn(GatewayRequest) + Send + Sync + 'static,
    {
        let register = function!(self, register_route);
        let method = route.method.map(|m| owned(m, "route method")).transpose()?;
        let path = owned(route.path, "route path")?;
        self.register(format!("route {} {}", route.method.unwrap_or("*"), route.path), handler, |handler, context, release, out| {
            let definition = sys::pincer_gateway_route_definition {
                struct_size: size_of::<sys::pincer_gateway_route_definition>() as u32,
                flags: route.flags(),
                method: method.as_ref().map_or(ptr::null(), |m| m.as_ptr()),
                path: path.as_ptr(),
                handler,
                context,
                release,
            };
            unsafe { register(self.host.as_raw(), &definition, out) }
        })
    }

    /// Boxes `handler` as a registration's context and hands `call` the
    /// trampolines and the context to register; when the host refuses, it
    /// never calls release and the box is dropped here.
    fn register<F>(
        &self,
        name: String,
        handler: F,
        call: impl FnOnce(sys::pincer_gateway_handler, *mut c_void, sys::pincer_release_fn, &mut sys::pincer_registration) -> Code,
    ) -> Result<Registration, Error>
    where
        F: Fn(GatewayRequest) + Send + Sync + 'static,
    {
        let context: *mut Served<F> = Box::into_raw(Box::new(Context { host: self.host, name, f: (*self, handler) }));
        let mut registration = 0;
        let code = call(Some(handle::<F>), context.cast(), Some(release::<(Gateway, F)>), &mut registration);
        self.host.check(code).map(|()| Registration(registration)).inspect_err(|_| {
            drop(unsafe { Box::from_raw(context) });
        })
    }
}

impl Host {
    /// The host's gateway ("pincer.gateway/1", ABI 1.1): the plugin's own
    /// JSON-RPC methods and HTTP routes on `pincer serve`. None on a host
    /// without it (an older one): degrade. A host that serves no network
    /// (`pincer run`) has it too; registrations there receive no request.
    pub fn gateway(&self) -> Option<Gateway> {
        self.extension_table(sys::PINCER_GATEWAY_EXTENSION_ID).map(|table| Gateway { host: *self, table })
    }
}
