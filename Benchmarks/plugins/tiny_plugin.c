/* A minimal plugin, copied N times for the load benchmark. Built with
 * -DTINY_GATE it registers a before_tool_call hook that lets every call
 * through, for the hook round-trip benchmark; with -DTINY_TOOL, a tool
 * "<id>.echo" answering "ok", the C side of the tool round trip that
 * Benchmarks/plugins/swift-bench is measured against. */
#include <pincer/pincer.h>

#ifdef TINY_TOOL
#include <string.h>
static const pincer_host *host;
static pincer_result echo(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = host->alloc(host, 3);
    if (*out_text) memcpy(*out_text, "ok", 3);
    return PINCER_OK;
}
#endif

#ifdef TINY_GATE
static pincer_result let_through(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)event;
    (void)decision;
    return PINCER_OK;
}
#endif

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t capacity) {
    (void)path;
    (void)error;
    (void)capacity;
#ifdef TINY_GATE
    pincer_hook_definition gate = {sizeof(pincer_hook_definition), PINCER_HOOK_BEFORE_TOOL_CALL, 0, 0, let_through, NULL, NULL};
    return h->register_hook(h, &gate, NULL);
#elif defined(TINY_TOOL)
    host = h;
    pincer_tool_definition tool = {.struct_size = sizeof(pincer_tool_definition), .name = TINY_ID ".echo",
                                   .description = "Answers ok.", .invoke = echo};
    return h->register_tool(h, &tool, NULL);
#else
    (void)h;
    return PINCER_OK;
#endif
}
static void shutdown(const pincer_host *h) { (void)h; }
#ifdef TINY_GATE
static const char *const capabilities[] = {PINCER_CAP_HOOKS_GATE, NULL};
#elif defined(TINY_TOOL)
static const char *const capabilities[] = {PINCER_CAP_TOOLS_REGISTER, NULL};
#else
static const char *const *const capabilities = NULL;
#endif
static const pincer_plugin_descriptor descriptor = {sizeof(pincer_plugin_descriptor), TINY_ID, "Tiny", "1.0.0", NULL, capabilities,
                                                    PINCER_SOURCE_LANGUAGE, NULL};
PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor,
                                                        init, NULL, shutdown, NULL};
