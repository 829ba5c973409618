//! swarm-steer: sessions in a named group hear each other.
//!
//! Joining. A session joins group G when it is created with
//! `{"swarm-steer": {"group": "G"}}` in its metadata: the operator's
//! `pincer run --metadata '{"swarm-steer":{"group":"research"}}' …`, or any
//! plugin's spawn (sessions.h: a creator may seed any loaded plugin's
//! namespace). The group is fixed for the session's life, which is what a
//! user expects of "start this agent in that swarm"; a session created
//! without the namespace is not in any swarm. A malformed namespace (no
//! string `group`, or a name that is not 1 to 64 characters of
//! [A-Za-z0-9_.-]) is refused at creation, naming what is wrong, rather than
//! silently joining nothing.
//!
//! Relaying. When a member's run completes, its final message (the run's last
//! model turn, seen through run events) goes to every other member of its
//! group: steered into a member that is streaming, so it reaches that run at
//! its next boundary, or queued as a follow-up prompt to a member that is not
//! (or whose run stopped streaming in between). Runs the swarm itself queued
//! are not relayed again, so a message travels one hop and two members cannot
//! echo each other forever. Each sender is rate-limited by the host's limiter,
//! keyed by the sender's session key: at most `maxMessages` relays per
//! `windowMs` (the plugin's config; 5 per minute by default), so a chatty
//! member cannot flood the swarm; a refused relay is logged with the member.
//!
//! The tool `swarm-steer.members` tells a member's model who else is in its group.
//!
//! Setup. None beyond the descriptor's capabilities: a creator that hands this
//! plugin a namespace shares the session with it (sessions.h), so its hooks
//! see the member and it may steer and prompt it, whoever created it.
//! Membership lives in memory: it covers sessions created while the plugin is
//! loaded, and a member that is deleted leaves when a relay finds it gone.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use pincer::json::{self, Value};
use pincer::{cap, Code, Decision, Error, Hook, HookEvent, HookPoint, Host, LogLevel, Plugin, SteerOutcome, Tool};

#[derive(Default)]
struct Members {
    /// group -> its members' session keys, in joining order.
    groups: HashMap<String, Vec<String>>,
    /// session key -> its group.
    group_of: HashMap<String, String>,
    /// run id -> the text of its latest model turn, for members' runs under way.
    last_turn: HashMap<String, String>,
    /// Runs the swarm queued with a relayed message: their answers are not relayed.
    relayed_runs: HashSet<String>,
}

struct Swarm {
    host: Host,
    max_messages: u32,
    window_ms: u64,
    members: Mutex<Members>,
}

/// The group a session's namespace asks for: None for no namespace, an error naming the fault.
fn requested_group(namespace: Option<&Value>) -> Result<Option<String>, String> {
    let Some(namespace) = namespace else { return Ok(None) };
    match namespace {
        Value::Object(members) if members.is_empty() => Ok(None),
        Value::Object(_) => {
            let group = namespace.get("group").and_then(Value::as_str).ok_or("\"group\" must be a string")?;
            let valid = (1..=64).contains(&group.len())
                && group.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if valid {
                Ok(Some(group.to_owned()))
            } else {
                Err(format!("group {group:?} is not 1 to 64 characters of [A-Za-z0-9_.-]"))
            }
        }
        _ => Err("the namespace must be an object".to_owned()),
    }
}

impl Swarm {
    fn lock(&self) -> MutexGuard<'_, Members> {
        self.members.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// before_session_create: refuse a namespace that asks for a malformed group.
    fn gate(&self, event: &HookEvent<'_>) -> Result<Decision, Error> {
        let payload = json::parse(event.payload_json).map_err(Error::plugin)?;
        Ok(match requested_group(payload.get("metadata")) {
            Ok(_) => Decision::Continue,
            Err(why) => Decision::Block(format!("swarm-steer: {why}")),
        })
    }

    /// session_created: a session whose namespace names a group joins it.
    fn created(&self, event: &HookEvent<'_>) -> Result<Decision, Error> {
        let payload = json::parse(event.payload_json).map_err(Error::plugin)?;
        if let Ok(Some(group)) = requested_group(payload.get("metadata")) {
            self.join(event.session_key, group);
        }
        Ok(Decision::Continue)
    }

    /// Adds a member to its group, once (the observer and the tool may both get there first).
    fn join(&self, session_key: &str, group: String) {
        let mut members = self.lock();
        if members.group_of.contains_key(session_key) {
            return;
        }
        members.groups.entry(group.clone()).or_default().push(session_key.to_owned());
        members.group_of.insert(session_key.to_owned(), group);
    }

    /// run_event: remember each member's latest turn; relay it when the run completes.
    fn run_event(&self, event: &HookEvent<'_>) -> Result<Decision, Error> {
        let payload = json::parse(event.payload_json).map_err(Error::plugin)?;
        let kind = payload.get("kind").and_then(Value::as_str);
        let relay = {
            let mut members = self.lock();
            let Some(group) = members.group_of.get(event.session_key).cloned() else {
                return Ok(Decision::Continue);
            };
            match kind {
                Some("turn") => {
                    let text = payload.get("text").and_then(Value::as_str).unwrap_or("").to_owned();
                    members.last_turn.insert(event.run_id.to_owned(), text);
                    None
                }
                Some("finished") => {
                    let text = members.last_turn.remove(event.run_id);
                    let ours = members.relayed_runs.remove(event.run_id);
                    let completed = payload.get("status").and_then(Value::as_str) == Some("completed");
                    match text {
                        Some(text) if completed && !ours && !text.is_empty() => {
                            let peers: Vec<String> =
                                members.groups[&group].iter().filter(|k| *k != event.session_key).cloned().collect();
                            Some((group, text, peers))
                        }
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        // Host calls outside the lock: steer and prompt may take time, and the gate lane shares it.
        if let Some((group, text, peers)) = relay {
            self.relay(event.session_key, &group, &text, &peers)?;
        }
        Ok(Decision::Continue)
    }

    fn relay(&self, sender: &str, group: &str, text: &str, peers: &[String]) -> Result<(), Error> {
        if peers.is_empty() {
            return Ok(());
        }
        let limit = self.host.rate_limit_check(format!("member:{sender}"), self.max_messages, self.window_ms)?;
        if !limit.allowed {
            self.host.log(
                LogLevel::WARN,
                format!(
                    "{sender} is over its relay limit ({} per {} ms; next in {} ms): its message was not relayed to group {group}",
                    self.max_messages, self.window_ms, limit.retry_after_ms
                ),
            )?;
            return Ok(());
        }
        let message = format!("[swarm {group}] {sender}: {text}");
        for peer in peers {
            let steered = match self.host.is_streaming(peer) {
                Ok(true) => self.host.steer(peer, &message)? == SteerOutcome::QUEUED,
                Ok(false) => false,
                Err(e) if e.code() == Code::NOT_FOUND => {
                    self.leave(peer);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if steered {
                continue;
            }
            // Not streaming (or it stopped between the two calls): a follow-up run.
            match self.host.prompt(peer, &message) {
                Ok(run_id) => {
                    self.lock().relayed_runs.insert(run_id);
                }
                Err(e) if e.code() == Code::NOT_FOUND => self.leave(peer),
                Err(e) => {
                    self.host.log(LogLevel::WARN, format!("could not prompt {peer} with a message from {sender}: {e}"))?;
                }
            }
        }
        Ok(())
    }

    /// A member that no longer exists leaves its group.
    fn leave(&self, session_key: &str) {
        let mut members = self.lock();
        if let Some(group) = members.group_of.remove(session_key) {
            if let Some(list) = members.groups.get_mut(&group) {
                list.retain(|k| k != session_key);
                if list.is_empty() {
                    members.groups.remove(&group);
                }
            }
        }
    }

    /// The tool: the calling session's group and its members, as JSON. Its first run may call
    /// it before session_created reached this plugin's observer lane: then the session's own
    /// namespace says its group.
    fn members_of(&self, session_key: &str) -> String {
        if !self.lock().group_of.contains_key(session_key) {
            let namespace = self.host.get_metadata(session_key).ok().and_then(|text| json::parse(&text).ok());
            if let Ok(Some(group)) = requested_group(namespace.as_ref()) {
                self.join(session_key, group);
            }
        }
        let members = self.lock();
        match members.group_of.get(session_key) {
            None => r#"{"group":null,"members":[]}"#.to_owned(),
            Some(group) => {
                let list: Vec<String> = members.groups[group].iter().map(|k| json::string(k)).collect();
                format!(r#"{{"group":{},"members":[{}]}}"#, json::string(group), list.join(","))
            }
        }
    }
}

struct SwarmSteer;

impl Plugin for SwarmSteer {
    fn init(host: Host, _plugin_path: &str) -> Result<Self, Error> {
        let config = json::parse(&host.get_config()?).map_err(|e| Error::plugin(format!("config: {e}")))?;
        let swarm = Arc::new(Swarm {
            host,
            max_messages: config.get("maxMessages").and_then(Value::as_u64).unwrap_or(5).clamp(1, 65535) as u32,
            window_ms: config.get("windowMs").and_then(Value::as_u64).unwrap_or(60_000).clamp(1, 30 * 24 * 3600 * 1000),
            members: Mutex::new(Members::default()),
        });
        let s = swarm.clone();
        host.register_hook(Hook::at(HookPoint::BEFORE_SESSION_CREATE), move |e| s.gate(e))?;
        let s = swarm.clone();
        host.register_hook(Hook::at(HookPoint::SESSION_CREATED), move |e| s.created(e))?;
        let s = swarm.clone();
        host.register_hook(Hook::at(HookPoint::RUN_EVENT), move |e| s.run_event(e))?;
        let tool = Tool {
            name: "swarm-steer.members",
            description: "Lists the session's swarm group and every member's session key.",
            parameters_json: Some(r#"{"type":"object","properties":{}}"#),
            group: None,
        };
        host.register_tool(&tool, move |call| Ok(swarm.members_of(call.session_key)))?;
        Ok(SwarmSteer)
    }
}

pincer::declare_plugin! {
    plugin: SwarmSteer,
    id: "swarm-steer",
    name: "Swarm steer",
    version: "0.1.0",
    description: "Sessions in a named group hear each other's messages: steered in while streaming, else prompted; rate-limited per member.",
    capabilities: [cap::HOOKS_GATE, cap::HOOKS_OBSERVE, cap::SESSIONS_READ, cap::SESSIONS_STEER, cap::SESSIONS_PROMPT,
                   cap::RATE_LIMIT, cap::TOOLS_REGISTER],
}
