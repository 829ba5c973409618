/*
 * pincer++/pincer.hpp — the little a C++17 plugin wants beyond the C headers,
 * which it includes and works from as they are (pincer/pincer.h). Header-only,
 * no exceptions across the boundary, nothing of the ABI hidden:
 *
 *   pincer::HostString      owns text the host allocated (a char ** output) and
 *                           frees it with host->free, once, when it goes out of scope
 *   pincer::to_host()       copies text into host->alloc memory, for what the
 *                           host frees (a tool's result, a gate's reason)
 *   pincer::sized<T>()      a request or result struct, zeroed, struct_size set
 *                           (extension.h's growth rule)
 *   pincer::guarded()       runs a callback body, turning any exception into
 *                           PINCER_ERR_PLUGIN and a log line: callbacks never unwind
 *
 * Thread rules are the C headers': a HostString may be freed on any thread;
 * its host must outlive it (a plugin's handle lives until the plugin is dead).
 */
#ifndef PINCER_CPP_PINCER_HPP
#define PINCER_CPP_PINCER_HPP

#include <pincer/pincer.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <utility>

namespace pincer {

/* Text the host allocated, freed with host->free when this goes: pass out() where a
 * host function wants a char ** and read view() after it returned PINCER_OK. */
class HostString {
public:
    explicit HostString(const pincer_host *host) noexcept : host_(host) {}
    /* Takes over text the host wrote into a struct field (e.g. pincer_run_info.final_text). */
    HostString(const pincer_host *host, char *owned) noexcept : host_(host), text_(owned) {}
    HostString(HostString &&other) noexcept : host_(other.host_), text_(std::exchange(other.text_, nullptr)) {}
    HostString &operator=(HostString &&other) noexcept {
        if (this != &other) {
            reset();
            host_ = other.host_;
            text_ = std::exchange(other.text_, nullptr);
        }
        return *this;
    }
    HostString(const HostString &) = delete;
    HostString &operator=(const HostString &) = delete;
    ~HostString() { reset(); }

    /* Where the host writes; any text held before is freed first. */
    char **out() noexcept {
        reset();
        return &text_;
    }
    /* The text, or an empty view when the host wrote none. */
    std::string_view view() const noexcept { return text_ ? std::string_view(text_) : std::string_view(); }
    explicit operator bool() const noexcept { return text_ != nullptr; }

private:
    void reset() noexcept {
        if (text_) host_->free(host_, text_);
        text_ = nullptr;
    }

    const pincer_host *host_;
    char *text_ = nullptr;
};

/* A NUL-terminated copy of `text` in host->alloc memory, for the host to free; nullptr
 * when the host refuses the allocation (then answer with an error, not the text). */
inline char *to_host(const pincer_host *host, std::string_view text) noexcept {
    auto *copy = static_cast<char *>(host->alloc(host, text.size() + 1));
    if (copy) {
        std::memcpy(copy, text.data(), text.size());
        copy[text.size()] = '\0';
    }
    return copy;
}

/* A request or result struct as the growth rule wants it: every byte zero, struct_size set. */
template <class T>
T sized() noexcept {
    T value;
    std::memset(&value, 0, sizeof value);
    value.struct_size = sizeof value;
    return value;
}

/* Runs `body` (returning a pincer_result) so that no exception leaves the callback:
 * one becomes PINCER_ERR_PLUGIN and a log line naming `what`. */
template <class Body>
pincer_result guarded(const pincer_host *host, const char *what, Body &&body) noexcept {
    char line[512];  // no allocation here: the exception may be std::bad_alloc
    try {
        return std::forward<Body>(body)();
    } catch (const std::exception &error) {
        std::snprintf(line, sizeof line, "%s threw: %s", what, error.what());
    } catch (...) {
        std::snprintf(line, sizeof line, "%s threw a non-standard exception", what);
    }
    host->log(host, PINCER_LOG_ERROR, line);
    return PINCER_ERR_PLUGIN;
}

}  // namespace pincer

#endif /* PINCER_CPP_PINCER_HPP */
