/* A before_tool_call gate over an external agent's calls (named "acp:<kind>"):
 * blocks acp:read with a reason, patches acp:edit (which must block: an agent's
 * call cannot be rewritten), lets everything else go on. */
#define FIXTURE_ID "fx-acp-gate"
#define FIXTURE_CAPABILITIES PINCER_CAP_HOOKS_GATE
#define _POSIX_C_SOURCE 200809L /* before any header: fixture.h's nanosleep */
#include <pincer/pincer.h>
static void register_gate(const pincer_host *h);
#define FIXTURE_ON_INIT register_gate
#include "fixture.h"

static pincer_result gate(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    const char *tool = event->tool_name ? event->tool_name : "";
    char line[1024];
    snprintf(line, sizeof line, "gate %s in %s", tool, event->workspace_dir ? event->workspace_dir : "(none)");
    host->log(host, PINCER_LOG_INFO, line);
    if (strcmp(tool, "acp:read") == 0) {
        decision->verdict = PINCER_HOOK_BLOCK;
        const char *reason = "no reading here";
        decision->reason = host->alloc(host, strlen(reason) + 1);
        strcpy(decision->reason, reason);
    } else if (strcmp(tool, "acp:edit") == 0) {
        const char *patch = "{\"arguments\": {\"path\": \"elsewhere.txt\"}}";
        decision->patch_json = host->alloc(host, strlen(patch) + 1);
        strcpy(decision->patch_json, patch);
    }
    return PINCER_OK;
}

static void register_gate(const pincer_host *h) {
    pincer_hook_definition d = {.struct_size = sizeof d, .point = PINCER_HOOK_BEFORE_TOOL_CALL, .call = gate};
    h->register_hook(h, &d, NULL);
}

static int run_case(const char *name, char *report, size_t capacity) {
    (void)name;
    (void)report;
    (void)capacity;
    return 0;
}
