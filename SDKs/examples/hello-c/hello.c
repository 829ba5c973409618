#include <pincer/pincer.h>
#include <string.h>

static const pincer_host *host;

/* A gate: runs on this plugin's gate lane before each tool call of its sessions. */
static pincer_result no_clock(void *context, const pincer_hook_event *event,
                              pincer_hook_decision *decision) {
    (void)context;
    if (strcmp(event->tool_name, "clock") == 0) {
        static const char reason[] = "no clocks here";
        decision->verdict = PINCER_HOOK_BLOCK;
        decision->reason = host->alloc(host, sizeof reason);  /* the host frees it */
        if (decision->reason) memcpy(decision->reason, reason, sizeof reason);
    }
    return PINCER_OK;
}

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t capacity) {
    (void)path; (void)error; (void)capacity;  /* a reason goes in error, when init fails */
    host = h;                                 /* your handle: pass it to every call */
    pincer_hook_definition gate = {.struct_size = sizeof gate, .point = PINCER_HOOK_BEFORE_TOOL_CALL,
                                   .call = no_clock};  /* priority 0, the default deadline */
    if (h->register_hook(h, &gate, NULL) != PINCER_OK) return PINCER_ERR_PLUGIN;
    return h->log(h, PINCER_LOG_INFO, "hello");
}

static void start(const pincer_host *h) {  /* the engine accepts work now */
    /* Rate-limit a caller (here a made-up address): 10 requests a minute. */
    pincer_rate_limit_result r = {.struct_size = sizeof r};  /* results carry their size too */
    if (h->rate_limit_check(h, "203.0.113.7", 10, 60000, &r) != PINCER_OK)
        h->log(h, PINCER_LOG_ERROR, h->last_error(h));
}

static void stop(const pincer_host *h) { (void)h; /* join your threads */ }

static const char *const caps[] = {PINCER_CAP_RATE_LIMIT, PINCER_CAP_HOOKS_GATE, NULL};
static const pincer_plugin_descriptor descriptor = {
    .struct_size = sizeof(pincer_plugin_descriptor),  /* name the fields: the struct may grow */
    .id = "hello", .name = "Hello", .version = "1.0.0", .description = "Says hello.",
    .capabilities = caps, .language = PINCER_SOURCE_LANGUAGE};

PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {
    .abi_version = PINCER_ABI_VERSION_INIT, .struct_size = sizeof(pincer_plugin_entry),
    .descriptor = &descriptor, .init = init, .start = start, .shutdown = stop};
