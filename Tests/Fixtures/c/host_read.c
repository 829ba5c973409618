/* status, models, gateway_request: read-only host state. */
#define FIXTURE_ID "fx-hostread"
#include "fixture.h"

static int run_case(const char *name, char *report, size_t capacity) {
    char *json = NULL;
    if (strcmp(name, "read") == 0) {
        EXPECT_CODE(PINCER_OK, host->status(host, &json));
        EXPECT(strstr(json, "\"host\":\"pincer\"") && strstr(json, "\"abi\":\"1.0.0-rc2\"") &&
                   strstr(json, "\"id\":\"fx-hostread\",\"version\":\"1.0.0\",\"state\":\"loaded\"") &&
                   strstr(json, "\"maxConcurrentSpawns\":"),
               "status %s", json);
        host->free(host, json);
        EXPECT_CODE(PINCER_OK, host->models(host, &json));
        EXPECT(strstr(json, "\"default\":\"local/scripted\"") && strstr(json, "\"id\":\"local/instant\""), "models %s", json);
        EXPECT(strstr(json, "\"streaming\":true,\"contextWindow\":8192}"), "models without local/instant's context window: %s", json);
        host->free(host, json);
        EXPECT_CODE(PINCER_OK, host->gateway_request(host, "models.list", NULL, &json));
        EXPECT(strstr(json, "\"id\":\"local/scripted\""), "models.list %s", json);
        host->free(host, json);
        EXPECT_CODE(PINCER_OK, host->gateway_request(host, "status", "{}", &json));
        EXPECT(strstr(json, "\"uptimeMs\""), "status via gateway %s", json);
        host->free(host, json);
        return 0;
    }
    if (strcmp(name, "refused") == 0) {
        /* Methods the gateway has but plugins may not call: DENIED. */
        const char *mutating[] = {"sessions.delete", "sessions.create", "sessions.prompt"};
        for (size_t i = 0; i < sizeof mutating / sizeof *mutating; i++) {
            json = (char *)"untouched";
            EXPECT_CODE(PINCER_ERR_DENIED, host->gateway_request(host, mutating[i], "{}", &json));
            EXPECT(json == NULL, "out not cleared for %s", mutating[i]);
            EXPECT_ERROR_MENTIONS("status, models.list");
        }
        /* Methods the gateway does not have: UNSUPPORTED, as result.h says. */
        const char *unknown[] = {"config.set", "agent", "status.set", ""};
        for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
            json = (char *)"untouched";
            EXPECT_CODE(PINCER_ERR_UNSUPPORTED, host->gateway_request(host, unknown[i], "{}", &json));
            EXPECT(json == NULL, "out not cleared for %s", unknown[i]);
            EXPECT_ERROR_MENTIONS("no gateway method");
        }
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->gateway_request(host, "status", "{nope", &json));
        EXPECT_ERROR_MENTIONS("params_json is not valid JSON");
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
