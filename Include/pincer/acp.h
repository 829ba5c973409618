/*
 * pincer/acp.h — sessions on external coding agents (the Agent Client
 * Protocol), for plugins.
 *
 * Extension id "pincer.acp/1" (@since 1.2; gateway.h's "Versions" note holds
 * here too):
 *
 *     const pincer_acp_v1 *acp = host->get_extension(host, PINCER_ACP_EXTENSION_ID);
 *     if (acp == NULL) { ... this host has no agents: degrade ... }
 *
 * The operator configures the agents (acp.agents.<name>: executable,
 * arguments, environment); a plugin names an agent, never a command line. A
 * session on an agent runs each of its runs as one prompt to that agent, which
 * works on its own (its tool calls ask the session's tool policy as
 * "acp:<kind>": acp:read, acp:edit, acp:execute, …; its files stay in the
 * session's workspace). The README's "External coding agents" says the rest.
 *
 * Who may: the capability "acp.spawn" in the descriptor, AND the operator's
 * plugins.allowAcpSpawn = true (default false), not narrowed by
 * plugins.entries.<id>.allowAcpSpawn = false. The operator's setting is
 * checked on EVERY call — spawn here, and every host-table call on the
 * session it made (prompt, wait, messages, get_session, steer, cancel_run,
 * delete_session) — against the config as it is now (pincer serve re-reads
 * it on SIGHUP): turned off, each answers PINCER_ERR_DENIED with a message
 * naming the setting to change.
 *
 * After spawn, an agent's session is a session like any other: the host
 * table's prompt continues the same agent session (prompts queue in order),
 * wait / messages / get_session / delete_session / cancel_run work on it, and
 * runs.h follows its runs as they stream. is_streaming is true while the
 * agent's turn is under way; steer text is delivered as the next prompt when
 * that turn ends.
 *
 * @since 1.2
 */
#ifndef PINCER_ACP_H
#define PINCER_ACP_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "platform.h"
#include "result.h"
#include "sessions.h"

PINCER_EXTERN_C_BEGIN

#define PINCER_ACP_EXTENSION_ID "pincer.acp/1"

/* The capability spawn needs (entry.h's list). */
#define PINCER_CAP_ACP_SPAWN "acp.spawn"

/* The table get_extension(host, PINCER_ACP_EXTENSION_ID) returns. Owned by the
 * host, valid until the plugin is dead. */
typedef struct pincer_acp_v1 {
    /* sizeof(pincer_acp_v1) as the host was compiled. */
    uint32_t struct_size;

    /* Starts a session on the agent the operator named `agent` (acp.agents.<agent>),
     * with `request->message` as its first prompt, and answers at once (the
     * agent starts and works while the run goes on). `request` is sessions.h's
     * spawn request: model must be NULL (the agent is the session's model);
     * tools_allow / tools_deny narrow what the agent may do ("acp:<kind>"
     * patterns); label, timeout_seconds, system_prompt and metadata_json as
     * for host->spawn. *out as for host->spawn. [blocking] like host->spawn
     * (a before_session_create gate may run).
     * PINCER_ERR_NOT_FOUND: no such agent (the message lists the configured
     * ones); PINCER_ERR_DENIED: without "acp.spawn", or the operator's
     * plugins.allowAcpSpawn says no (named); PINCER_ERR_INVALID_ARGUMENT: a
     * model given, or what host->spawn refuses. [any-thread] */
    pincer_result (PINCER_ABI *spawn)(const pincer_host *host, const char *agent, const pincer_spawn_request *request,
                                      pincer_spawn_result *out);

    /* The agents the operator configured, as JSON: [{"name": "…", "model":
     * "acp/…"}, …]; *out_json is host memory (host->free). Answers whether or
     * not the plugin may use them. [any-thread] */
    pincer_result (PINCER_ABI *agents)(const pincer_host *host, char **out_json);
} pincer_acp_v1;

PINCER_EXTERN_C_END

#endif /* PINCER_ACP_H */
