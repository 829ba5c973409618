/* A minimal plugin, copied N times for the load benchmark. */
#include <pincer/pincer.h>

static pincer_result init(const pincer_host *h, char *error, size_t capacity) {
    (void)h;
    (void)error;
    (void)capacity;
    return PINCER_OK;
}
static void shutdown(const pincer_host *h) { (void)h; }
static const pincer_plugin_descriptor descriptor = {sizeof(pincer_plugin_descriptor), TINY_ID, "Tiny", "1.0.0", NULL, NULL};
PINCER_EXPORT const pincer_plugin_entry pincer_entry = {PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor,
                                                        init, NULL, shutdown, NULL};
