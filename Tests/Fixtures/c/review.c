/* What the outside review of ABI 1.0 (rc1) found, one case each, as a plugin
 * author would meet it. Each case fails on the rc1 host and passes on rc2.
 *
 *   wrapped_counts    tools_allow_count of SIZE_MAX / 2^63 is refused, never "no policy"
 *   struct_sizes      smaller and zero-tailed larger requests work; a non-zero tail is
 *                     UNSUPPORTED naming the byte; results report what was written
 *   unterminated      a tool result from host->alloc without a NUL is never read past
 *   log_injection     a line break or escape sequence cannot forge another log line
 *   long_log          a line cut inside a UTF-8 character is cut before it, not refused
 *   memory_handles    alloc / free / last_error check the handle
 *   wait_own_run      wait() from a tool on its own run answers WOULD_BLOCK at once
 *   cancel_tool       a cancelled run's tool learns it and its late result is dropped
 *   unregister        a registration is withdrawn once and released once
 *   tool_limits       the 257th tool and a 64 KiB + 1 schema are refused
 *   queue_bounds      the 17th queued run of a session is refused
 *   wait_nul <run>    a final text holding U+0000 is refused, not cut
 *   recursive_gate    a before_session_create gate that spawns is stopped at the nesting limit
 *   slow_observer     a slow observer does not make the plugin's own gate late
 *   block_in_wait     a thread of the plugin blocked in wait(); the host still stops at once
 *   observe_slowly    a run_event observer that takes 1.5 s on its first event (drain overrun)
 *   split_caps        (built with sessions.spawn + sessions.read only) reading works, deleting
 *                     and gating are DENIED, naming the capability
 *
 * Knob REVIEW_INIT_REGISTERS: init registers a blocking gate and a tool (with
 * release callbacks that log) before init fails or succeeds. Knob
 * REVIEW_INIT_WAITS: init spawns a session and waits for its run (a plugin
 * initialising is not stopping: its waits block as usual) and logs the code.
 */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-review"
#endif
#ifndef FIXTURE_CAPABILITIES
#define FIXTURE_CAPABILITIES PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT, \
    PINCER_CAP_SESSIONS_DELETE, PINCER_CAP_SESSIONS_METADATA, PINCER_CAP_TOOLS_REGISTER, PINCER_CAP_HOOKS_GATE, \
    PINCER_CAP_HOOKS_OBSERVE
#endif

#define _POSIX_C_SOURCE 200809L /* before any header: fixture.h's nanosleep */
#include <pincer/pincer.h>

static void review_on_init(const pincer_host *h);
static void review_on_shutdown(void);
#define FIXTURE_ON_INIT review_on_init
#define FIXTURE_ON_SHUTDOWN review_on_shutdown
#include "fixture.h"

#include <stdint.h>
#include <stdlib.h>

static pthread_mutex_t state = PTHREAD_MUTEX_INITIALIZER;
static int releases, tool_started, saw_stop, nested_limit;
static char nested_message[512];
static pincer_result wait_from_tool = -1;

static char *host_string(const char *text) {
    char *copy = host->alloc(host, strlen(text) + 1);
    if (copy) strcpy(copy, text);
    return copy;
}

static void released(void *context) {
    pthread_mutex_lock(&state);
    releases++;
    pthread_mutex_unlock(&state);
    host->log(host, PINCER_LOG_INFO, (const char *)context);
}

static pincer_tool_definition tool(const char *name, pincer_tool_invoke invoke) {
    pincer_tool_definition t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    t.name = name;
    t.description = "a review tool";
    t.invoke = invoke;
    return t;
}


/* ---- Tools ------------------------------------------------------------- */

static pincer_result unterminated(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context, (void)call;
    char *text = host->alloc(host, 5);
    if (text) memset(text, 'x', 5);
    *out_text = text;
    return PINCER_OK;
}

static pincer_result wait_self(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    pincer_run_info info = {.struct_size = sizeof info};
    wait_from_tool = host->wait(host, call->run_id, UINT32_MAX, &info);
    *out_text = host_string(wait_from_tool == PINCER_ERR_WOULD_BLOCK ? "would block" : "waited");
    return PINCER_OK;
}

static pincer_result slow(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    pthread_mutex_lock(&state);
    tool_started = 1;
    pthread_mutex_unlock(&state);
    bool stop = false;
    for (int i = 0; i < 500 && !stop; i++) {
        if (host->run_stop_requested(host, call->run_id, &stop) != PINCER_OK) break;
        if (!stop) fixture_sleep_ms(10);
    }
    pthread_mutex_lock(&state);
    saw_stop = stop;
    pthread_mutex_unlock(&state);
    *out_text = host_string("late result");
    return PINCER_OK;
}

static pincer_result plain(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context, (void)call;
    *out_text = host_string("plain");
    return PINCER_OK;
}

/* ---- Hooks ------------------------------------------------------------- */

#ifdef REVIEW_INIT_REGISTERS
static pincer_result block_everything(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context, (void)event;
    decision->verdict = PINCER_HOOK_BLOCK;
    decision->reason = host_string("left over from a failed init");
    return PINCER_OK;
}
#endif

static pincer_result spawn_again(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context, (void)event, (void)decision;
    pincer_spawn_request r = fixture_request("deeper");
    pincer_spawn_result s = {.struct_size = sizeof s};
    pincer_result code = host->spawn(host, &r, &s);
    if (code == PINCER_ERR_LIMIT) {
        pthread_mutex_lock(&state);
        nested_limit++;
        snprintf(nested_message, sizeof nested_message, "%s", host->last_error(host));
        pthread_mutex_unlock(&state);
    }
    return PINCER_OK;
}

static pincer_result sleepy_observer(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context, (void)event, (void)decision;
    fixture_sleep_ms(300);
    return PINCER_OK;
}

static volatile int observing;

static pincer_result very_slow_observer(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context, (void)event, (void)decision;
    if (observing++ == 0) fixture_sleep_ms(1500);
    return PINCER_OK;
}

static pincer_result quick_gate(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context, (void)event, (void)decision;
    return PINCER_OK;
}

static void review_on_init(const pincer_host *h) {
#ifdef REVIEW_INIT_REGISTERS
    pincer_hook_definition gate = {sizeof gate, PINCER_HOOK_BEFORE_SESSION_CREATE, 0, 0, block_everything,
                                   (void *)"released the gate", released};
    h->register_hook(h, &gate, NULL);
    pincer_tool_definition t = tool(FIXTURE_ID ".leftover", plain);
    t.context = (void *)"released the tool";
    t.release = released;
    h->register_tool(h, &t, NULL);
#elif defined(REVIEW_INIT_WAITS)
    pincer_spawn_request r = fixture_request("hello from init");
    pincer_spawn_result s = {.struct_size = sizeof s};
    pincer_run_info info = {.struct_size = sizeof info};
    pincer_result code = h->spawn(h, &r, &s);
    if (code == PINCER_OK) code = h->wait(h, s.run_id, 10000, &info);
    char line[64];
    snprintf(line, sizeof line, "init wait: %d, status %d", code, info.status);
    h->log(h, PINCER_LOG_INFO, line);
    h->free(h, info.final_text);
#else
    (void)h;
#endif
}

/* ---- Cases ------------------------------------------------------------- */

static pincer_result spawn_and_wait(const char *message, pincer_run_info *info, char *key) {
    pincer_spawn_request r = fixture_request(message);
    pincer_spawn_result s = {.struct_size = sizeof s};
    pincer_result code = host->spawn(host, &r, &s);
    if (code != PINCER_OK) return code;
    if (key) strcpy(key, s.session_key);
    return host->wait(host, s.run_id, 20000, info);
}

/* Whether the session's transcript contains `part`. */
static int transcript_has(const char *key, const char *part) {
    char *json = NULL;
    if (host->messages(host, key, 0, &json) != PINCER_OK) return -1;
    int found = strstr(json, part) != NULL;
    host->free(host, json);
    return found;
}

struct waiter {
    char run_id[PINCER_RUN_ID_CAPACITY];
    pincer_result code;
    /* Set just before the thread calls wait(): the test stops the host only after that. */
    _Atomic int calling;
};

static void *wait_forever(void *arg) {
    struct waiter *w = arg;
    pincer_run_info info = {.struct_size = sizeof info};
    w->calling = 1;
    w->code = host->wait(host, w->run_id, UINT32_MAX, &info);
    return NULL;
}

static pthread_t waiting_thread;
static int waiting_thread_started;
static struct waiter waiter;

static int run_case(const char *name, char *report, size_t capacity) {
    pincer_spawn_request r = fixture_request("hi");
    pincer_spawn_result s = {.struct_size = sizeof s};
    pincer_run_info info = {.struct_size = sizeof info};
    char key[PINCER_SESSION_KEY_CAPACITY];
    if (strcmp(name, "wrapped_counts") == 0) {
        const char *one[] = {"echo"};
        size_t counts[] = {SIZE_MAX, (size_t)1 << 63, 129};
        for (int i = 0; i < 3; i++) {
            r.tools_allow = one;
            r.tools_allow_count = counts[i];
            EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &s));
            EXPECT_ERROR_MENTIONS("request->tools_allow_count is");
            r.tools_allow_count = 0;
            r.tools_deny = one;
            r.tools_deny_count = counts[i];
            EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &s));
            r.tools_deny_count = 0;
        }
        return 0;
    }
    if (strcmp(name, "struct_sizes") == 0) {
        /* Smaller: a plugin built before metadata_json existed. */
        r.struct_size = (uint32_t)offsetof(pincer_spawn_request, metadata_json);
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        EXPECT(s.struct_size == sizeof s, "result struct_size %u", s.struct_size);
        r.struct_size = 4;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &s));
        EXPECT_ERROR_MENTIONS("needs at least 16 bytes");
        r.struct_size = 100000;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &s));
        EXPECT_ERROR_MENTIONS("PINCER_MAX_STRUCT_SIZE");
        /* Larger: a plugin built against a newer minor, its new options left zero. */
        unsigned char larger[sizeof(pincer_spawn_request) + 16];
        memset(larger, 0, sizeof larger);
        r.struct_size = sizeof larger;
        memcpy(larger, &r, sizeof r);
        EXPECT_CODE(PINCER_OK, host->spawn(host, (const pincer_spawn_request *)(const void *)larger, &s));
        larger[sizeof(pincer_spawn_request) + 3] = 1;
        EXPECT_CODE(PINCER_ERR_UNSUPPORTED, host->spawn(host, (const pincer_spawn_request *)(const void *)larger, &s));
        char byte[64];
        snprintf(byte, sizeof byte, "byte %zu of pincer_spawn_request is not zero", sizeof(pincer_spawn_request) + 3);
        EXPECT_ERROR_MENTIONS(byte);
        /* Results: too small is refused before anything happens; larger gets what the host has. */
        r.struct_size = sizeof r;
        pincer_run_info small = {.struct_size = 8};
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->wait(host, "run-x", 0, &small));
        union {
            pincer_run_info info;
            unsigned char bytes[sizeof(pincer_run_info) + 8];
        } big;
        memset(&big, 0xAB, sizeof big);
        big.info.struct_size = sizeof big;
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 20000, &big.info));
        EXPECT(big.info.struct_size == sizeof(pincer_run_info), "host wrote back %u, not sizeof(pincer_run_info)", big.info.struct_size);
        EXPECT(big.bytes[sizeof big - 1] == 0xAB, "the host wrote past its own size");
        host->free(host, big.info.final_text);
        /* A tool definition below its required fields. */
        pincer_tool_definition t = tool(FIXTURE_ID ".small", plain);
        t.struct_size = (uint32_t)offsetof(pincer_tool_definition, invoke);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        /* …and one without the rc2 release field: accepted, release defaults to none. */
        t.struct_size = (uint32_t)offsetof(pincer_tool_definition, release);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        return 0;
    }
    if (strcmp(name, "unterminated") == 0) {
        pincer_tool_definition t = tool(FIXTURE_ID ".unterminated", unterminated);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        EXPECT_CODE(PINCER_OK, spawn_and_wait("@" FIXTURE_ID ".unterminated", &info, key));
        host->free(host, info.final_text);
        EXPECT(transcript_has(key, "has no NUL within the 5 bytes host->alloc gave it") == 1, "no refusal in the transcript");
        return 0;
    }
    if (strcmp(name, "log_injection") == 0) {
        EXPECT_CODE(PINCER_OK, host->log(host, PINCER_LOG_INFO, "one\n[other] info: forged\x1b[31m red\r\t\xc2\x85"));
        return 0;
    }
    if (strcmp(name, "long_log") == 0) {
        /* 65,535 ASCII bytes, then a 3-byte character across the 64 KiB limit. */
        size_t n = (64u << 10) + 100;
        char *line = malloc(n + 1);
        EXPECT(line != NULL, "malloc");
        memset(line, 'a', n);
        memcpy(line + (64u << 10) - 1, "\xe2\x82\xac", 3);
        line[n] = 0;
        pincer_result code = host->log(host, PINCER_LOG_INFO, line);
        free(line);
        EXPECT(code == PINCER_OK, "log of a long line returned %d: %s", code, host->last_error(host));
        return 0;
    }
    if (strcmp(name, "memory_handles") == 0) {
        const pincer_host *forged = (const pincer_host *)((const char *)host + 8);
        EXPECT(host->alloc(forged, 16) == NULL, "alloc with a forged handle answered memory");
        EXPECT(host->alloc(NULL, 16) == NULL, "alloc with NULL answered memory");
        EXPECT(host->alloc(host, 0) == NULL, "alloc(0) answered memory");
        EXPECT(host->alloc(host, (size_t)1 << 40) == NULL, "alloc(1 TiB) answered memory");
        char *kept = host->alloc(host, 16);
        EXPECT(kept != NULL, "alloc(16) failed");
        host->free(forged, kept); /* ignored: the block stays ours */
        kept[0] = 'k';
        /* Pointers into the block, at every misalignment: not blocks of the host's, so ignored. */
        for (int offset = 1; offset < 16; offset++) host->free(host, kept + offset);
        host->free(host, kept);
        host->free(host, NULL);
        /* A failure with a bad handle never overwrites this plugin's own message. */
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->delete_session(host, "plugin:nobody:1"));
        EXPECT_CODE(PINCER_ERR_BAD_HANDLE, host->delete_session(forged, "plugin:nobody:1"));
        EXPECT_ERROR_MENTIONS("no session with key 'plugin:nobody:1'");
        EXPECT(strstr(host->last_error(forged), "not one this host handed out") != NULL, "bad-handle message %s",
               host->last_error(forged));
        return 0;
    }
    if (strcmp(name, "wait_own_run") == 0) {
        pincer_tool_definition t = tool(FIXTURE_ID ".wait_self", wait_self);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        EXPECT_CODE(PINCER_OK, spawn_and_wait("@" FIXTURE_ID ".wait_self", &info, key));
        EXPECT(info.status == PINCER_RUN_COMPLETED, "status %d", info.status);
        host->free(host, info.final_text);
        EXPECT(wait_from_tool == PINCER_ERR_WOULD_BLOCK, "wait from the tool returned %d", wait_from_tool);
        EXPECT(transcript_has(key, "would block") == 1, "the tool's answer is not in the transcript");
        return 0;
    }
    if (strcmp(name, "cancel_tool") == 0) {
        pincer_tool_definition t = tool(FIXTURE_ID ".slow", slow);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        r.message = "@" FIXTURE_ID ".slow";
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        for (int i = 0; i < 2000; i++) {
            pthread_mutex_lock(&state);
            int started = tool_started;
            pthread_mutex_unlock(&state);
            if (started) break;
            fixture_sleep_ms(2);
        }
        EXPECT_CODE(PINCER_OK, host->cancel_run(host, s.run_id));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 10000, &info));
        EXPECT(info.status == PINCER_RUN_CANCELLED, "status %d", info.status);
        EXPECT(info.duration_ms < 2000, "the cancelled run took %llu ms: the tool never learnt", (unsigned long long)info.duration_ms);
        host->free(host, info.error);
        EXPECT(saw_stop, "run_stop_requested never answered true");
        EXPECT(transcript_has(s.session_key, "late result") == 0, "the late result entered the transcript");
        return 0;
    }
    if (strcmp(name, "unregister") == 0) {
        pincer_tool_definition t = tool(FIXTURE_ID ".temp", plain);
        t.context = (void *)"released temp";
        t.release = released;
        pincer_registration id = 0;
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, &id));
        EXPECT(id != 0, "no registration handle");
        EXPECT_CODE(PINCER_OK, spawn_and_wait("@" FIXTURE_ID ".temp", &info, key));
        host->free(host, info.final_text);
        EXPECT(transcript_has(key, "\"content\":\"plain\"") == 1, "the tool did not run");
        EXPECT_CODE(PINCER_OK, host->unregister(host, id));
        EXPECT(releases == 1, "released %d times", releases);
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->unregister(host, id));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->unregister(host, 0));
        EXPECT(releases == 1, "released %d times after a second unregister", releases);
        EXPECT_CODE(PINCER_OK, spawn_and_wait("@" FIXTURE_ID ".temp", &info, key));
        host->free(host, info.final_text);
        EXPECT(transcript_has(key, "unknown tool '" FIXTURE_ID ".temp'") == 1, "the withdrawn tool still ran");
        /* A hook's handle too. */
        pincer_hook_definition h = {sizeof h, PINCER_HOOK_RUN_EVENT, 0, 0, quick_gate, (void *)"released hook", released, };
        EXPECT_CODE(PINCER_OK, host->register_hook(host, &h, &id));
        EXPECT_CODE(PINCER_OK, host->unregister(host, id));
        EXPECT(releases == 2, "hook released %d times", releases - 1);
        return 0;
    }
    if (strcmp(name, "tool_limits") == 0) {
        char names[PINCER_MAX_TOOLS_PER_PLUGIN + 1][64];
        for (unsigned i = 0; i <= PINCER_MAX_TOOLS_PER_PLUGIN; i++) {
            snprintf(names[i], sizeof names[i], FIXTURE_ID ".t%u", i);
            pincer_tool_definition t = tool(names[i], plain);
            pincer_result code = host->register_tool(host, &t, NULL);
            if (i < PINCER_MAX_TOOLS_PER_PLUGIN) {
                EXPECT(code == PINCER_OK, "tool %u refused: %s", i, host->last_error(host));
            } else {
                EXPECT(code == PINCER_ERR_LIMIT, "tool %u returned %d", i, code);
                EXPECT_ERROR_MENTIONS("PINCER_MAX_TOOLS_PER_PLUGIN");
            }
        }
        char *schema = malloc(PINCER_TOOL_SCHEMA_MAX_BYTES + 2);
        EXPECT(schema != NULL, "malloc");
        memset(schema, ' ', PINCER_TOOL_SCHEMA_MAX_BYTES + 1);
        schema[0] = '{';
        schema[PINCER_TOOL_SCHEMA_MAX_BYTES] = '}';
        schema[PINCER_TOOL_SCHEMA_MAX_BYTES + 1] = 0;
        pincer_tool_definition t = tool(FIXTURE_ID ".big", plain);
        t.parameters_json = schema;
        pincer_result code = host->register_tool(host, &t, NULL);
        free(schema);
        EXPECT(code == PINCER_ERR_INVALID_ARGUMENT, "a schema over 64 KiB returned %d", code);
        return 0;
    }
    if (strcmp(name, "queue_bounds") == 0) {
        r.message = "@sleep{\"ms\":3000}";
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        pincer_run_ref ref = {.struct_size = sizeof ref};
        for (unsigned i = 1; i < PINCER_MAX_QUEUED_RUNS; i++) EXPECT_CODE(PINCER_OK, fixture_prompt(s.session_key, "more", &ref));
        EXPECT_CODE(PINCER_ERR_LIMIT, fixture_prompt(s.session_key, "one too many", &ref));
        EXPECT_ERROR_MENTIONS("PINCER_MAX_QUEUED_RUNS");
        EXPECT_CODE(PINCER_OK, host->delete_session(host, s.session_key));
        return 0;
    }
    if (strncmp(name, "wait_nul ", 9) == 0) {
        EXPECT_CODE(PINCER_ERR_UNSUPPORTED, host->wait(host, name + 9, 10000, &info));
        EXPECT_ERROR_MENTIONS("contains U+0000");
        return 0;
    }
    if (strcmp(name, "recursive_gate") == 0) {
        pincer_hook_definition h = {sizeof h, PINCER_HOOK_BEFORE_SESSION_CREATE, 0, 5000, spawn_again, NULL, NULL};
        EXPECT_CODE(PINCER_OK, host->register_hook(host, &h, NULL));
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        EXPECT(nested_limit == 1, "the nesting limit was met %d times", nested_limit);
        EXPECT(strstr(nested_message, "PINCER_HOOK_MAX_NESTING") != NULL, "message %s", nested_message);
        return 0;
    }
    if (strcmp(name, "slow_observer") == 0) {
        pincer_hook_definition observer = {sizeof observer, PINCER_HOOK_RUN_EVENT, 0, 0, sleepy_observer, NULL, NULL};
        pincer_hook_definition gate = {sizeof gate, PINCER_HOOK_BEFORE_TOOL_CALL, 0, 200, quick_gate, NULL, NULL};
        EXPECT_CODE(PINCER_OK, host->register_hook(host, &observer, NULL));
        EXPECT_CODE(PINCER_OK, host->register_hook(host, &gate, NULL));
        EXPECT_CODE(PINCER_OK, spawn_and_wait("Say it @echo{\"text\":\"through\"}", &info, key));
        host->free(host, info.final_text);
        EXPECT(transcript_has(key, "\"content\":\"through\"") == 1, "the gate was late behind the observer");
        return 0;
    }
    if (strcmp(name, "observe_slowly") == 0) {
        pincer_hook_definition observer = {sizeof observer, PINCER_HOOK_RUN_EVENT, 0, 0, very_slow_observer, NULL, NULL};
        EXPECT_CODE(PINCER_OK, host->register_hook(host, &observer, NULL));
        r.message = "@sleep{\"ms\":5000}";
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        for (int i = 0; i < 1000 && !observing; i++) fixture_sleep_ms(2);
        EXPECT(observing, "the observer never ran");
        return 0;
    }
    if (strcmp(name, "block_in_wait") == 0) {
        r.message = "@sleep{\"ms\":8000}";
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        strcpy(waiter.run_id, s.run_id);
        waiter.code = -1;
        waiter.calling = 0;
        EXPECT(pthread_create(&waiting_thread, NULL, wait_forever, &waiter) == 0, "pthread_create");
        waiting_thread_started = 1;
        return 0;
    }
    if (strcmp(name, "block_in_wait_result") == 0) {
        snprintf(report, capacity, "%d", waiter.code);
        return 0;
    }
    if (strcmp(name, "block_in_wait_calling") == 0) {
        snprintf(report, capacity, "%d", (int)waiter.calling);
        return 0;
    }
    if (strcmp(name, "split_caps") == 0) {
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        char *json = NULL;
        EXPECT_CODE(PINCER_OK, host->get_session(host, s.session_key, &json));
        host->free(host, json);
        EXPECT_CODE(PINCER_ERR_DENIED, host->delete_session(host, s.session_key));
        EXPECT_ERROR_MENTIONS("lacks the capability 'sessions.delete'");
        EXPECT_CODE(PINCER_ERR_DENIED, host->set_metadata(host, s.session_key, "{}"));
        EXPECT_ERROR_MENTIONS("'sessions.metadata'");
        pincer_hook_definition gate = {sizeof gate, PINCER_HOOK_BEFORE_TOOL_CALL, 0, 0, quick_gate, NULL, NULL};
        EXPECT_CODE(PINCER_ERR_DENIED, host->register_hook(host, &gate, NULL));
        EXPECT_ERROR_MENTIONS("'hooks.gate'");
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}

/* Joins the thread block_in_wait started: shutdown() can only return once its wait has. */
static void review_on_shutdown(void) {
    if (waiting_thread_started) pthread_join(waiting_thread, NULL);
    waiting_thread_started = 0;
}
