/* log, get_config, get_extension, last_error, free: the services every plugin has. */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-services"
#endif
#include "fixture.h"

static int run_case(const char *name, char *report, size_t capacity) {
    if (strcmp(name, "services") == 0) {
        EXPECT_CODE(PINCER_OK, host->log(host, PINCER_LOG_INFO, "hello from services"));
        EXPECT_CODE(PINCER_OK, host->log(host, PINCER_LOG_ERROR, "an error line"));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->log(host, 42, "bad level"));
        EXPECT_ERROR_MENTIONS("log level 42");
        char *json = NULL;
        EXPECT_CODE(PINCER_OK, host->get_config(host, &json));
        snprintf(report, capacity, "%s", json);
        host->free(host, json);
        EXPECT(host->get_extension(host, "pincer.acp/2") == NULL, "a revision nobody defines");
        EXPECT(host->get_extension(host, "pincer.acp") == NULL, "an id without its revision (ids match exactly)");
        EXPECT(host->get_extension(host, NULL) == NULL, "get_extension(NULL)");
        EXPECT(host->get_extension((const pincer_host *)0x10, "pincer.acp/1") == NULL, "forged handle");
        host->free(host, NULL);
        EXPECT(host->last_error(host) != NULL, "last_error returned NULL");
        EXPECT(strcmp(host->host_name, "pincer") == 0 && host->abi_version.major == 1, "host identity");
        EXPECT(host->struct_size == sizeof(pincer_host), "host struct_size %u vs %zu", host->struct_size, sizeof(pincer_host));
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
