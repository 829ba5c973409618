/* acp.h from a plugin: sessions on external agents through "pincer.acp/1".
 * Cases: "refused" (the operator's gate is off: spawn is DENIED naming
 * plugins.allowAcpSpawn), "unknown" (an agent nobody configured; a model
 * given), "spawn" (the gate on: a session on the "echo" agent, its run
 * followed through runs.h and waited for, a follow-up prompt through the host
 * table continuing it, the transcript read back; the session key is the report). */
#define FIXTURE_ID "fx-acp"
#define FIXTURE_CAPABILITIES PINCER_CAP_ACP_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT
#include "fixture.h"

#include <stdatomic.h>

/* What runs.h's follow of the agent's first run delivered. */
static atomic_int followed_events, followed_ends;
static void on_event(void *context, const pincer_run_event *event) {
    (void)context;
    if (event->kind == PINCER_RUN_EVENT) followed_events++;
    if (event->kind == PINCER_RUN_END && event->status == PINCER_RUN_COMPLETED) followed_ends++;
}

static int run_case(const char *name, char *report, size_t capacity) {
    const pincer_acp_v1 *acp = host->get_extension(host, PINCER_ACP_EXTENSION_ID);
    EXPECT(acp != NULL && acp->struct_size >= sizeof *acp, "no pincer.acp/1 table");
    char *agents = NULL;
    EXPECT_CODE(PINCER_OK, acp->agents(host, &agents));
    EXPECT(strstr(agents, "\"name\":\"echo\"") != NULL, "agents: %s", agents);
    host->free(host, agents);
    pincer_spawn_request request = fixture_request("Hello, agent!");
    pincer_spawn_result spawned = {.struct_size = sizeof spawned};

    if (strcmp(name, "refused") == 0) {
        EXPECT_CODE(PINCER_ERR_DENIED, acp->spawn(host, "echo", &request, &spawned));
        EXPECT_ERROR_MENTIONS("plugins.allowAcpSpawn");
        return 0;
    }
    if (strcmp(name, "unknown") == 0) {
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, acp->spawn(host, "nope", &request, &spawned));
        EXPECT_ERROR_MENTIONS("acp.agents names: echo");
        request.model = "local/instant";
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, acp->spawn(host, "echo", &request, &spawned));
        EXPECT_ERROR_MENTIONS("must be NULL");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, acp->spawn(host, NULL, &request, &spawned));
        return 0;
    }
    if (strcmp(name, "spawn") == 0) {
        EXPECT_CODE(PINCER_OK, acp->spawn(host, "echo", &request, &spawned));
        /* Its run streams through runs.h like any other: every event, then the end. */
        const pincer_runs_v1 *runs = host->get_extension(host, PINCER_RUNS_EXTENSION_ID);
        EXPECT(runs != NULL, "no pincer.runs/1");
        pincer_run_follow follow = {.struct_size = sizeof follow, .run_id = spawned.run_id, .on_event = on_event};
        EXPECT_CODE(PINCER_OK, runs->follow(host, &follow, NULL));
        for (int i = 0; i < 500 && followed_ends == 0; i++) fixture_sleep_ms(10);
        EXPECT(followed_ends == 1 && followed_events >= 1, "followed %d events and %d ends", followed_events, followed_ends);
        pincer_run_info info = {.struct_size = sizeof info};
        EXPECT_CODE(PINCER_OK, host->wait(host, spawned.run_id, 30000, &info));
        EXPECT(info.status == PINCER_RUN_COMPLETED, "first run ended %d: %s", info.status, info.error ? info.error : "");
        EXPECT(info.final_text && strcmp(info.final_text, "Hello, agent!") == 0, "first reply '%s'", info.final_text ? info.final_text : "");
        host->free(host, info.final_text);
        host->free(host, info.error);
        pincer_run_ref next = {.struct_size = sizeof next};
        EXPECT_CODE(PINCER_OK, fixture_prompt(spawned.session_key, "And again", &next));
        pincer_run_info second = {.struct_size = sizeof second};
        EXPECT_CODE(PINCER_OK, host->wait(host, next.run_id, 30000, &second));
        EXPECT(second.status == PINCER_RUN_COMPLETED && second.final_text && strcmp(second.final_text, "And again") == 0,
               "follow-up ended %d: '%s'", second.status, second.final_text ? second.final_text : "");
        host->free(host, second.final_text);
        host->free(host, second.error);
        char *messages = NULL;
        EXPECT_CODE(PINCER_OK, host->messages(host, spawned.session_key, 0, &messages));
        EXPECT(strstr(messages, "And again") != NULL, "transcript: %s", messages);
        host->free(host, messages);
        snprintf(report, capacity, "%s", spawned.session_key);
        return 0;
    }
    EXPECT(0, "no case %s", name);
}
