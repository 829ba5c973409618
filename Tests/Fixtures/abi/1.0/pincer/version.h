/*
 * pincer/version.h — the ABI version, the one compatibility rule, the state.
 *
 * The plugin's entry and the host's table both start with a pincer_version,
 * so each side sees which ABI the other was compiled against.
 *
 * The rule (CLAP's): a host loads a plugin when the MAJOR numbers are equal.
 * Minor versions only add (extension.h says how), so a 1.0 plugin loads in
 * every 1.x host, and a 1.3 plugin loads in a 1.0 host and gets NULL for the
 * extensions that host does not have. Pre-releases are the exception: a
 * plugin built against a release candidate loads only in a host of the same
 * major.minor and the same candidate, and a host that is still a candidate
 * of minor N loads no final N plugin (the final may differ from the
 * candidate); final plugins of other minors load as usual. The patch number
 * is informational.
 *
 * State: 1.0-rc2 (2026-11-25), a release candidate. 1.0 was declared released
 * once and re-opened after outside review (CHANGES lists why and what moved).
 * It becomes final — frozen for good, prerelease 0 — only after plugins in
 * four languages and a fresh outside review have passed on it. Until then a
 * header may still change, deliberately: every change is written in CHANGES
 * with its reason, and Tests/Fixtures/abi/1.0/ (the copy the compatibility
 * tests build against) changes in the same commit.
 *
 * @since 1.0
 */
#ifndef PINCER_VERSION_H
#define PINCER_VERSION_H

#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

#define PINCER_ABI_MAJOR 1
#define PINCER_ABI_MINOR 0
#define PINCER_ABI_PATCH 0
/* The release-candidate number; 0 once the version is final. */
#define PINCER_ABI_PRERELEASE 2

PINCER_EXTERN_C_BEGIN

typedef struct pincer_version {
    uint32_t major;
    uint32_t minor;
    uint32_t patch;
    /* 0 for a final version; N for release candidate N. */
    uint32_t prerelease;
} pincer_version;

/* Initialiser for the version this header describes. */
#define PINCER_ABI_VERSION_INIT { PINCER_ABI_MAJOR, PINCER_ABI_MINOR, PINCER_ABI_PATCH, PINCER_ABI_PRERELEASE }

/* True when a peer compiled against `v` can be loaded by code compiled
 * against this header. */
static inline bool pincer_version_is_compatible(pincer_version v) {
    if (v.major != PINCER_ABI_MAJOR) return false;
    if (v.prerelease != 0) return v.minor == PINCER_ABI_MINOR && v.prerelease == PINCER_ABI_PRERELEASE;
    return v.minor != PINCER_ABI_MINOR || PINCER_ABI_PRERELEASE == 0;
}

PINCER_EXTERN_C_END

#endif /* PINCER_VERSION_H */
