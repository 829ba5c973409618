/*
 * The plugin loaded beside the adversary (adversary.c): it sets up state another
 * plugin must never be able to reach — three sessions with metadata, a rate-limit
 * window part used, a tool and a hook — and later checks that every bit of it is
 * still exactly as it left it. Run "setup" before the storm and "check" after it.
 */
#define FIXTURE_ID "fx-victim"
#define FIXTURE_CAPABILITIES PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_METADATA, \
                             PINCER_CAP_RATE_LIMIT, PINCER_CAP_HOST_READ, PINCER_CAP_TOOLS_REGISTER, PINCER_CAP_HOOKS_OBSERVE
#include "fixture.h"

enum { SESSIONS = 3, WINDOW_MAX = 10, COUNTED = 5 };
#define WINDOW_KEY "victim-window"
#define WINDOW_MS 600000u /* ten minutes: no request leaves the window during a test */

static char keys[SESSIONS][PINCER_SESSION_KEY_CAPACITY];
/* The metadata as the host answered it right after set_metadata, to compare byte for byte. */
static char metadata[SESSIONS][256];
static pincer_registration tool_id, hook_id;

static pincer_result ping(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = NULL;
    return PINCER_OK;
}

static pincer_result observe(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)event;
    (void)decision;
    return PINCER_OK;
}

static int setup(char *report, size_t capacity) {
    for (int i = 0; i < SESSIONS; i++) {
        char message[64], initial[96];
        snprintf(message, sizeof message, "victim session %d", i);
        snprintf(initial, sizeof initial, "{\"fx-victim\":{\"n\":%d}}", i);
        pincer_spawn_request request;
        memset(&request, 0, sizeof request);
        request.struct_size = sizeof request;
        request.message = message;
        request.metadata_json = initial;
        pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
        EXPECT_CODE(PINCER_OK, host->spawn(host, &request, &spawned));
        snprintf(keys[i], sizeof keys[i], "%s", spawned.session_key);
        /* Let the first run end, so the session holds no guard slot during the storm. */
        pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
        EXPECT_CODE(PINCER_OK, host->wait(host, spawned.run_id, 10000, &info));
        EXPECT(info.status == PINCER_RUN_COMPLETED, "session %d's first run ended with status %d", i, info.status);
        host->free(host, info.final_text);
        host->free(host, info.error);

        char value[128];
        snprintf(value, sizeof value, "{\"n\":%d,\"owner\":\"victim\",\"tag\":\"v-%d\"}", i, i);
        EXPECT_CODE(PINCER_OK, host->set_metadata(host, keys[i], value));
        char *json = NULL;
        EXPECT_CODE(PINCER_OK, host->get_metadata(host, keys[i], &json));
        EXPECT(strstr(json, "\"tag\":\"v-") != NULL, "metadata read back as %s", json);
        snprintf(metadata[i], sizeof metadata[i], "%s", json);
        host->free(host, json);
    }
    pincer_rate_limit_result r = {.struct_size = sizeof(pincer_rate_limit_result)};
    for (int i = 0; i < COUNTED; i++) {
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, WINDOW_KEY, WINDOW_MAX, WINDOW_MS, &r));
        EXPECT(r.allowed && r.remaining == (uint32_t)(WINDOW_MAX - 1 - i), "request %d: allowed %d remaining %u", i, r.allowed, r.remaining);
    }
    pincer_tool_definition tool;
    memset(&tool, 0, sizeof tool);
    tool.struct_size = sizeof tool;
    tool.name = "fx-victim.ping";
    tool.description = "Answers nothing; exists so another plugin can try to take it away.";
    tool.invoke = ping;
    EXPECT_CODE(PINCER_OK, host->register_tool(host, &tool, &tool_id));
    pincer_hook_definition hook;
    memset(&hook, 0, sizeof hook);
    hook.struct_size = sizeof hook;
    hook.point = PINCER_HOOK_SESSION_CREATED;
    hook.call = observe;
    EXPECT_CODE(PINCER_OK, host->register_hook(host, &hook, &hook_id));
    snprintf(report, capacity, "%s %s %s", keys[0], keys[1], keys[2]);
    return 0;
}

static int check(char *report, size_t capacity) {
    for (int i = 0; i < SESSIONS; i++) {
        char *json = NULL;
        EXPECT_CODE(PINCER_OK, host->get_session(host, keys[i], &json));
        host->free(host, json);
        EXPECT_CODE(PINCER_OK, host->get_metadata(host, keys[i], &json));
        int same = strcmp(json, metadata[i]) == 0;
        char got[256];
        snprintf(got, sizeof got, "%s", json);
        host->free(host, json);
        EXPECT(same, "session %d's metadata is %s, was %s", i, got, metadata[i]);
        EXPECT_CODE(PINCER_OK, host->messages(host, keys[i], 0, &json));
        char expected[64];
        snprintf(expected, sizeof expected, "\"content\":\"victim session %d\"", i);
        int kept = strstr(json, expected) != NULL;
        host->free(host, json);
        EXPECT(kept, "session %d's transcript lost its first message", i);
    }
    /* Five of ten were counted in setup: the sixth is allowed and leaves exactly four. */
    pincer_rate_limit_result r = {.struct_size = sizeof(pincer_rate_limit_result)};
    EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, WINDOW_KEY, WINDOW_MAX, WINDOW_MS, &r));
    EXPECT(r.allowed && r.remaining == WINDOW_MAX - COUNTED - 1, "the window's sixth request: allowed %d, remaining %u (expected 4)",
           r.allowed, r.remaining);
    /* Both registrations are still live: the name is taken, and each handle withdraws once. */
    pincer_tool_definition tool;
    memset(&tool, 0, sizeof tool);
    tool.struct_size = sizeof tool;
    tool.name = "fx-victim.ping";
    tool.description = "again";
    tool.invoke = ping;
    EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &tool, NULL));
    EXPECT_ERROR_MENTIONS("already registered");
    EXPECT_CODE(PINCER_OK, host->unregister(host, tool_id));
    EXPECT_CODE(PINCER_OK, host->unregister(host, hook_id));
    snprintf(report, capacity, "3 sessions, their metadata, the window (4 left) and 2 registrations intact");
    return 0;
}

static int run_case(const char *name, char *report, size_t capacity) {
    if (strcmp(name, "setup") == 0) return setup(report, capacity);
    if (strcmp(name, "check") == 0) return check(report, capacity);
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
