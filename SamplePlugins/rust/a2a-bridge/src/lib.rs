//! a2a-bridge: an A2A 1.0 agent served by `pincer serve` (gateway.h), so other
//! people's agents can talk to sessions on this host.
//!
//! What it serves (public routes: it does its own auth):
//! - `GET /plugins/a2a-bridge/agent-card` — the agent card; the operator
//!   aliases `/.well-known/agent-card.json` to it (gateway.aliases). Its URL
//!   comes from the plugin's config (`publicUrl`).
//! - `POST /plugins/a2a-bridge/a2a` — A2A's JSON-RPC binding, protocol 1.0
//!   (header `A2A-Version: 1.0`): SendMessage, SendStreamingMessage
//!   (server-sent events fed by the run's own events, runs.h), GetTask,
//!   CancelTask.
//!
//! Who asks. A friend presents a bearer token the operator issued in the
//! plugin's config (`friends: {"alice": "<token>"}`), declared in the card as
//! the security scheme `friendToken` — never a name the caller claims. A
//! wrong token is refused (401), not downgraded. Everyone else is a stranger,
//! known by client address.
//!
//! What each gets. A friend's session may use the calendar tools this plugin
//! registers (`a2a-bridge.list_free_slots`, `a2a-bridge.book_slot`); a
//! stranger's session has no tools at all (chat only). Every sender is
//! rate-limited by key — the friend's name, or the stranger's address — with
//! the limits in the config (`rateLimit.friend`, `rateLimit.stranger`:
//! `{"max": N, "windowMs": M}`); over the limit the answer is HTTP 429 with
//! `Retry-After`. A context (A2A's conversation) is one session and belongs
//! to whoever started it; tasks (one per message) are kept in memory, the
//! newest `maxTasks` of them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use pincer::json::{self, Value};
use pincer::{
    cap, Code, Error, Gateway, GatewayRequest, Host, LogLevel, Plugin, Reply, Route, RunEvent, RunStatus, Runs, SpawnRequest, Tool,
};

const PLUGIN: &str = "a2a-bridge";
const LIST_SLOTS: &str = "a2a-bridge.list_free_slots";
const BOOK_SLOT: &str = "a2a-bridge.book_slot";

/// The plugin's config, with its defaults.
struct Config {
    public_url: String,
    /// (name, token) of every friend.
    friends: Vec<(String, String)>,
    friend_limit: (u32, u64),
    stranger_limit: (u32, u64),
    max_tasks: usize,
}

impl Config {
    fn read(host: &Host) -> Result<Config, Error> {
        let text = host.get_config()?;
        let config = json::parse(&text).map_err(|e| Error::plugin(format!("plugins.entries.{PLUGIN}.config: {e}")))?;
        let limit = |who: &str, default: (u32, u64)| {
            let entry = config.get("rateLimit").and_then(|r| r.get(who));
            let max = entry.and_then(|e| e.get("max")).and_then(Value::as_u64).map_or(default.0, |n| n.clamp(1, 65535) as u32);
            let window = entry.and_then(|e| e.get("windowMs")).and_then(Value::as_u64).map_or(default.1, |n| n.clamp(1, 86_400_000));
            (max, window)
        };
        let mut friends = Vec::new();
        if let Some(Value::Object(members)) = config.get("friends") {
            for (name, token) in members {
                match token.as_str() {
                    Some(token) if token.len() >= 8 => friends.push((name.clone(), token.to_string())),
                    _ => {
                        return Err(Error::plugin(format!(
                            "plugins.entries.{PLUGIN}.config.friends.{name} must be a token of at least 8 characters"
                        )))
                    }
                }
            }
        }
        Ok(Config {
            public_url: config.get("publicUrl").and_then(Value::as_str).unwrap_or("http://127.0.0.1:7420").trim_end_matches('/').to_string(),
            friends,
            friend_limit: limit("friend", (60, 60_000)),
            stranger_limit: limit("stranger", (5, 60_000)),
            max_tasks: config.get("maxTasks").and_then(Value::as_u64).map_or(1000, |n| n.clamp(1, 100_000) as usize),
        })
    }
}

/// Who sent a request.
#[derive(Clone, PartialEq, Eq)]
enum Caller {
    Friend(String),
    Stranger(String),
}

impl Caller {
    /// The rate limiter's key, and who owns contexts and tasks.
    fn key(&self) -> String {
        match self {
            Caller::Friend(name) => format!("friend:{name}"),
            Caller::Stranger(address) => format!("stranger:{address}"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Submitted,
    Working,
    Completed,
    Failed,
    Canceled,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Submitted => "TASK_STATE_SUBMITTED",
            State::Working => "TASK_STATE_WORKING",
            State::Completed => "TASK_STATE_COMPLETED",
            State::Failed => "TASK_STATE_FAILED",
            State::Canceled => "TASK_STATE_CANCELED",
        }
    }

    fn is_terminal(self) -> bool {
        matches!(self, State::Completed | State::Failed | State::Canceled)
    }
}

/// One A2A task: one message and the run that answers it.
#[derive(Clone)]
struct Task {
    id: String,
    context_id: String,
    owner: String,
    run_id: String,
    state: State,
    message_id: String,
    text: String,
    reply: Option<String>,
    error: Option<String>,
}

impl Task {
    /// The task in A2A 1.0's ProtoJSON.
    fn json(&self) -> String {
        let user = message_json(&self.message_id, &self.context_id, &self.id, "ROLE_USER", &self.text);
        let artifacts = match &self.reply {
            Some(reply) => format!(r#","artifacts":[{}]"#, artifact_json(&self.id, reply)),
            None => String::new(),
        };
        format!(
            r#"{{"id":{},"contextId":{},"status":{}{artifacts},"history":[{user}]}}"#,
            json::string(&self.id),
            json::string(&self.context_id),
            self.status_json()
        )
    }

    fn status_json(&self) -> String {
        match &self.error {
            Some(error) if self.state == State::Failed => format!(
                r#"{{"state":"{}","message":{}}}"#,
                self.state.name(),
                message_json(&format!("{}-error", self.id), &self.context_id, &self.id, "ROLE_AGENT", error)
            ),
            _ => format!(r#"{{"state":"{}"}}"#, self.state.name()),
        }
    }
}

fn message_json(id: &str, context_id: &str, task_id: &str, role: &str, text: &str) -> String {
    format!(
        r#"{{"messageId":{},"contextId":{},"taskId":{},"role":"{role}","parts":[{{"text":{}}}]}}"#,
        json::string(id),
        json::string(context_id),
        json::string(task_id),
        json::string(text)
    )
}

fn artifact_json(task_id: &str, reply: &str) -> String {
    format!(r#"{{"artifactId":{},"name":"response","parts":[{{"text":{}}}]}}"#, json::string(&format!("{task_id}-reply")), json::string(reply))
}

/// A conversation: one session, owned by whoever started it.
struct Context {
    session_key: String,
    owner: String,
}

#[derive(Default)]
struct Book {
    tasks: HashMap<String, Task>,
    /// Task ids, oldest first, for keeping the newest max_tasks.
    order: VecDeque<String>,
    contexts: HashMap<String, Context>,
    free_slots: Vec<String>,
}

struct Bridge {
    host: Host,
    runs: Runs,
    config: Config,
    card: String,
    book: Mutex<Book>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id: unique in this process, not guessable across processes.
fn new_id(kind: &str) -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    format!("{kind}-{:x}-{n:x}", nanos ^ (std::process::id() as u64) << 32)
}

/// A JSON-RPC response's body.
fn rpc_result(id: &str, result: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#)
}

fn rpc_error(id: &str, code: i64, message: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":{code},"message":{}}}}}"#, json::string(message))
}

/// Renders a JSON value back to text (the request's id, echoed as it came).
fn render(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.clone(),
        Value::String(s) => json::string(s),
        Value::Array(items) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(",")),
        Value::Object(members) => format!(
            "{{{}}}",
            members.iter().map(|(k, v)| format!("{}:{}", json::string(k), render(v))).collect::<Vec<_>>().join(",")
        ),
    }
}

/// Byte-wise comparison whose time does not depend on where two tokens differ.
fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut difference = (a.len() != b.len()) as u8;
    for i in 0..a.len().max(b.len()) {
        difference |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    difference == 0
}

impl Bridge {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn card(config: &Config) -> String {
        format!(
            concat!(
                r#"{{"name":"Pincer A2A bridge","description":"Agents on a Pincer host: friends may use the calendar, everyone may chat.","#,
                r#""version":"0.1.0","supportedInterfaces":[{{"url":{},"protocolBinding":"JSONRPC","protocolVersion":"1.0"}}],"#,
                r#""capabilities":{{"streaming":true,"pushNotifications":false}},"#,
                r#""securitySchemes":{{"friendToken":{{"httpAuthSecurityScheme":{{"scheme":"bearer","description":"A token the host's operator issued to a friend."}}}}}},"#,
                r#""defaultInputModes":["text/plain"],"defaultOutputModes":["text/plain"],"skills":["#,
                r#"{{"id":"chat","name":"Chat","description":"Talk with an agent on this host (no tools).","tags":["chat"]}},"#,
                r#"{{"id":"calendar","name":"Calendar","description":"List free slots and book one (friends only).","tags":["calendar"],"#,
                r#""securityRequirements":[{{"schemes":{{"friendToken":{{"list":[]}}}}}}]}}]}}"#
            ),
            json::string(&format!("{}/plugins/{PLUGIN}/a2a", config.public_url))
        )
    }

    /// The friend behind a bearer token, a stranger without one; Err for a token nobody was issued.
    fn identify(&self, request: &GatewayRequest) -> Result<Caller, ()> {
        let authorization = request.headers.iter().find(|(name, _)| name == "authorization").map(|(_, v)| v.as_str());
        let Some(token) = authorization.and_then(|v| v.strip_prefix("Bearer ")) else {
            let address = request.client_address.rsplit_once(':').map_or(request.client_address.as_str(), |(ip, _)| ip);
            return Ok(Caller::Stranger(address.to_string()));
        };
        // Every friend is compared, so the time taken says nothing about which one matched.
        let mut found = None;
        for (name, issued) in &self.config.friends {
            if same_token(token, issued) {
                found = Some(name.clone());
            }
        }
        found.map(Caller::Friend).ok_or(())
    }

    /// POST /a2a: auth, rate limit, version, then the method.
    fn serve(self: &Arc<Self>, request: GatewayRequest) {
        let reply = request.reply;
        let json_headers = [("Content-Type", "application/json")];
        let Ok(caller) = self.identify(&request) else {
            let body = rpc_error("null", -32600, "unknown bearer token: present a token this host's operator issued, or none");
            let _ = reply.respond(401, &[("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer")], body.as_bytes());
            return;
        };
        let (max, window) = match caller {
            Caller::Friend(_) => self.config.friend_limit,
            Caller::Stranger(_) => self.config.stranger_limit,
        };
        match self.host.rate_limit_check(caller.key().as_str(), max, window) {
            Ok(limit) if !limit.allowed => {
                let seconds = limit.retry_after_ms.div_ceil(1000).max(1);
                let body = rpc_error("null", -32029, &format!("rate limit exceeded: at most {max} requests per {} s; retry in {seconds} s", window / 1000));
                let _ = reply.respond(429, &[("Content-Type", "application/json"), ("Retry-After", &seconds.to_string())], body.as_bytes());
                return;
            }
            Ok(_) => {}
            Err(error) => {
                let _ = reply.respond(500, &json_headers, rpc_error("null", -32603, error.message()).as_bytes());
                return;
            }
        }
        let answer = |body: String| {
            let _ = reply.respond(200, &json_headers, body.as_bytes());
        };
        let Ok(parsed) = json::parse(&String::from_utf8_lossy(&request.body)) else {
            return answer(rpc_error("null", -32700, "the request is not valid JSON"));
        };
        let id = parsed.get("id").map_or_else(|| "null".to_string(), render);
        let version = request.headers.iter().find(|(name, _)| name == "a2a-version").map_or("0.3", |(_, v)| v.as_str());
        if version != "1.0" {
            return answer(rpc_error(&id, -32009, &format!("A2A version '{version}' is not supported by this agent; send A2A-Version: 1.0")));
        }
        let params = parsed.get("params");
        match parsed.get("method").and_then(Value::as_str) {
            Some("SendMessage") => self.send(caller, params, id, reply, false),
            Some("SendStreamingMessage") => self.send(caller, params, id, reply, true),
            Some("GetTask") => answer(self.get_task(&caller, params, &id)),
            Some("CancelTask") => answer(self.cancel_task(&caller, params, &id)),
            _ => answer(rpc_error(&id, -32601, "Method not found")),
        }
    }

    /// SendMessage and SendStreamingMessage: a new task on a new or continued session; its
    /// answer when the run ends (runs.h's END), or streamed as the run goes.
    fn send(self: &Arc<Self>, caller: Caller, params: Option<&Value>, id: String, reply: Reply, streaming: bool) {
        let fail = |code: i64, message: &str| {
            let _ = reply.respond(200, &[("Content-Type", "application/json")], rpc_error(&id, code, message).as_bytes());
        };
        let Some(message) = params.and_then(|p| p.get("message")) else { return fail(-32602, "params.message is required") };
        let text: Vec<&str> = message.get("parts").and_then(Value::as_array).unwrap_or(&[]).iter().filter_map(|p| p.get("text")?.as_str()).collect();
        if text.is_empty() {
            return fail(-32005, "only text parts are supported (params.message.parts[].text)");
        }
        let text = text.join("\n");
        let message_id = message.get("messageId").and_then(Value::as_str).map_or_else(|| new_id("msg"), str::to_string);
        let context_id = message.get("contextId").and_then(Value::as_str).map(str::to_string);
        let (context_id, run_id) = match self.start_run(&caller, context_id, &text) {
            Ok(started) => started,
            Err((code, message)) => return fail(code, &message),
        };
        let task = Task {
            id: new_id("task"),
            context_id,
            owner: caller.key(),
            run_id: run_id.clone(),
            state: State::Submitted,
            message_id,
            text,
            reply: None,
            error: None,
        };
        self.keep(task.clone());
        let bridge = Arc::clone(self);
        let task_id = task.id.clone();
        if !streaming {
            let request_id = id.clone();
            let answered = self.runs.follow(&run_id, true, move |event| {
                if let RunEvent::End { status, final_text, error, .. } = event {
                    let task = bridge.finish(&task_id, status, final_text, error);
                    let body = rpc_result(&request_id, &format!(r#"{{"task":{}}}"#, task.json()));
                    let _ = reply.respond(200, &[("Content-Type", "application/json")], body.as_bytes());
                }
            });
            if let Err(error) = answered {
                fail(-32603, &format!("cannot follow run {run_id}: {}", error.message()));
            }
            return;
        }
        if reply.stream_start(200, &[("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]).is_err() {
            return;
        }
        let request_id = id.clone();
        let event = move |result: String| format!("data: {}\n\n", rpc_result(&request_id, &result));
        let _ = reply.write(event(format!(r#"{{"task":{}}}"#, task.json())).as_bytes());
        let working = std::sync::atomic::AtomicBool::new(false);
        let update = |task: &Task| {
            format!(
                r#"{{"statusUpdate":{{"taskId":{},"contextId":{},"status":{}}}}}"#,
                json::string(&task.id),
                json::string(&task.context_id),
                task.status_json()
            )
        };
        let followed = self.runs.follow(&run_id, false, move |run_event| {
            // The first sign of the run at work: WORKING; at its end: the answer, then the final state.
            if !working.swap(true, Ordering::Relaxed) {
                if let Some(task) = bridge.set_working(&task_id) {
                    let _ = reply.write(event(update(&task)).as_bytes());
                }
            }
            if let RunEvent::End { status, final_text, error, .. } = run_event {
                let task = bridge.finish(&task_id, status, final_text, error);
                if let Some(text) = &task.reply {
                    let artifact = format!(
                        r#"{{"artifactUpdate":{{"taskId":{},"contextId":{},"artifact":{},"lastChunk":true}}}}"#,
                        json::string(&task.id),
                        json::string(&task.context_id),
                        artifact_json(&task.id, text)
                    );
                    let _ = reply.write(event(artifact).as_bytes());
                }
                let _ = reply.write(event(update(&task)).as_bytes());
                let _ = reply.end();
            }
        });
        if let Err(error) = followed {
            self.host.log(LogLevel::ERROR, format!("cannot follow run {run_id}: {}", error.message()).as_str()).ok();
            let _ = reply.end();
        }
    }

    /// Continues the caller's context (prompt), or starts one (spawn): its id and the run's.
    fn start_run(&self, caller: &Caller, context_id: Option<String>, text: &str) -> Result<(String, String), (i64, String)> {
        let owner = caller.key();
        if let Some(context_id) = &context_id {
            let session = self.book().contexts.get(context_id).map(|c| (c.session_key.clone(), c.owner == owner));
            match session {
                Some((_, false)) => return Err((-32602, format!("context {context_id} belongs to another sender"))),
                Some((session_key, true)) => {
                    return self
                        .host
                        .prompt(session_key.as_str(), text)
                        .map(|run_id| (context_id.clone(), run_id))
                        .map_err(|e| (-32603, format!("cannot continue context {context_id}: {}", e.message())))
                }
                None => {}
            }
        }
        // A friend's session may use the calendar; a stranger's nothing.
        let friend_tools = [LIST_SLOTS, BOOK_SLOT];
        let mut request = SpawnRequest::new(text);
        let label = format!("a2a {owner}");
        request.label = Some(&label);
        match caller {
            Caller::Friend(_) => request.tools_allow = &friend_tools,
            Caller::Stranger(_) => request.tools_deny = &["*"],
        }
        let spawned = self.host.spawn(&request).map_err(|e| {
            let code = if e.code() == Code::LIMIT { -32029 } else { -32603 };
            (code, format!("cannot start a session: {}", e.message()))
        })?;
        let context_id = context_id.unwrap_or_else(|| new_id("ctx"));
        self.book().contexts.insert(context_id.clone(), Context { session_key: spawned.session_key, owner });
        Ok((context_id, spawned.run_id))
    }

    /// Keeps a task, forgetting the oldest past max_tasks.
    fn keep(&self, task: Task) {
        let mut book = self.book();
        book.order.push_back(task.id.clone());
        book.tasks.insert(task.id.clone(), task);
        while book.order.len() > self.config.max_tasks {
            if let Some(old) = book.order.pop_front() {
                book.tasks.remove(&old);
            }
        }
    }

    fn set_working(&self, task_id: &str) -> Option<Task> {
        let mut book = self.book();
        let task = book.tasks.get_mut(task_id)?;
        if task.state == State::Submitted {
            task.state = State::Working;
        }
        Some(task.clone())
    }

    /// The run ended: the task takes its outcome (a task cancelled meanwhile stays cancelled).
    fn finish(&self, task_id: &str, status: RunStatus, final_text: Option<String>, error: Option<String>) -> Task {
        let mut book = self.book();
        let Some(task) = book.tasks.get_mut(task_id) else {
            return Task { id: task_id.into(), context_id: String::new(), owner: String::new(), run_id: String::new(), state: State::Failed,
                          message_id: String::new(), text: String::new(), reply: None, error: Some("the task was forgotten (maxTasks)".into()) };
        };
        if task.state != State::Canceled {
            task.state = if status == RunStatus::COMPLETED { State::Completed } else { State::Failed };
            task.reply = final_text.filter(|_| status == RunStatus::COMPLETED);
            task.error = error.or_else(|| (status != RunStatus::COMPLETED).then(|| format!("the run ended {status:?}")));
        }
        task.clone()
    }

    /// The caller's own task, or None (another sender's task answers as unknown).
    fn own_task(&self, caller: &Caller, params: Option<&Value>) -> Option<Task> {
        let id = params?.get("id")?.as_str()?;
        self.book().tasks.get(id).filter(|t| t.owner == caller.key()).cloned()
    }

    fn get_task(&self, caller: &Caller, params: Option<&Value>, id: &str) -> String {
        match self.own_task(caller, params) {
            Some(task) => rpc_result(id, &task.json()),
            None => rpc_error(id, -32001, "Task not found"),
        }
    }

    fn cancel_task(&self, caller: &Caller, params: Option<&Value>, id: &str) -> String {
        let Some(task) = self.own_task(caller, params) else { return rpc_error(id, -32001, "Task not found") };
        if task.state.is_terminal() {
            return rpc_error(id, -32002, "Task cannot be canceled");
        }
        if let Err(error) = self.host.cancel_run(task.run_id.as_str()) {
            return rpc_error(id, -32002, &format!("Task cannot be canceled: {}", error.message()));
        }
        let mut book = self.book();
        let Some(task) = book.tasks.get_mut(&task.id) else { return rpc_error(id, -32001, "Task not found") };
        task.state = State::Canceled;
        rpc_result(id, &task.json())
    }

    fn list_free_slots(&self) -> String {
        let book = self.book();
        if book.free_slots.is_empty() {
            "no free slots".into()
        } else {
            format!("free: {}", book.free_slots.join(", "))
        }
    }

    fn book_slot(&self, arguments: &str) -> Result<String, Error> {
        let arguments = json::parse(arguments).map_err(|e| Error::new(Code::INVALID_ARGUMENT, e))?;
        let slot = arguments.get("slot").and_then(Value::as_str).ok_or_else(|| Error::new(Code::INVALID_ARGUMENT, "book_slot needs the string 'slot'"))?;
        let mut book = self.book();
        let Some(at) = book.free_slots.iter().position(|s| s == slot) else {
            return Err(Error::new(Code::NOT_FOUND, format!("{slot} is not a free slot")));
        };
        book.free_slots.remove(at);
        Ok(format!("booked {slot}"))
    }
}

struct A2aBridge;

impl Plugin for A2aBridge {
    fn init(host: Host, _plugin_path: &str) -> Result<Self, Error> {
        let config = Config::read(&host)?;
        let (Some(gateway), Some(runs)) = (host.gateway(), host.runs()) else {
            // An older host: no gateway to serve on. Nothing to do, nothing broken.
            host.log(LogLevel::WARN, "this host has no pincer.gateway/1 or pincer.runs/1: the A2A bridge serves nothing")?;
            return Ok(A2aBridge);
        };
        let card = Bridge::card(&config);
        let bridge = Arc::new(Bridge {
            host,
            runs,
            config,
            card,
            book: Mutex::new(Book {
                free_slots: vec!["2026-12-01T10:00Z".into(), "2026-12-01T14:00Z".into(), "2026-12-02T09:00Z".into()],
                ..Book::default()
            }),
        });
        register(&host, &gateway, &bridge)?;
        Ok(A2aBridge)
    }
}

fn register(host: &Host, gateway: &Gateway, bridge: &Arc<Bridge>) -> Result<(), Error> {
    let b = Arc::clone(bridge);
    gateway.register_route(Route { method: Some("GET"), path: "/agent-card", public: true, prefix: false }, move |request| {
        let _ = request.reply.respond(200, &[("Content-Type", "application/json")], b.card.as_bytes());
    })?;
    let b = Arc::clone(bridge);
    gateway.register_route(Route { method: Some("POST"), path: "/a2a", public: true, prefix: false }, move |request| b.serve(request))?;
    let b = Arc::clone(bridge);
    let tool = Tool {
        name: LIST_SLOTS,
        description: "Lists the calendar's free slots.",
        parameters_json: Some(r#"{"type":"object","properties":{}}"#),
        group: None,
    };
    host.register_tool(&tool, move |_| Ok(b.list_free_slots()))?;
    let b = Arc::clone(bridge);
    let tool = Tool {
        name: BOOK_SLOT,
        description: "Books one free slot, given as listed.",
        parameters_json: Some(r#"{"type":"object","required":["slot"],"properties":{"slot":{"type":"string"}}}"#),
        group: None,
    };
    host.register_tool(&tool, move |call| b.book_slot(call.arguments_json))?;
    Ok(())
}

pincer::declare_plugin! {
    plugin: A2aBridge,
    id: "a2a-bridge",
    name: "A2A bridge",
    version: "0.1.0",
    description: "An A2A 1.0 agent on pincer serve: friends (operator-issued tokens) get calendar tools, strangers chat; every sender rate-limited.",
    capabilities: [cap::GATEWAY_SERVE, cap::SESSIONS_SPAWN, cap::SESSIONS_PROMPT, cap::SESSIONS_READ, cap::RATE_LIMIT, cap::TOOLS_REGISTER],
}
