/* What a careless or hostile plugin might do: each gets a code and a message, never a crash. */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-misuse"
#endif
#include "fixture.h"

static int run_case(const char *name, char *report, size_t capacity) {
    pincer_spawn_result s = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    pincer_run_ref ref = {.struct_size = sizeof(pincer_run_ref)};
    pincer_steer_outcome outcome;
    pincer_rate_limit_result rl = {.struct_size = sizeof(pincer_rate_limit_result)};
    bool streaming;
    char *json;
    pincer_spawn_request r = fixture_request("hi");
    if (strcmp(name, "null_arguments") == 0) {
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, NULL, &s));
        EXPECT_ERROR_MENTIONS("request is NULL");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, NULL));
        r.message = NULL;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &s));
        EXPECT_ERROR_MENTIONS("request->message is NULL");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, fixture_prompt(NULL, "x", &ref));
        EXPECT_ERROR_MENTIONS("session_key is NULL");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, fixture_prompt("k", NULL, &ref));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->wait(host, NULL, 0, &info));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->messages(host, NULL, 0, &json));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->messages(host, "k", 0, NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->steer(host, "k", "x", NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->is_streaming(host, NULL, &streaming));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->is_streaming(host, "k", NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, NULL, 1, 1, &rl));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, "k", 1, 1, NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->status(host, NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->gateway_request(host, NULL, NULL, &json));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->log(host, PINCER_LOG_INFO, NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->cancel_run(host, NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->delete_session(host, NULL));
        return 0;
    }
    if (strcmp(name, "invalid_utf8") == 0) {
        const char *bad = "caf\xc3\x28 \xff";
        r.message = bad;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &s));
        EXPECT_ERROR_MENTIONS("request->message is not valid UTF-8");
        r.message = "fine";
        const char *allow[] = {"echo", bad};
        r.tools_allow = allow;
        r.tools_allow_count = 2;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &s));
        EXPECT_ERROR_MENTIONS("request->tools_allow[1] is not valid UTF-8");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->steer(host, bad, "x", &outcome));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->is_streaming(host, bad, &streaming));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, bad, 1, 1000, &rl));
        EXPECT_ERROR_MENTIONS("key is not valid UTF-8");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->log(host, PINCER_LOG_INFO, bad));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->gateway_request(host, "status", bad, &json));
        /* Valid multi-byte UTF-8 is fine. */
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "caf\xc3\xa9 \xe2\x82\xac", 5, 1000, &rl));
        return 0;
    }
    if (strcmp(name, "unknown_keys") == 0) {
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, fixture_prompt("plugin:ghost:1", "x", &ref));
        EXPECT_ERROR_MENTIONS("no session with key 'plugin:ghost:1'");
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->wait(host, "run-ghost", 0, &info));
        EXPECT_ERROR_MENTIONS("no run with id 'run-ghost'");
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->messages(host, "plugin:ghost:1", 0, &json));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->get_session(host, "plugin:ghost:1", &json));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->delete_session(host, "plugin:ghost:1"));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->cancel_run(host, "run-ghost"));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->is_streaming(host, "plugin:ghost:1", &streaming));
        char long_key[300];
        memset(long_key, 'a', sizeof long_key - 1);
        long_key[sizeof long_key - 1] = 0;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, fixture_prompt(long_key, "x", &ref));
        EXPECT_ERROR_MENTIONS("longer than 127 bytes");
        return 0;
    }
    if (strcmp(name, "forged_handle") == 0) {
        pincer_host copy = *host;
        EXPECT_CODE(PINCER_ERR_BAD_HANDLE, copy.spawn(&copy, &r, &s));
        EXPECT_CODE(PINCER_ERR_BAD_HANDLE, host->is_streaming((const pincer_host *)0x10, "k", &streaming));
        EXPECT_CODE(PINCER_ERR_BAD_HANDLE, host->rate_limit_check((const pincer_host *)(uintptr_t)-64, "k", 1, 1, &rl));
        EXPECT_CODE(PINCER_ERR_BAD_HANDLE, host->log(NULL, PINCER_LOG_INFO, "x"));
        EXPECT_CODE(PINCER_ERR_BAD_HANDLE, host->status((const pincer_host *)((const char *)host + 8), &json));
        /* Bad-handle messages are kept apart from the plugin's own: ask with a bad handle. */
        EXPECT(strstr(host->last_error(NULL), "not one this host handed out") != NULL, "message %s", host->last_error(NULL));
        EXPECT(strstr(host->last_error(host), "not one this host handed out") == NULL, "the plugin's own last_error shows a bad handle's message");
        /* Scribble on host_data: refused; put it back: accepted again. */
        pincer_host *writable = (pincer_host *)host;
        void *saved = writable->host_data;
        writable->host_data = (void *)0xdeadcafe;
        EXPECT_CODE(PINCER_ERR_BAD_HANDLE, host->status(host, &json));
        EXPECT(strstr(host->last_error(NULL), "host_data was changed") != NULL, "message %s", host->last_error(NULL));
        writable->host_data = saved;
        EXPECT_CODE(PINCER_OK, host->status(host, &json));
        host->free(host, json);
        return 0;
    }
    if (strcmp(name, "after_shutdown") == 0) {
        /* Run by the test after the host shut the plugin down. */
        EXPECT_CODE(PINCER_ERR_SHUT_DOWN, host->spawn(host, &r, &s));
        EXPECT_ERROR_MENTIONS("has been shut down");
        EXPECT_CODE(PINCER_ERR_SHUT_DOWN, host->is_streaming(host, "k", &streaming));
        EXPECT_CODE(PINCER_ERR_SHUT_DOWN, host->log(host, PINCER_LOG_INFO, "still here?"));
        EXPECT_CODE(PINCER_ERR_SHUT_DOWN, host->rate_limit_check(host, "k", 1, 1000, &rl));
        return 0;
    }
    if (strcmp(name, "capability_denied") == 0) {
        /* Built with only host.read requested. */
        EXPECT_CODE(PINCER_ERR_DENIED, host->spawn(host, &r, &s));
        EXPECT_ERROR_MENTIONS("lacks the capability 'sessions.spawn'");
        EXPECT_CODE(PINCER_ERR_DENIED, host->rate_limit_check(host, "k", 1, 1000, &rl));
        EXPECT_ERROR_MENTIONS("'rate_limit'");
        EXPECT_CODE(PINCER_ERR_DENIED, host->steer(host, "k", "x", &outcome));
        EXPECT_CODE(PINCER_OK, host->status(host, &json));
        host->free(host, json);
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
