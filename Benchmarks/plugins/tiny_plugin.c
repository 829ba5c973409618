/* A minimal plugin, copied N times for the load benchmark. Built with
 * -DTINY_GATE it registers a before_tool_call hook that lets every call
 * through, for the hook round-trip benchmark. */
#include <pincer/pincer.h>

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
#else
    (void)h;
    return PINCER_OK;
#endif
}
static void shutdown(const pincer_host *h) { (void)h; }
#ifdef TINY_GATE
static const char *const capabilities[] = {PINCER_CAP_HOOKS_GATE, NULL};
#else
static const char *const *const capabilities = NULL;
#endif
static const pincer_plugin_descriptor descriptor = {sizeof(pincer_plugin_descriptor), TINY_ID, "Tiny", "1.0.0", NULL, capabilities,
                                                    PINCER_SOURCE_LANGUAGE, NULL};
PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor,
                                                        init, NULL, shutdown, NULL};
