/*
 * The fuzz target's peers (scripts/fuzz builds this twice): "fx-fuzz-bare", loaded with no
 * capability, and "fx-fuzz-dead", which pincer-fuzz-host stops before fuzzing starts. Their
 * handles reach fx-fuzz through pincer-fuzz-host: calls through the first must answer DENIED
 * wherever a capability is needed, calls through the second SHUT_DOWN, always.
 */
#ifndef FIXTURE_ID
#error "build with -DFIXTURE_ID='\"fx-fuzz-bare\"' or '\"fx-fuzz-dead\"'"
#endif
#include "fixture.h"

static int run_case(const char *name, char *report, size_t capacity) {
    snprintf(report, capacity, "%s has no case %s", FIXTURE_ID, name);
    return 1;
}
