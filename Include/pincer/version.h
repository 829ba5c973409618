/*
 * pincer/version.h — the ABI version and the one compatibility rule.
 *
 * Every struct a plugin and the host exchange at load time starts with a
 * pincer_version, so each side sees which ABI the other was compiled against.
 *
 * The rule (CLAP's): a host loads a plugin when the MAJOR numbers are equal.
 * Minor versions only ever add, and they add through new extension ids (see
 * pincer/extension.h), never by growing a published struct. A 1.0 plugin
 * therefore loads in every 1.x host, and a 1.3 plugin loads in a 1.0 host; it
 * simply gets NULL when it asks for an extension the host does not have.
 * The patch number is informational.
 *
 * Status: 1.0 is RELEASED (2026-11-25). Every struct, function type and
 * enum value of the 1.0 headers is frozen: no field is added, removed,
 * reordered or retyped, and no value changes meaning. Growth goes through
 * extension ids only. Include/pincer/layout/ holds the record the build
 * checks this against: abi-1.0.json (sizes and offsets, checked from C,
 * libffi and Swift) and abi-1.0.abixml (libabigail's record, compared with
 * each build by abidiff).
 */
#ifndef PINCER_VERSION_H
#define PINCER_VERSION_H

#include <stdbool.h>
#include <stdint.h>

#define PINCER_ABI_MAJOR 1
#define PINCER_ABI_MINOR 0
#define PINCER_ABI_PATCH 0

typedef struct pincer_version {
    uint32_t major;
    uint32_t minor;
    uint32_t patch;
} pincer_version;

/* Initialiser for the version this header describes. */
#define PINCER_ABI_VERSION_INIT { PINCER_ABI_MAJOR, PINCER_ABI_MINOR, PINCER_ABI_PATCH }

/* True when a peer compiled against `v` can be loaded by code compiled
 * against this header. */
static inline bool pincer_version_is_compatible(pincer_version v) {
    return v.major == PINCER_ABI_MAJOR;
}

#endif /* PINCER_VERSION_H */
