// The C++ helpers (pincer++/pincer.hpp) at work: a tool whose body throws
// answers PINCER_ERR_PLUGIN through pincer::guarded, with a log line; another
// answers through pincer::to_host; HostString reads the plugin's config.
#include <pincer++/pincer.hpp>

#include <stdexcept>
#include <string>

namespace {
const pincer_host *host;
std::string greeting = "hello";

pincer_result throws(void *, const pincer_tool_call *, char **) {
    return pincer::guarded(host, "fx-cpp.throws", []() -> pincer_result { throw std::runtime_error("boom"); });
}

pincer_result greets(void *, const pincer_tool_call *, char **out_text) {
    return pincer::guarded(host, "fx-cpp.greets", [&] {
        *out_text = pincer::to_host(host, greeting + " from C++");
        return *out_text ? PINCER_OK : PINCER_ERR_LIMIT;
    });
}

pincer_result init(const pincer_host *h, const char *, char *, size_t) {
    host = h;
    pincer::HostString config(h);
    if (h->get_config(h, config.out()) == PINCER_OK && config.view().find("\"greeting\":\"") != std::string_view::npos) {
        auto start = config.view().find("\"greeting\":\"") + 12;
        greeting = std::string(config.view().substr(start, config.view().find('"', start) - start));
    }
    for (auto [name, invoke] : {std::pair{"fx-cpp.throws", throws}, std::pair{"fx-cpp.greets", greets}}) {
        auto tool = pincer::sized<pincer_tool_definition>();
        tool.name = name;
        tool.description = "A C++ helper test.";
        tool.invoke = invoke;
        if (h->register_tool(h, &tool, nullptr) != PINCER_OK) return PINCER_ERR_PLUGIN;
    }
    return PINCER_OK;
}

void shutdown(const pincer_host *) {}

const char *const capabilities[] = {PINCER_CAP_TOOLS_REGISTER, nullptr};
const pincer_plugin_descriptor descriptor{sizeof(pincer_plugin_descriptor), "fx-cpp", "C++ helpers", "1.0.0", nullptr,
                                          capabilities, PINCER_SOURCE_LANGUAGE, nullptr};
}  // namespace

const pincer_plugin_entry pincer_plugin{
    PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor, init, nullptr, shutdown, nullptr};
