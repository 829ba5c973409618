/*
 * auto-detail — the C++ sample. It sizes its sessions' answers to the model
 * they will run on: it reads the host's status and model catalog through the
 * read-only host calls, takes the context window of the model its sessions
 * use (its config's "model" if the operator lets it choose one, else the
 * catalog's default), picks a detail level from it, and spawns its session
 * with that level in the system prompt. It also tries a request that would
 * change the host (deleting a session through gateway_request): the host
 * refuses it, and the plugin says so and goes on — as it does when the
 * catalog says nothing of the window (then it picks "standard").
 *
 * Config (plugins.entries.auto-detail.config): {"task": "...", "model": "..."}.
 * Tool auto-detail.level answers the level it chose and why.
 * Threads: one worker of its own, started in start() and joined in shutdown(),
 * which first cancels the run if it still goes.
 */
#include <pincer++/pincer.hpp>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

const pincer_host *host;
std::thread worker;
std::atomic<bool> stopping{false};
std::mutex state_lock;
std::string chosen = "not chosen yet";  // guarded by state_lock
std::string run_id;                     // guarded by state_lock
std::string task = "Summarise the release @echo{\"text\":\"all checks green\"}";
std::string wanted_model;

void log(pincer_log_level level, const std::string &line) { host->log(host, level, line.c_str()); }

/* The string value of "key" in the first place it appears after `from`, or "". */
std::string json_string(std::string_view json, std::string_view key, size_t from = 0) {
    std::string pattern = "\"" + std::string(key) + "\":\"";
    size_t at = json.find(pattern, from);
    if (at == std::string_view::npos) return "";
    size_t start = at + pattern.size(), end = json.find('"', start);
    return end == std::string_view::npos ? "" : std::string(json.substr(start, end - start));
}

/* The context window the catalog gives model `id`; 0 when it says none. */
long context_window(std::string_view catalog, const std::string &id) {
    size_t model = catalog.find("{\"id\":\"" + id + "\"");
    if (model == std::string_view::npos) return 0;
    size_t end = catalog.find('}', model);
    size_t at = catalog.find("\"contextWindow\":", model);
    if (at == std::string_view::npos || at > end) return 0;
    return std::strtol(std::string(catalog.substr(at + 16, 12)).c_str(), nullptr, 10);  // "null" reads as 0
}

struct Level {
    const char *name;
    const char *instruction;
};

Level level_for(long window) {
    if (window <= 0) return {"standard", "the model's window is unknown: answer in a few paragraphs"};
    if (window < 16384) return {"brief", "the model reads little: answer in at most three sentences"};
    if (window < 65536) return {"standard", "answer in a few paragraphs"};
    return {"thorough", "the model reads a lot: answer in full, with the reasoning and every detail that matters"};
}

void work() {
    pincer::HostString status(host), catalog(host), refused(host);
    if (host->status(host, status.out()) == PINCER_OK) {
        log(PINCER_LOG_INFO, "host status read: " + std::string(status.view().substr(0, 80)) + "…");
    }
    // A request that would change the host: refused (the allowlist is read-only), and we go on.
    pincer_result code = host->gateway_request(host, "sessions.delete", "{\"sessionKey\":\"x\"}", refused.out());
    log(code == PINCER_ERR_DENIED ? PINCER_LOG_INFO : PINCER_LOG_WARN,
        std::string("a mutating gateway request answered ") + std::to_string(code) + ": " + host->last_error(host));

    std::string model = wanted_model;
    long window = 0;
    if (host->models(host, catalog.out()) == PINCER_OK) {
        if (model.empty()) model = json_string(catalog.view(), "default");
        window = context_window(catalog.view(), model);
    } else {
        log(PINCER_LOG_WARN, std::string("no model catalog (") + host->last_error(host) + "): sizing for an unknown window");
    }
    Level level = level_for(window);
    std::string why = std::string(level.name) + " (" + (model.empty() ? "default model" : model) + ", context window " +
                      (window > 0 ? std::to_string(window) + " tokens" : std::string("unknown")) + ")";
    std::string system = std::string("Detail level: ") + level.name + ". " + level.instruction + ".";
    {
        std::lock_guard<std::mutex> guard(state_lock);
        chosen = why;
    }
    log(PINCER_LOG_INFO, "detail level " + why);

    auto request = pincer::sized<pincer_spawn_request>();
    request.message = task.c_str();
    request.system_prompt = system.c_str();
    request.model = wanted_model.empty() ? nullptr : wanted_model.c_str();
    request.label = "auto-detail";
    auto spawned = pincer::sized<pincer_spawn_result>();
    if (host->spawn(host, &request, &spawned) != PINCER_OK) {
        log(PINCER_LOG_WARN, std::string("spawn refused: ") + host->last_error(host));
        return;
    }
    {
        std::lock_guard<std::mutex> guard(state_lock);
        run_id = spawned.run_id;
    }
    auto info = pincer::sized<pincer_run_info>();
    code = host->wait(host, spawned.run_id, 30000, &info);
    pincer::HostString text(host, info.final_text), error(host, info.error);
    if (code == PINCER_OK) {
        log(PINCER_LOG_INFO, "session " + std::string(spawned.session_key) + " answered: " + std::string(text.view()));
    } else if (!stopping) {
        log(PINCER_LOG_WARN, std::string("wait: ") + host->last_error(host));
    }
}

pincer_result level_tool(void *, const pincer_tool_call *, char **out_text) {
    return pincer::guarded(host, "auto-detail.level", [&] {
        std::lock_guard<std::mutex> guard(state_lock);
        *out_text = pincer::to_host(host, chosen);
        return *out_text ? PINCER_OK : PINCER_ERR_LIMIT;
    });
}

pincer_result init(const pincer_host *h, const char *, char *error, size_t capacity) {
    host = h;
    pincer::HostString config(h);
    if (h->get_config(h, config.out()) == PINCER_OK) {
        if (auto t = json_string(config.view(), "task"); !t.empty()) task = t;
        wanted_model = json_string(config.view(), "model");
    }
    auto tool = pincer::sized<pincer_tool_definition>();
    tool.name = "auto-detail.level";
    tool.description = "The detail level auto-detail chose for its sessions, and why.";
    tool.invoke = level_tool;
    if (h->register_tool(h, &tool, nullptr) != PINCER_OK) {
        std::snprintf(error, capacity, "register_tool: %s", h->last_error(h));
        return PINCER_ERR_PLUGIN;
    }
    return PINCER_OK;
}

void start(const pincer_host *) { worker = std::thread(work); }

void shutdown(const pincer_host *h) {
    stopping = true;
    {
        std::lock_guard<std::mutex> guard(state_lock);
        if (!run_id.empty()) h->cancel_run(h, run_id.c_str());  // a run already ended answers an error: fine
    }
    if (worker.joinable()) worker.join();  // its wait returns PINCER_ERR_SHUT_DOWN at once
}

const char *const capabilities[] = {PINCER_CAP_HOST_READ, PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ,
                                    PINCER_CAP_SESSIONS_PROMPT, PINCER_CAP_TOOLS_REGISTER, nullptr};

pincer_plugin_descriptor make_descriptor() {
    auto d = pincer::sized<pincer_plugin_descriptor>();
    d.id = "auto-detail";
    d.name = "Auto detail";
    d.version = "0.1.0";
    d.description = "Sizes its sessions' answers to the context window of the model they run on.";
    d.capabilities = capabilities;
    d.language = PINCER_SOURCE_LANGUAGE;
    return d;
}
const pincer_plugin_descriptor descriptor = make_descriptor();

}  // namespace

const pincer_plugin_entry pincer_plugin{
    PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor, init, start, shutdown, nullptr};
