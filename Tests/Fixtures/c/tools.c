/* Tools a plugin registers, named "<id>.<name>". <id>.note writes its "text"
 * argument to the file in its "path" argument (a side effect a test can look
 * for); <id>.fail fails with a reason; <id>.bad_utf8 returns bytes that are
 * not UTF-8; <id>.nothing returns NULL. Cases: "register" (all four, plus the
 * refusals), "clash" (a name under another plugin's id). */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-tools"
#endif
#define FIXTURE_CAPABILITIES PINCER_CAP_TOOLS_REGISTER, PINCER_CAP_SESSIONS_SPAWN
#include "fixture.h"

#include <stdlib.h>

static int calls;

/* Copies the string value of "key" in a flat JSON object into out (no escapes handled). */
static int json_string(const char *json, const char *key, char *out, size_t capacity) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = strstr(json, pattern);
    if (!start) return 0;
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    if (!end || (size_t)(end - start) >= capacity) return 0;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = 0;
    return 1;
}

static char *host_string(const char *text) {
    char *copy = host->alloc(host, strlen(text) + 1);
    if (copy) strcpy(copy, text);
    return copy;
}

static pincer_result note(void *context, const pincer_tool_call *call, char **out_text) {
    calls++;
    char path[512], text[512];
    if (context != &calls) {
        *out_text = host_string("context pointer was not handed back");
        return PINCER_ERR_PLUGIN;
    }
    if (!json_string(call->arguments_json, "path", path, sizeof path) ||
        !json_string(call->arguments_json, "text", text, sizeof text)) {
        *out_text = host_string("note needs \"path\" and \"text\"");
        return PINCER_ERR_INVALID_ARGUMENT;
    }
    FILE *file = fopen(path, "w");
    if (!file) {
        *out_text = host_string("cannot open the file");
        return PINCER_ERR_PLUGIN;
    }
    fprintf(file, "%s (session %s, run %s, call %s)", text, call->session_key, call->run_id, call->tool_call_id);
    fclose(file);
    *out_text = host_string("noted");
    return PINCER_OK;
}

static pincer_result fail(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = host_string("the calendar is closed today");
    return PINCER_ERR_PLUGIN;
}

static pincer_result bad_utf8(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = host_string("caf\xc3\x28");
    return PINCER_OK;
}

static pincer_result nothing(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = NULL;
    return PINCER_OK;
}

static pincer_tool_definition tool(const char *name, pincer_tool_invoke invoke) {
    pincer_tool_definition t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    t.name = name;
    t.description = "a fixture tool";
    t.parameters_json = "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}";
    t.group = FIXTURE_ID ".fixture";
    t.invoke = invoke;
    t.context = &calls;
    return t;
}

static int run_case(const char *name, char *report, size_t capacity) {
    if (strcmp(name, "register") == 0) {
        pincer_tool_definition t = tool(FIXTURE_ID ".note", note);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        t = tool(FIXTURE_ID ".fail", fail);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        t = tool(FIXTURE_ID ".bad_utf8", bad_utf8);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        t = tool(FIXTURE_ID ".nothing", nothing);
        EXPECT_CODE(PINCER_OK, host->register_tool(host, &t, NULL));
        /* Refusals. */
        t = tool(FIXTURE_ID ".note", note);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        EXPECT_ERROR_MENTIONS("tool '" FIXTURE_ID ".note' is already registered");
        t = tool("echo", note);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        EXPECT_ERROR_MENTIONS("must start with the plugin's id and a dot ('" FIXTURE_ID ".')");
        t = tool(FIXTURE_ID ".Bad Name", note);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        EXPECT_ERROR_MENTIONS("comes 1 to 31 characters of [a-z0-9_-] starting with a letter");
        t = tool(FIXTURE_ID ".grouped", note);
        t.group = "basic"; /* the host's group: never a plugin's */
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        EXPECT_ERROR_MENTIONS("tool->group 'basic' must start with the plugin's id and a dot");
        t = tool(FIXTURE_ID ".noinvoke", NULL);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        EXPECT_ERROR_MENTIONS("tool->invoke is NULL");
        t = tool(FIXTURE_ID ".badschema", note);
        t.parameters_json = "{not json";
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        t = tool(FIXTURE_ID ".size", note);
        t.struct_size = 8;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, NULL, NULL));
        EXPECT(host->alloc(host, 0) == NULL, "alloc(0) is not NULL");
        return 0;
    }
    if (strcmp(name, "clash") == 0) {
        pincer_tool_definition t = tool("fx-tools.note", note);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->register_tool(host, &t, NULL));
        EXPECT_ERROR_MENTIONS("tool->name 'fx-tools.note' must start with the plugin's id and a dot ('" FIXTURE_ID ".')");
        return 0;
    }
    if (strcmp(name, "calls") == 0) {
        snprintf(report, capacity, "%d", calls);
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
