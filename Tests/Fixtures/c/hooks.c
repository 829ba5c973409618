/* Hooks. Case "register" registers one hook for every point, at priority
 * FIXTURE_PRIORITY with deadline FIXTURE_DEADLINE_MS; case "refusals" checks
 * what register_hook refuses. Every call is recorded, one line each:
 * "<plugin> <point> <key or tool> <payload>" (case "events" reads them, "deltas"
 * the streamed text). What the gates answer is the mode, set by case
 * "mode <name>":
 *   allow          continue, no patch
 *   block          block every session
 *   block-tools    block every call of the tool "echo"
 *   patch          sessions: system prompt, deny "clock", own metadata;
 *                  tool calls: arguments {"text":"rewritten by <plugin>"}
 *   fail           return PINCER_ERR_PLUGIN
 *   slow           sleep 1500 ms, then continue
 *   bad-verdict    answer verdict 7
 *   bad-patch      a patch that is not JSON
 *   bad-member     a patch with a member the point does not allow
 *   call-host      call host->log and host->get_metadata from the hook
 *   spawn-in-hook  tool calls: spawn a session from the hook (its own gates
 *                  run re-entrantly on the same hook thread)
 * Case "spawn <message>" spawns a session of the plugin's own and reports
 * "<session key> <run id>". */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-hooks"
#endif
#ifndef FIXTURE_PRIORITY
#define FIXTURE_PRIORITY 0
#endif
#ifndef FIXTURE_DEADLINE_MS
#define FIXTURE_DEADLINE_MS 0
#endif
#define FIXTURE_CAPABILITIES PINCER_CAP_HOOKS_GATE, PINCER_CAP_HOOKS_OBSERVE, PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT, PINCER_CAP_SESSIONS_DELETE, PINCER_CAP_SESSIONS_METADATA
#include "fixture.h"

#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char mode[64] = "allow";
static char events[16384];
static char deltas[16384];
/* Lanes: calls on one lane (gates, observers) must never overlap. */
static int in_lane[2];
static int lane_overlaps;

static const char *point_name(pincer_hook_point point) {
    switch (point) {
    case PINCER_HOOK_BEFORE_SESSION_CREATE: return "before_session_create";
    case PINCER_HOOK_SESSION_CREATED: return "session_created";
    case PINCER_HOOK_BEFORE_TOOL_CALL: return "before_tool_call";
    case PINCER_HOOK_AFTER_TOOL_CALL: return "after_tool_call";
    case PINCER_HOOK_RUN_EVENT: return "run_event";
    }
    return "unknown";
}

static void append(char *buffer, size_t capacity, const char *text) {
    size_t used = strlen(buffer), n = strlen(text);
    if (used + n + 1 < capacity) memcpy(buffer + used, text, n + 1);
}

static char *host_string(const char *text) {
    char *copy = host->alloc(host, strlen(text) + 1);
    if (copy) strcpy(copy, text);
    return copy;
}

/* Records the call; returns the mode in force. */
static void record(const pincer_hook_event *event, char *mode_out) {
    pthread_mutex_lock(&lock);
    strcpy(mode_out, mode);
    const char *delta = strstr(event->payload_json, "\"kind\":\"text_delta\",\"text\":\"");
    if (event->point == PINCER_HOOK_RUN_EVENT && delta) {
        /* Streamed text: kept apart, without the JSON around it (no escapes in the fixtures' texts). */
        delta += strlen("\"kind\":\"text_delta\",\"text\":\"");
        size_t n = strcspn(delta, "\"");
        char piece[256];
        snprintf(piece, sizeof piece, "%.*s", (int)(n < 255 ? n : 255), delta);
        append(deltas, sizeof deltas, piece);
    } else {
        char line[2048];
        snprintf(line, sizeof line, "%s %s %s %s %s\n", FIXTURE_ID, point_name(event->point),
                 event->tool_name ? event->tool_name : event->session_key, event->workspace_dir, event->payload_json);
        append(events, sizeof events, line);
    }
    pthread_mutex_unlock(&lock);
}

static pincer_result hook_body(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    char current[64];
    if (context != &lock || event->struct_size != sizeof(pincer_hook_event) ||
        decision->struct_size != sizeof(pincer_hook_decision) || decision->verdict != PINCER_HOOK_CONTINUE) {
        decision->reason = host_string("the host handed a wrong context, size or initial verdict");
        return PINCER_ERR_PLUGIN;
    }
    record(event, current);
    int gate = event->point == PINCER_HOOK_BEFORE_SESSION_CREATE || event->point == PINCER_HOOK_BEFORE_TOOL_CALL;
    if (!gate) return PINCER_OK;
    int sessions = event->point == PINCER_HOOK_BEFORE_SESSION_CREATE;
    if (strcmp(current, "block") == 0 && sessions) {
        decision->verdict = PINCER_HOOK_BLOCK;
        decision->reason = host_string("no sessions today");
    } else if (strcmp(current, "block-tools") == 0 && !sessions && strcmp(event->tool_name, "echo") == 0) {
        decision->verdict = PINCER_HOOK_BLOCK;
        decision->reason = host_string("echo is off-limits");
    } else if (strcmp(current, "patch") == 0) {
        decision->patch_json = host_string(
            sessions ? "{\"systemPrompt\":\"Patched by " FIXTURE_ID "\",\"toolsDeny\":[\"clock\"],\"metadata\":{\"seenBy\":\"" FIXTURE_ID "\"}}"
                     : "{\"arguments\":{\"text\":\"rewritten by " FIXTURE_ID "\"}}");
    } else if (strcmp(current, "fail") == 0) {
        decision->reason = host_string("the policy store is unreachable");
        return PINCER_ERR_PLUGIN;
    } else if (strcmp(current, "slow") == 0) {
        fixture_sleep_ms(1500);
    } else if (strcmp(current, "bad-verdict") == 0) {
        decision->verdict = 7;
    } else if (strcmp(current, "bad-patch") == 0) {
        decision->patch_json = host_string("{not json");
    } else if (strcmp(current, "bad-member") == 0) {
        decision->patch_json = host_string("{\"model\":\"other\"}");
    } else if (strcmp(current, "spawn-in-hook") == 0 && !sessions) {
        pincer_spawn_request request;
        memset(&request, 0, sizeof request);
        request.struct_size = sizeof request;
        request.message = "spawned from a hook";
        pincer_spawn_result result = {.struct_size = sizeof(pincer_spawn_result)};
        if (host->spawn(host, &request, &result) != PINCER_OK) {
            decision->reason = host_string(host->last_error(host));
            return PINCER_ERR_PLUGIN;
        }
    } else if (strcmp(current, "call-host") == 0) {
        if (host->log(host, PINCER_LOG_INFO, "hook called the host") != PINCER_OK) return PINCER_ERR_PLUGIN;
        if (!sessions) {
            char *metadata = NULL;
            pincer_result code = host->get_metadata(host, event->session_key, &metadata);
            host->free(host, metadata);
            if (code != PINCER_OK) return code;
        }
    }
    return PINCER_OK;
}

/* Counts calls that overlap another on the same lane (a nested gate, from a spawn in a hook, counts too). */
static pincer_result hook(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    int lane = event->point == PINCER_HOOK_BEFORE_SESSION_CREATE || event->point == PINCER_HOOK_BEFORE_TOOL_CALL;
    pthread_mutex_lock(&lock);
    if (in_lane[lane]++ > 0) lane_overlaps++;
    pthread_mutex_unlock(&lock);
    pincer_result code = hook_body(context, event, decision);
    pthread_mutex_lock(&lock);
    in_lane[lane]--;
    pthread_mutex_unlock(&lock);
    return code;
}

static pincer_hook_definition definition(pincer_hook_point point) {
    pincer_hook_definition d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.point = point;
    d.priority = FIXTURE_PRIORITY;
    d.deadline_ms = FIXTURE_DEADLINE_MS;
    d.call = hook;
    d.context = &lock;
    return d;
}

static int run_case(const char *name, char *report, size_t capacity) {
    if (strcmp(name, "register") == 0) {
        for (pincer_hook_point p = PINCER_HOOK_BEFORE_SESSION_CREATE; p <= PINCER_HOOK_RUN_EVENT; p++) {
            pincer_hook_definition d = definition(p);
            EXPECT_CODE(PINCER_OK, host->register_hook(host, &d, NULL));
        }
        return 0;
    }
    if (strcmp(name, "refusals") == 0) {
        pincer_hook_definition d = definition(5);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_hook(host, &d, NULL));
        EXPECT_ERROR_MENTIONS("hook->point 5 is not a pincer_hook_point");
        d = definition(PINCER_HOOK_RUN_EVENT);
        d.call = NULL;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_hook(host, &d, NULL));
        EXPECT_ERROR_MENTIONS("hook->call is NULL");
        d = definition(PINCER_HOOK_RUN_EVENT);
        d.deadline_ms = PINCER_HOOK_MAX_DEADLINE_MS + 1;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_hook(host, &d, NULL));
        EXPECT_ERROR_MENTIONS("at most PINCER_HOOK_MAX_DEADLINE_MS");
        d = definition(PINCER_HOOK_RUN_EVENT);
        d.struct_size = 4;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_hook(host, &d, NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_hook(host, NULL, NULL));
        return 0;
    }
    if (strncmp(name, "mode ", 5) == 0) {
        pthread_mutex_lock(&lock);
        snprintf(mode, sizeof mode, "%s", name + 5);
        pthread_mutex_unlock(&lock);
        return 0;
    }
    if (strcmp(name, "events") == 0 || strcmp(name, "deltas") == 0) {
        pthread_mutex_lock(&lock);
        snprintf(report, capacity, "%s", name[0] == 'e' ? events : deltas);
        pthread_mutex_unlock(&lock);
        return 0;
    }
    if (strncmp(name, "spawn ", 6) == 0) {
        pincer_spawn_request request;
        memset(&request, 0, sizeof request);
        request.struct_size = sizeof request;
        request.message = name + 6;
        pincer_spawn_result result = {.struct_size = sizeof(pincer_spawn_result)};
        EXPECT_CODE(PINCER_OK, host->spawn(host, &request, &result));
        snprintf(report, capacity, "%s %s", result.session_key, result.run_id);
        return 0;
    }
    if (strcmp(name, "overlaps") == 0) {
        pthread_mutex_lock(&lock);
        snprintf(report, capacity, "%d", lane_overlaps);
        pthread_mutex_unlock(&lock);
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
