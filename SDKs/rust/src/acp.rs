//! Sessions on external coding agents (acp.h, "pincer.acp/1", ABI 1.2): start
//! one on an agent the operator configured; it is then an ordinary session for
//! the host table ([`Host::prompt`], [`Host::wait`], …) and for [`crate::Runs`].
//! Needs the capability [`crate::cap::ACP_SPAWN`] and the operator's
//! `plugins.allowAcpSpawn`, checked at every call.

use std::ptr;

use crate::text::CText;
use crate::{sys, Code, Error, Host, HostString, SpawnRequest, Spawned};

/// The host's "pincer.acp/1" table, for the plugin's own handle.
#[derive(Copy, Clone)]
pub struct Acp {
    host: Host,
    // Owned by the host, immutable and valid until the plugin is dead, as the Host is: only
    // u32 and function pointers, so the handle is Send + Sync with no unsafe impl.
    table: &'static sys::pincer_acp_v1,
}

impl Host {
    /// The host's external agents ("pincer.acp/1"); None on a host without them: degrade.
    pub fn acp(&self) -> Option<Acp> {
        self.extension_table(sys::PINCER_ACP_EXTENSION_ID).map(|table| Acp { host: *self, table })
    }
}

impl Acp {
    /// Starts a session on the agent `agent` with `request.message` as its first prompt;
    /// `request.model` must be None (the agent is the session's model).
    pub fn spawn(&self, agent: &str, request: &SpawnRequest<'_>) -> Result<Spawned, Error> {
        let Some(spawn) = self.table.spawn else { return Err(Error::new(Code::UNSUPPORTED, "the host's pincer.acp/1 has no spawn")) };
        agent.with_c(|agent| self.host.spawn_with(request, |raw, out| unsafe { spawn(self.host.as_raw(), agent, raw, out) }))?
    }

    /// The agents the operator configured, as JSON: `[{"name": …, "model": "acp/…"}, …]`.
    pub fn agents(&self) -> Result<HostString, Error> {
        let Some(agents) = self.table.agents else { return Err(Error::new(Code::UNSUPPORTED, "the host's pincer.acp/1 has no agents")) };
        let mut out = ptr::null_mut();
        self.host.check(unsafe { agents(self.host.as_raw(), &mut out) })?;
        unsafe { HostString::from_raw(self.host, out) }
    }
}
