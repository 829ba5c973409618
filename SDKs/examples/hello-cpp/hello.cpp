#include <pincer/pincer.h>
#include <cstring>

namespace {
const pincer_host *host;

pincer_result no_clock(void *, const pincer_hook_event *event, pincer_hook_decision *decision) {
    if (std::strcmp(event->tool_name, "clock") == 0) {
        static const char reason[] = "no clocks here";
        decision->verdict = PINCER_HOOK_BLOCK;
        decision->reason = static_cast<char *>(host->alloc(host, sizeof reason));  // the host frees it
        if (decision->reason) std::memcpy(decision->reason, reason, sizeof reason);
    }
    return PINCER_OK;
}

pincer_result init(const pincer_host *h, const char *, char *, size_t) {
    host = h;
    pincer_hook_definition gate{};
    gate.struct_size = sizeof gate;
    gate.point = PINCER_HOOK_BEFORE_TOOL_CALL;
    gate.call = no_clock;
    if (h->register_hook(h, &gate, nullptr) != PINCER_OK) return PINCER_ERR_PLUGIN;
    return h->log(h, PINCER_LOG_INFO, "hello from C++");
}

void stop(const pincer_host *) {}

const char *const caps[] = {PINCER_CAP_HOOKS_GATE, nullptr};
const pincer_plugin_descriptor descriptor{sizeof(pincer_plugin_descriptor), "hello-cpp", "Hello", "1.0.0", nullptr, caps,
                                          PINCER_SOURCE_LANGUAGE, nullptr};
}  // namespace

// entry.h already declares pincer_plugin exported with C linkage: no PINCER_EXPORT
// here (g++ warns that a visibility attribute on the redeclaration is ignored).
const pincer_plugin_entry pincer_plugin{
    PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor, init, nullptr, stop, nullptr};
