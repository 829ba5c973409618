/* runs.h from a plugin: following runs through "pincer.runs/1". Each case
 * records what on_event receives and checks it: every event in order from
 * seq 0 and then END once (live and late), END only, refusals, and an early
 * unregister that stops the calls and releases once. */
#define FIXTURE_ID "fx-follow"
#define FIXTURE_CAPABILITIES PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ
#include "fixture.h"

#include <stdatomic.h>

/* What one follow received. Written on the events lane, read by the case after it saw END. */
typedef struct record {
    atomic_int calls, events, ends, gaps, releases, out_of_order, on_wrong_lane;
    uint64_t next_seq, end_seq;
    int32_t end_status;
    char final_text[256];
} record;

static const pincer_runs_v1 *runs;

static void on_event(void *context, const pincer_run_event *event) {
    record *r = context;
    r->calls++;
    if (!PINCER_STRUCT_HAS(event, pincer_run_event, duration_ms)) return;
    switch (event->kind) {
    case PINCER_RUN_EVENT:
        if (event->seq != r->next_seq || event->event_json == NULL || event->event_json[0] != '{') r->out_of_order++;
        r->next_seq = event->seq + 1;
        r->events++;
        break;
    case PINCER_RUN_GAP:
        r->gaps++;
        r->next_seq = event->seq + event->missed;
        break;
    case PINCER_RUN_END:
        r->end_seq = event->seq;
        r->end_status = event->status;
        snprintf(r->final_text, sizeof r->final_text, "%s", event->final_text ? event->final_text : "");
        r->ends++;
        break;
    }
}

static void released(void *context) { ((record *)context)->releases++; }

static pincer_result follow(const char *run_id, uint32_t flags, record *r, pincer_registration *out) {
    pincer_run_follow f = {.struct_size = sizeof f, .flags = flags, .run_id = run_id, .on_event = on_event, .context = r, .release = released};
    return runs->follow(host, &f, out);
}

/* Waits up to 5 s for `cond`. */
#define EVENTUALLY(cond) for (int i_ = 0; i_ < 500 && !(cond); i_++) fixture_sleep_ms(10)

static int run_case(const char *name, char *report, size_t capacity) {
    runs = host->get_extension(host, PINCER_RUNS_EXTENSION_ID);
    EXPECT(runs != NULL && runs->struct_size >= sizeof *runs, "no pincer.runs/1 table");
    static record r;
    memset(&r, 0, sizeof r);
    pincer_spawn_request request = fixture_request("follow me @echo{\"text\":\"a\"} @clock");
    pincer_spawn_result spawned = {.struct_size = sizeof spawned};

    if (strcmp(name, "live") == 0 || strcmp(name, "late") == 0 || strcmp(name, "end_only") == 0) {
        EXPECT_CODE(PINCER_OK, host->spawn(host, &request, &spawned));
        if (strcmp(name, "late") == 0) {
            pincer_run_info info = {.struct_size = sizeof info};
            EXPECT_CODE(PINCER_OK, host->wait(host, spawned.run_id, 10000, &info));
        }
        EXPECT_CODE(PINCER_OK, follow(spawned.run_id, strcmp(name, "end_only") == 0 ? PINCER_RUN_FOLLOW_END_ONLY : 0, &r, NULL));
        EVENTUALLY(r.ends == 1 && r.releases == 1);
        EXPECT(r.ends == 1, "END came %d times", r.ends);
        EXPECT(r.releases == 1, "release ran %d times after END", r.releases);
        EXPECT(r.end_status == PINCER_RUN_COMPLETED, "END status %d", r.end_status);
        EXPECT(strstr(r.final_text, "You said: follow me") != NULL, "END final text '%s'", r.final_text);
        if (strcmp(name, "end_only") == 0) {
            EXPECT(r.calls == 1 && r.events == 0, "END_ONLY: %d calls, %d events", r.calls, r.events);
        } else {
            EXPECT(r.out_of_order == 0 && r.gaps == 0, "%d out of order, %d gaps", r.out_of_order, r.gaps);
            EXPECT(r.events >= 6, "only %d events (turns, two tool calls and results, the end)", r.events);
            EXPECT(r.end_seq == (uint64_t)r.events, "END says %llu events, %d came", (unsigned long long)r.end_seq, r.events);
        }
        snprintf(report, capacity, "%s", spawned.session_key);
        return 0;
    }
    if (strcmp(name, "refusals") == 0) {
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, follow("run-nope", 0, &r, NULL));
        EXPECT_CODE(PINCER_OK, host->spawn(host, &request, &spawned));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, follow(spawned.run_id, 8, &r, NULL));
        pincer_run_follow f = {.struct_size = sizeof f, .run_id = spawned.run_id};
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, runs->follow(host, &f, NULL));
        EXPECT_ERROR_MENTIONS("on_event");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, runs->follow(host, NULL, NULL));
        fixture_sleep_ms(100);
        EXPECT(r.calls == 0 && r.releases == 0, "a refused follow called back (%d calls, %d releases)", r.calls, r.releases);
        return 0;
    }
    if (strcmp(name, "unregister") == 0) {
        pincer_spawn_request slow = fixture_request("@sleep{\"ms\":1500}");
        EXPECT_CODE(PINCER_OK, host->spawn(host, &slow, &spawned));
        pincer_registration registration = 0;
        EXPECT_CODE(PINCER_OK, follow(spawned.run_id, 0, &r, &registration));
        EVENTUALLY(r.events >= 1);
        EXPECT_CODE(PINCER_OK, host->unregister(host, registration));
        EVENTUALLY(r.releases == 1);
        int calls = r.calls;
        pincer_run_info info = {.struct_size = sizeof info};
        EXPECT_CODE(PINCER_OK, host->wait(host, spawned.run_id, 10000, &info));
        fixture_sleep_ms(200);
        EXPECT(r.releases == 1, "release ran %d times", r.releases);
        EXPECT(r.ends == 0 && r.calls == calls, "calls after unregister: %d then %d, END %d", calls, r.calls, r.ends);
        return 0;
    }
    EXPECT(0, "no case %s", name);
}
