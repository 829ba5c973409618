/*
 * fx-fuzz: a plugin that is also a libFuzzer target. Each fuzz input decodes into a
 * sequence of calls on the host table it was handed in init() — through the real
 * dlopen loader and the real Swift thunks — with arbitrary bytes everywhere the ABI
 * takes them: keys, texts, JSON, struct sizes and tails, counts, sizes, NULLs,
 * forged, damaged and stale handles, stale session keys, run ids and registrations.
 * Tools and hooks it registers answer the host just as badly (unterminated,
 * not UTF-8, unknown codes and verdicts, late, nested).
 *
 * The oracle, beyond "no crash" (ASan is preloaded into the host, this plugin is
 * built with -fsanitize=address): every call answers a code its header allows for
 * the handle it went through (a forged or damaged handle: BAD_HANDLE; the stopped
 * peer's: SHUT_DOWN; the capability-less peer's: DENIED where a capability is
 * needed); a failed call leaves `char **out` NULL and result structs untouched; an
 * answered result struct is written up to min(struct_size, sizeof) and no further
 * (the rest of the buffer, up to a guard page, is checked); strings the host hands
 * back are NUL-terminated UTF-8; last_error is never NULL; the host never reads
 * an unterminated string past its limit plus one (they end at a PROT_NONE page);
 * release callbacks run once, never during a call of their registration. A
 * violation prints what it saw and aborts, so libFuzzer keeps the input.
 *
 * Guidance: this file is instrumented (-fsanitize=fuzzer-no-link); the Swift host
 * is not, so the host's answers are fed back as extra counters
 * (__libfuzzer_extra_counters): one per (call, handle class, code), and one per
 * (call, code, the shape of last_error's message), so an input that reaches a new
 * refusal in the host counts as new coverage.
 *
 * The host (Tests/FuzzHost, pincer-fuzz-host) calls "pincer.fuzz/1"'s run() with
 * libFuzzer's arguments and the peers' handles; run() never returns when libFuzzer
 * fuzzes (it exits; the host's atexit handler shuts the host down before
 * LeakSanitizer's check). scripts/fuzz builds and runs it all.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS */
#include <pincer/pincer.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ID "fx-fuzz"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

static const pincer_host *host;

/* ---- Handles the host hands over: the capability-less peer, the stopped one ---------------- */

static const pincer_host *bare_peer, *dead_peer;
enum { FOREIGN_MAX = 8 };
static const char *foreign[FOREIGN_MAX]; /* another principal's session keys and run ids */
static size_t foreign_count;
static pincer_host *heap_copy; /* a copy of our own table, token and all: not a handle */

/* ---- Feedback: the host's answers as extra counters ----------------------------------------- */

enum { EXTRA = 16384 };
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t extra[EXTRA];
static _Thread_local int on_fuzz_thread;

static uint32_t mix(uint32_t h, uint32_t v) {
    h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
    return h;
}

/* The message's shape: its words, without quoted values, numbers or addresses. */
static uint32_t shape(const char *m) {
    uint32_t h = 2166136261u;
    int quoted = 0;
    for (int i = 0; m && m[i] && i < 160; i++) {
        char c = m[i];
        if (c == '\'') quoted = !quoted;
        if (quoted) continue;
        if (c >= 'a' && c <= 'z' && !(i > 0 && m[i - 1] == '0' && c == 'x')) h = (h ^ (uint8_t)c) * 16777619u;
    }
    return h;
}

static void feedback(int op, int handle_class, pincer_result code) {
    if (!on_fuzz_thread) return;
    uint32_t c = code >= 0 && code < 12 ? (uint32_t)code : 12;
    extra[((uint32_t)op * 8 + (uint32_t)handle_class) * 13 + c] = 1;
    if (code != PINCER_OK && handle_class == 0) {
        uint32_t h = mix(mix((uint32_t)op, c), shape(host->last_error(host)));
        extra[2048 + h % (EXTRA - 2048)] = 1;
    }
}

/* ---- The oracle ------------------------------------------------------------------------------ */

static void violation(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void violation(const char *format, ...) {
    char line[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    fprintf(stderr, "\nfx-fuzz: CONTRACT VIOLATION: %s\n", line);
    abort();
}

/* NUL-terminated UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF). */
static int valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p++;
        int more;
        unsigned min, cp;
        if (c < 0x80) continue;
        if ((c & 0xe0) == 0xc0) more = 1, min = 0x80, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) more = 2, min = 0x800, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) more = 3, min = 0x10000, cp = c & 0x07;
        else return 0;
        for (int i = 0; i < more; i++) {
            if ((*p & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (*p++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    }
    return 1;
}

#define BIT(code) (1u << (code))
enum {
    OK_ = BIT(PINCER_OK), INVALID = BIT(PINCER_ERR_INVALID_ARGUMENT), BAD = BIT(PINCER_ERR_BAD_HANDLE),
    SHUT = BIT(PINCER_ERR_SHUT_DOWN), NOT_FOUND = BIT(PINCER_ERR_NOT_FOUND), DENIED = BIT(PINCER_ERR_DENIED),
    LIMIT = BIT(PINCER_ERR_LIMIT), TIMEOUT = BIT(PINCER_ERR_TIMEOUT), UNSUPPORTED = BIT(PINCER_ERR_UNSUPPORTED),
    WOULD_BLOCK = BIT(PINCER_ERR_WOULD_BLOCK),
};

/* Which handle a call goes through, and what that alone decides. */
enum handle_class { H_OWN, H_BARE, H_DEAD, H_COPY, H_DAMAGED, H_FORGED, H_NEAR, H_CLASSES };
static const char *const handle_names[H_CLASSES] = {"own", "bare peer", "dead peer", "heap copy", "damaged", "forged", "near own"};

typedef struct call {
    int op;
    const char *name;
    int handle_class;
    const pincer_host *h;
    int needs_capability; /* the bare peer has none; 2: the definition says which (register_hook reads it first) */
} call;

/* FX_FUZZ_TRACE=1 (with scripts/fuzz --replay): one line per call and callback, on stderr. */
static int tracing;

/* Host calls answered, by code (result.h's 0 to 11), printed at shutdown. */
static atomic_long answered[12];

/* Checks a code against what the headers allow for this call through this handle. */
static pincer_result check(const call *c, pincer_result code, unsigned allowed_own) {
    feedback(c->op, c->handle_class, code);
    if (code >= 0 && code < 12) atomic_fetch_add(&answered[code], 1);
    if (tracing) fprintf(stderr, "fx-fuzz: %s (%s handle) -> %d %s\n", c->name, handle_names[c->handle_class], code, code ? host->last_error(c->h) : "");
    unsigned allowed;
    switch (c->handle_class) {
    case H_OWN: allowed = allowed_own; break;
    case H_BARE: allowed = c->needs_capability == 2 ? DENIED | INVALID | UNSUPPORTED : c->needs_capability ? DENIED : allowed_own; break;
    case H_DEAD: allowed = SHUT; break;
    default: allowed = BAD; break;
    }
    if (code < 0 || code > PINCER_ERR_WOULD_BLOCK || code == PINCER_ERR_PLUGIN || !(allowed & BIT(code)))
        violation("%s through the %s handle answered %d (allowed mask 0x%x): %s", c->name, handle_names[c->handle_class], code, allowed,
                  host->last_error(c->h));
    if (code != PINCER_OK) {
        const char *message = host->last_error(c->h);
        if (message == NULL) violation("%s: last_error is NULL after code %d", c->name, code);
        if (!valid_utf8(message)) violation("%s: last_error is not UTF-8 after code %d", c->name, code);
        if (c->handle_class == H_OWN && message[0] == 0) violation("%s: code %d with an empty last_error", c->name, code);
    }
    return code;
}

/* A `char **out` after the call: NULL unless OK; when OK, NUL-terminated UTF-8, freed here. */
static void check_out(const call *c, pincer_result code, char *out, int json) {
    if (code != PINCER_OK) {
        if (out != NULL) violation("%s answered %d but left *out set (%p)", c->name, code, (void *)out);
        return;
    }
    if (out == NULL) violation("%s answered OK with *out NULL", c->name);
    if (!valid_utf8(out)) violation("%s answered text that is not UTF-8", c->name);
    if (json && out[0] != '{' && out[0] != '[') violation("%s answered JSON starting with 0x%02x", c->name, (unsigned char)out[0]);
    host->free(host, out);
}

/* ---- Memory that ends at a PROT_NONE page ----------------------------------------------------- */

static size_t page;

typedef struct guarded {
    char *base; /* `size` usable bytes, then a guard page */
    size_t size;
} guarded;

static guarded map_guarded(size_t size) {
    size = (size + page - 1) / page * page;
    char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "fx-fuzz: cannot map %zu bytes\n", size + page);
        abort();
    }
    mprotect(p + size, page, PROT_NONE);
    return (guarded){p, size};
}

/* `len` bytes ending right at the guard. */
static char *tail_of(guarded g, size_t len) { return g.base + g.size - len; }

/* Unterminated strings over a limit: one region per string argument a call may take. */
enum { STRING_SLOTS = 6 };
static guarded string_slots[STRING_SLOTS];
static guarded request_region, result_region, pattern_region;

/* ---- The input -------------------------------------------------------------------------------- */

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t u8(input *in) {
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}
static uint16_t u16(input *in) { return (uint16_t)(u8(in) | u8(in) << 8); }
static uint32_t u32(input *in) { return (uint32_t)u16(in) | (uint32_t)u16(in) << 16; }
static uint64_t u64(input *in) { return (uint64_t)u32(in) | (uint64_t)u32(in) << 32; }
static size_t take(input *in, size_t want, const uint8_t **out) {
    size_t k = want < in->n ? want : in->n;
    *out = in->p;
    in->p += k;
    in->n -= k;
    return k;
}

/* Per-input scratch: every string built for a call lives here until the input ends. */
enum { SCRATCH_MAX = 64 };
static void *scratch[SCRATCH_MAX];
static int scratch_count;
static void *keep(void *p) {
    if (!p) abort();
    if (scratch_count == SCRATCH_MAX) {
        free(scratch[0]);
        memmove(scratch, scratch + 1, sizeof scratch[0] * (SCRATCH_MAX - 1));
        scratch_count--;
    }
    scratch[scratch_count++] = p;
    return p;
}
static void drop_scratch(void) {
    for (int i = 0; i < scratch_count; i++) free(scratch[i]);
    scratch_count = 0;
}

/* Values seen this run: keys and run ids (live, ended, deleted alike), registrations. */
enum { RING = 32 };
typedef struct ring {
    char items[RING][PINCER_SESSION_KEY_CAPACITY];
    int next, count;
} ring;
static ring keys, runs;
static void remember(ring *r, const char *s) {
    snprintf(r->items[r->next], sizeof r->items[0], "%s", s);
    r->next = (r->next + 1) % RING;
    if (r->count < RING) r->count++;
}
static const char *recall(ring *r, uint8_t i) { return r->count ? r->items[i % r->count] : "plugin:fx-fuzz:000000000000"; }

static pincer_registration registrations[RING];
static int registration_count, registration_next;

/* Sessions and registrations this input made: withdrawn when it ends, so each input stands alone. */
static char input_keys[16][PINCER_SESSION_KEY_CAPACITY];
static int input_key_count;
static pincer_registration input_registrations[32];
static int input_registration_count;

/* ---- Strings ---------------------------------------------------------------------------------- */

typedef enum kind {
    K_KEY, K_RUN, K_TEXT, K_SYSTEM, K_LABEL, K_MODEL, K_PATTERN, K_METADATA, K_OBJECT, K_RLKEY,
    K_TOOL, K_DESCRIPTION, K_SCHEMA, K_GROUP, K_LOG, K_METHOD, K_PARAMS, K_EXTENSION, K_KINDS
} kind;

/* The longest string each argument takes, in bytes without the NUL (the headers' limits). An
 * unterminated one of limit + 1 bytes must be refused without a byte past it being read. */
static const size_t limits[K_KINDS] = {
    [K_KEY] = PINCER_SESSION_KEY_CAPACITY - 1, [K_RUN] = PINCER_RUN_ID_CAPACITY - 1, [K_TEXT] = PINCER_MAX_MESSAGE_BYTES,
    [K_SYSTEM] = PINCER_MAX_SYSTEM_PROMPT_BYTES, [K_LABEL] = PINCER_MAX_LABEL_BYTES, [K_MODEL] = PINCER_MAX_MODEL_BYTES,
    [K_PATTERN] = PINCER_MAX_PATTERN_BYTES, [K_METADATA] = PINCER_MAX_METADATA_NAMESPACES * PINCER_MAX_METADATA_BYTES,
    [K_OBJECT] = PINCER_MAX_METADATA_BYTES, [K_RLKEY] = PINCER_RATE_LIMIT_MAX_KEY_BYTES, [K_TOOL] = PINCER_TOOL_NAME_MAX_BYTES,
    [K_DESCRIPTION] = PINCER_TOOL_DESCRIPTION_MAX_BYTES, [K_SCHEMA] = PINCER_TOOL_SCHEMA_MAX_BYTES,
    [K_GROUP] = PINCER_TOOL_GROUP_MAX_BYTES, [K_LOG] = PINCER_LOG_MAX_BYTES, [K_METHOD] = PINCER_GATEWAY_METHOD_MAX_BYTES,
    [K_PARAMS] = PINCER_GATEWAY_PARAMS_MAX_BYTES, [K_EXTENSION] = 0 /* no limit said: never unterminated */,
};

static const char *const bad_utf8[] = {"caf\xc3\x28", "\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok \xe2\x82"};

/* Words the local model, the tool policy and the JSON readers act on. */
static const char *const message_words[] = {
    "hello ", "@echo", "@echo{\"text\":\"hi\"}", "@clock", "@sleep{\"ms\":1}", "#fail", "@" ID ".t0", "@" ID ".t1{\"a\":1}",
    "@" ID ".t2{\"n\":18446744073709551616}", "@" ID ".t3", "@" ID ".t4{}", "@" ID ".t5", "@" ID ".t6", "@" ID ".t7",
    "@sessions_spawn{\"message\":\"child @echo\"}", "@sessions_steer{\"sessionKey\":\"x\",\"text\":\"y\"}",
    "@gateway{\"method\":\"status\"}", "@gateway{\"method\":\"sessions.delete\"}", "@fx-fuzz-bare.x", "{", "}", "\"", "\\u0000",
    "\xc3\xa9", " ", "\n", "@", "@echo{", "@echo{\"a\":[[[[[[[[", "]]]]]]]]}",
};
static const char *const patterns[] = {"*", "echo", "clock", "sleep", ID ".*", ID ".t0", "group:sessions", "sessions_spawn",
                                       "group:basic", "group:" ID ".g", "fx-fuzz-bare.x", "", "**", "group:", "?"};
static const char *const models[] = {"local/instant", "local/scripted", "no/such-model", "", "local/", "openai/gpt-4o"};
static const char *const objects[] = {"{}", "{\"a\":1}", "[]", "null", "{\"a\":", "{\"a\":\"\\u0000\"}", "{\"a\":1e999}",
                                      "{\"a\":{\"b\":{\"c\":[1,2,3]}}}", "{\"a\":1,\"a\":2}", "\"x\"", "{\"\\ud800\":1}"};
static const char *const namespaces[] = {ID, "fx-fuzz-bare", "fx-fuzz-dead", "operator", "nope", "", "fx-fuzz.x"};
static const char *const schemas[] = {"{\"type\":\"object\"}", "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}",
                                      "{}", "[]", "{\"type\":", "null", "{\"$ref\":\"#\"}", "{\"type\":\"string\"}"};
static const char *const methods[] = {"status", "models.list", "sessions.delete", "config.set", "", "status ", "STATUS"};
static const char *const extensions[] = {"pincer.acp/1", "pincer.test/1", "pincer.fuzz/1", "", "pincer.acp/1x", "pincer.acp",
                                         "pincer.gateway/1", "pincer.runs/1", "pincer.gateway/2"};
/* The ids this host serves (ABI 1.1 and 1.2, extension.h); every other one must answer NULL. */
static const char *const served_extensions[] = {"pincer.gateway/1", "pincer.runs/1", "pincer.acp/1"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A copy of `len` input bytes, NUL-terminated (an early NUL just makes it shorter). */
static char *bytes_string(input *in, size_t max) {
    size_t len = u16(in) % (max + 1);
    const uint8_t *p;
    len = take(in, len, &p);
    char *s = keep(malloc(len + 1));
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* `n` bytes of `fill` followed by a NUL, or none when unterminated (ending at the guard). */
static char *long_string(int slot, size_t n, char fill, int terminated) {
    guarded g = string_slots[slot % STRING_SLOTS];
    char *s = tail_of(g, n + (terminated ? 1 : 0));
    memset(s, fill, n);
    if (terminated) s[n] = 0;
    return s;
}

static char *concat(input *in, const char *const *words, size_t count, int pieces) {
    size_t cap = 64;
    char *s = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < pieces; i++) {
        const char *w = words[u8(in) % count];
        size_t wl = strlen(w);
        while (len + wl + 1 > cap) s = realloc(s, cap *= 2);
        memcpy(s + len, w, wl);
        len += wl;
    }
    s[len] = 0;
    return keep(s);
}

/* A JSON object of namespaces, as spawn's metadata_json takes. */
static char *metadata_json(input *in) {
    int n = u8(in) % 4;
    char *s = keep(malloc(1024));
    size_t len = (size_t)snprintf(s, 1024, "{");
    for (int i = 0; i < n && len < 900; i++)
        len += (size_t)snprintf(s + len, 1024 - len, "%s\"%s\":%s", i ? "," : "", namespaces[u8(in) % COUNT(namespaces)],
                                objects[u8(in) % COUNT(objects)]);
    snprintf(s + len, 1024 - len, "}");
    return s;
}

static int string_slot;

/* A string argument of kind `k`: NULL, input bytes, the ABI's own words, a remembered value
 * (perhaps damaged), at or over its limit, unterminated up to a guard page, or not UTF-8. */
static const char *string_arg(input *in, kind k) {
    int slot = string_slot++;
    uint8_t how = u8(in);
    /* Shifted so that 0 (an exhausted input reads zeros) picks the kind's own vocabulary. */
    switch ((how + 8) % 16) {
    case 0: return NULL;
    case 1: case 2: case 3: return bytes_string(in, k == K_TEXT || k == K_SCHEMA || k == K_PARAMS ? 4096 : 300);
    case 4: return bad_utf8[u8(in) % COUNT(bad_utf8)];
    case 5:
        if (limits[k] == 0) return "";
        return long_string(slot, limits[k] + 1, (char)('a' + how % 26), 0);
    case 6:
        if (limits[k] == 0) return "x";
        return long_string(slot, limits[k] + (how & 0x10 ? 1 : 0), (char)('a' + how % 26), 1);
    case 7: { /* a remembered value, damaged by one byte */
        char *s = keep(strdup(k == K_RUN ? recall(&runs, u8(in)) : recall(&keys, u8(in))));
        size_t len = strlen(s);
        if (len) s[u8(in) % len] = (char)(u8(in) | 1);
        return s;
    }
    default: break;
    }
    /* The kind's own vocabulary. */
    switch (k) {
    case K_KEY: return how & 0x20 && foreign_count ? foreign[u8(in) % foreign_count] : recall(&keys, u8(in));
    case K_RUN: return how & 0x20 && foreign_count ? foreign[u8(in) % foreign_count] : recall(&runs, u8(in));
    case K_TEXT: case K_SYSTEM: case K_LABEL: case K_LOG: return concat(in, message_words, COUNT(message_words), 1 + u8(in) % 6);
    case K_MODEL: return models[u8(in) % COUNT(models)];
    case K_PATTERN: return patterns[u8(in) % COUNT(patterns)];
    case K_METADATA: return metadata_json(in);
    case K_OBJECT: case K_PARAMS: return objects[u8(in) % COUNT(objects)];
    case K_RLKEY: {
        char *s = keep(malloc(32));
        snprintf(s, 32, "key-%u", u8(in) % 24);
        return s;
    }
    case K_TOOL: case K_GROUP: {
        static const char *const prefixes[] = {ID ".", "fx-fuzz-bare.", "", "echo", ID ".T", ID ".-", ID "..", "operator."};
        char *s = keep(malloc(64));
        uint8_t p = u8(in);
        if (p < 200) snprintf(s, 64, ID ".%c%u", k == K_TOOL ? 't' : 'g', p % 8);
        else snprintf(s, 64, "%s%u", prefixes[p % COUNT(prefixes)], u8(in) % 4);
        return s;
    }
    case K_DESCRIPTION: return "A fuzzer's tool.";
    case K_SCHEMA: return schemas[u8(in) % COUNT(schemas)];
    case K_METHOD: return methods[u8(in) % COUNT(methods)];
    case K_EXTENSION: return extensions[u8(in) % COUNT(extensions)];
    default: return "";
    }
}

/* ---- Struct sizes ------------------------------------------------------------------------------ */

/* A request struct's struct_size: its own size mostly; else below the minimum, a little over
 * (with a zero or non-zero tail), over PINCER_MAX_STRUCT_SIZE, or any value at all. The
 * request sits at the start of a 4096-byte region that ends at a guard page, so the host may
 * read every byte struct_size can claim (up to PINCER_MAX_STRUCT_SIZE) and none beyond. */
static void *request_struct(input *in, size_t size, size_t minimum, uint32_t *chosen) {
    char *r = request_region.base + request_region.size - PINCER_MAX_STRUCT_SIZE;
    memset(r, 0, PINCER_MAX_STRUCT_SIZE);
    uint8_t how = u8(in);
    uint32_t s = (uint32_t)size;
    switch ((how + 6) % 16) { /* 0: the struct's own size */
    case 0: s = (uint32_t)minimum - 1 - u8(in) % (uint32_t)minimum; break;
    case 1: s = (uint32_t)size + 1 + u8(in) % 64; break;
    case 2: s = (uint32_t)size + 1 + u8(in) % 64; r[s - 1] = (char)(u8(in) | 1); break;
    case 3: s = PINCER_MAX_STRUCT_SIZE + (how >> 4); break;
    case 4: s = u32(in); break;
    case 5: s = (uint32_t)minimum; break;
    default: break;
    }
    *chosen = s;
    return r;
}

/* A result struct of `size` bytes claimed, in a buffer of min(size, 4096) bytes (rounded up to
 * 8: a C struct pointer is aligned) that ends at a guard page and is filled with 0xA5 past
 * struct_size, so a write the host must not make shows. */
static void *result_struct(input *in, size_t size, size_t *buffer) {
    uint8_t how = u8(in);
    uint32_t s = (uint32_t)size;
    switch ((how + 3) % 12) { /* 0: the struct's own size */
    case 0: s = u8(in) % (uint32_t)size; break;
    case 1: s = (uint32_t)size + u8(in); break;
    case 2: s = u32(in); break;
    default: break;
    }
    size_t len = s < PINCER_MAX_STRUCT_SIZE ? ((size_t)s + 7) / 8 * 8 : PINCER_MAX_STRUCT_SIZE;
    if (len < 8) len = 8;
    char *r = result_region.base + result_region.size - len;
    memset(r, 0xa5, len);
    memcpy(r, &s, sizeof s);
    *buffer = len;
    return r;
}

/* After the call: unchanged when it failed (but wait's TIMEOUT); else struct_size is
 * min(claimed, sizeof) and nothing past it was written. */
static uint32_t check_result(const call *c, pincer_result code, const void *r, size_t buffer, uint32_t claimed, size_t size, int timeout_fills) {
    const unsigned char *b = r;
    uint32_t reported;
    memcpy(&reported, b, sizeof reported);
    int filled = code == PINCER_OK || (timeout_fills && code == PINCER_ERR_TIMEOUT);
    if (!filled) {
        if (reported != claimed) violation("%s answered %d but changed struct_size %u -> %u", c->name, code, claimed, reported);
        for (size_t i = sizeof reported; i < buffer; i++)
            if (b[i] != 0xa5) violation("%s answered %d but wrote byte %zu of its result", c->name, code, i);
        return 0;
    }
    uint32_t expected = claimed < size ? claimed : (uint32_t)size;
    if (reported != expected) violation("%s: result struct_size %u claimed, %u reported, %u expected", c->name, claimed, reported, expected);
    for (size_t i = reported; i < buffer; i++)
        if (b[i] != 0xa5) violation("%s wrote byte %zu of a result whose struct_size is %u", c->name, i, reported);
    return reported;
}

static int nul_within(const char *s, size_t capacity) { return memchr(s, 0, capacity) != NULL; }

/* ---- Callbacks: tools and hooks that answer badly --------------------------------------------- */

enum { MAGIC = 0x6675727a };

/* What the callbacks saw, printed at shutdown (scripts/fuzz reports it). */
static atomic_long tool_calls, gate_calls, observer_calls, releases;

typedef struct behaviour {
    uint32_t magic;
    pincer_hook_point point; /* hooks: where it was registered */
    uint8_t mode;
    uint8_t shared; /* one of the static ones: several registrations may use it */
    int32_t code;
    atomic_int in_flight;
    size_t payload_len;
    char payload[256];
} behaviour;

/* For a registration without a release callback nothing tells when its context may go, so
 * theirs are static, shared round-robin (a callback may read one while it is rewritten:
 * harmless, the fields are only modes and bytes). */
enum { STATIC_BEHAVIOURS = 64 };
static behaviour static_behaviours[STATIC_BEHAVIOURS];
static int static_next;

static behaviour *new_behaviour(input *in, int with_release) {
    behaviour *b = with_release ? calloc(1, sizeof *b) : &static_behaviours[static_next++ % STATIC_BEHAVIOURS];
    if (!b) abort();
    b->magic = MAGIC;
    b->shared = !with_release;
    b->mode = u8(in);
    b->code = (int32_t)u32(in);
    const uint8_t *p;
    b->payload_len = take(in, u8(in), &p);
    memcpy(b->payload, p, b->payload_len);
    if (b->payload_len < sizeof b->payload) b->payload[b->payload_len] = 0;
    return b;
}

static void release(void *context) {
    behaviour *b = context;
    if (b->magic != MAGIC) violation("release: context %p is not a live registration's (released twice?)", context);
    if (atomic_load(&b->in_flight) != 0) violation("release while %d calls of the registration are running", atomic_load(&b->in_flight));
    b->magic = 0;
    free(b);
    atomic_fetch_add(&releases, 1);
}

/* A host->alloc copy of the behaviour's payload: terminated or not. */
static char *payload_copy(const behaviour *b, int terminated) {
    size_t n = b->payload_len + (terminated ? 1 : 0);
    char *p = host->alloc(host, n ? n : 1);
    if (!p) return NULL;
    memcpy(p, b->payload, b->payload_len);
    if (terminated || n == 0) p[n ? n - 1 : 0] = 0;
    return p;
}

static void callback_check(const char *what, pincer_result code, unsigned allowed) {
    if (code >= 0 && code < 12) atomic_fetch_add(&answered[code], 1);
    if (code < 0 || code > PINCER_ERR_WOULD_BLOCK || !(allowed & BIT(code)))
        violation("%s answered %d (allowed mask 0x%x): %s", what, code, allowed, host->last_error(host));
}

/* A definition whose struct_size stops short of `context` registers none: the host passes NULL. */
static behaviour plain_behaviour = {.magic = MAGIC, .shared = 1};

static pincer_result tool(void *context, const pincer_tool_call *tc, char **out) {
    behaviour *b = context ? context : &plain_behaviour;
    if (b->magic != MAGIC) violation("tool called with a released context");
    if (*out != NULL) violation("tool: *out_text is not NULL on entry");
    if (!PINCER_STRUCT_HAS(tc, pincer_tool_call, arguments_json) || !tc->session_key || !tc->run_id || !tc->tool_name || !tc->arguments_json)
        violation("tool: the call lacks a field 1.0 has");
    if (!valid_utf8(tc->arguments_json) || !valid_utf8(tc->tool_name)) violation("tool: call strings are not UTF-8");
    atomic_fetch_add(&b->in_flight, 1);
    atomic_fetch_add(&tool_calls, 1);
    if (tracing) fprintf(stderr, "fx-fuzz: tool %s called, mode %u\n", tc->tool_name, b->mode % 8);
    pincer_result code = PINCER_OK;
    switch (b->mode % 8) {
    case 0: *out = payload_copy(b, 1); break;                  /* any bytes, terminated: UTF-8 or not */
    case 1: *out = NULL; break;                                /* no text */
    case 2: *out = payload_copy(b, 0); break;                  /* no NUL within the allocation */
    case 3: *out = payload_copy(b, 1); code = b->code; break;  /* any code, known or not */
    case 4: {                                                  /* wait on the run it serves */
        pincer_run_info info = {.struct_size = sizeof info};
        callback_check("tool: wait() on the run it serves", host->wait(host, tc->run_id, 20, &info), WOULD_BLOCK);
        bool stop;
        callback_check("tool: run_stop_requested on its run", host->run_stop_requested(host, tc->run_id, &stop), OK_);
        break;
    }
    case 5: callback_check("tool: delete_session of its session", host->delete_session(host, tc->session_key), OK_ | NOT_FOUND); break;
    case 6: {
        size_t n = strlen(tc->arguments_json) + 1;
        *out = host->alloc(host, n);
        if (*out) memcpy(*out, tc->arguments_json, n);
        break;
    }
    default: {
        bool streaming;
        callback_check("tool: is_streaming of its session", host->is_streaming(host, tc->session_key, &streaming), OK_ | NOT_FOUND);
        break;
    }
    }
    atomic_fetch_sub(&b->in_flight, 1);
    return code;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static _Thread_local int gate_depth;

static pincer_result hook(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    behaviour *b = context ? context : &plain_behaviour;
    if (b->magic != MAGIC) violation("hook called with a released context");
    if (!PINCER_STRUCT_HAS(event, pincer_hook_event, payload_json)) violation("hook: the event lacks a field 1.0 has");
    if (!b->shared && event->point != b->point) violation("hook registered at %d called for point %d", b->point, event->point);
    if (event->payload_json && !valid_utf8(event->payload_json)) violation("hook: payload_json is not UTF-8");
    if (decision->verdict != PINCER_HOOK_CONTINUE || decision->reason || decision->patch_json)
        violation("hook: the decision is not CONTINUE/NULL/NULL on entry");
    int gate = event->point == PINCER_HOOK_BEFORE_SESSION_CREATE || event->point == PINCER_HOOK_BEFORE_TOOL_CALL;
    atomic_fetch_add(&b->in_flight, 1);
    atomic_fetch_add(gate ? &gate_calls : &observer_calls, 1);
    if (tracing) fprintf(stderr, "fx-fuzz: hook at point %d called, mode %u\n", event->point, b->mode % 8);
    pincer_result code = PINCER_OK;
    switch (b->mode % 8) {
    case 0: break;
    case 1: decision->verdict = PINCER_HOOK_BLOCK; decision->reason = payload_copy(b, b->mode & 0x80 ? 0 : 1); break;
    case 2: decision->patch_json = payload_copy(b, b->mode & 0x80 ? 0 : 1); break;
    case 3: code = b->code; break;
    case 4: decision->verdict = b->code; break;
    case 5: sleep_ms(1 + (b->mode >> 3) % 60); break; /* perhaps past its deadline */
    case 6:
        if (gate && event->point == PINCER_HOOK_BEFORE_SESSION_CREATE && gate_depth < 8) { /* nested spawns */
            gate_depth++;
            pincer_spawn_request request;
            memset(&request, 0, sizeof request);
            request.struct_size = sizeof request;
            request.message = "nested";
            pincer_spawn_result spawned = {.struct_size = sizeof spawned};
            pincer_result nested = host->spawn(host, &request, &spawned);
            callback_check("gate: spawn from inside before_session_create", nested, OK_ | DENIED | LIMIT);
            if (nested == PINCER_OK) host->delete_session(host, spawned.session_key);
            gate_depth--;
        }
        break;
    default:
        if (gate && event->run_id) {
            pincer_run_info info = {.struct_size = sizeof info};
            pincer_result waited = host->wait(host, event->run_id, 20, &info);
            callback_check("gate: wait() on the run it gates", waited,
                           event->point == PINCER_HOOK_BEFORE_TOOL_CALL ? WOULD_BLOCK : WOULD_BLOCK | NOT_FOUND);
        }
        break;
    }
    atomic_fetch_sub(&b->in_flight, 1);
    return code;
}

/* ---- The calls -------------------------------------------------------------------------------- */

static int guard_flip; /* the bare peer's host_data, flipped for one call */

static call pick_handle(input *in, int op, const char *name, int needs_capability) {
    call c = {op, name, H_OWN, host, needs_capability};
    uint8_t how = u8(in);
    switch (how % 24) {
    case 16: case 17: c.handle_class = H_BARE; c.h = bare_peer; break;
    case 18: case 19: c.handle_class = H_DEAD; c.h = dead_peer; break;
    case 20: c.handle_class = H_COPY; c.h = heap_copy; break;
    case 21: c.handle_class = H_DAMAGED; c.h = bare_peer; guard_flip = 1; break;
    case 22: c.handle_class = H_FORGED; c.h = (const pincer_host *)(uintptr_t)u64(in); break;
    case 23: {
        static const intptr_t offsets[] = {8, -8, 4096, -4096, 2048, 1};
        c.handle_class = H_NEAR;
        c.h = (const pincer_host *)((uintptr_t)host + (uintptr_t)offsets[u8(in) % COUNT(offsets)]);
        break;
    }
    default: break;
    }
    if (!c.h) c.handle_class = H_OWN, c.h = host; /* a peer that did not load */
    /* A forged value that happens to be a real handle is not forged. */
    if ((c.handle_class == H_FORGED) && (c.h == host || c.h == bare_peer || c.h == dead_peer)) c.handle_class = H_OWN, c.h = host;
    return c;
}

/* Flips the bare peer's host_data around one call: a damaged table must answer BAD_HANDLE. */
static void damage(int on) {
    if (!guard_flip || !bare_peer) return;
    pincer_host *t = (pincer_host *)bare_peer;
    t->host_data = (void *)((uintptr_t)t->host_data ^ 0x10);
    if (!on) guard_flip = 0;
}
#define CALL(c, expr) (damage(1), _result = (expr), damage(0), _result)

static char **maybe_out(input *in, char **out) {
    *out = (char *)(uintptr_t)1; /* set to NULL on entry, whatever the call answers */
    return u8(in) % 32 == 31 ? NULL : out;
}

static void remember_input_key(const char *key) {
    remember(&keys, key);
    if (input_key_count < (int)COUNT(input_keys)) snprintf(input_keys[input_key_count++], sizeof input_keys[0], "%s", key);
}

static void remember_registration(pincer_registration id) {
    registrations[registration_next] = id;
    registration_next = (registration_next + 1) % RING;
    if (registration_count < RING) registration_count++;
    if (input_registration_count < (int)COUNT(input_registrations)) input_registrations[input_registration_count++] = id;
}

static const char **pattern_list(input *in, size_t *count) {
    uint8_t how = u8(in);
    size_t n;
    switch (how % 10) {
    case 0: *count = 0; return NULL;
    case 1: *count = (size_t)u8(in) + 1; return NULL;                  /* a count and no array */
    case 2: n = PINCER_MAX_POLICY_PATTERNS + 1; *count = n; break;     /* one over */
    case 3: *count = SIZE_MAX - u8(in); n = 0; break;                  /* wrapped negative */
    case 4: n = PINCER_MAX_POLICY_PATTERNS; *count = n; break;         /* exactly at the bound */
    default: n = 1 + how % 4; *count = n; break;
    }
    /* The array ends at a guard page: the host reads `count` entries at most, and only when allowed. */
    const char **list = (const char **)(void *)(pattern_region.base + pattern_region.size) - n;
    for (size_t i = 0; i < n; i++) list[i] = i < 8 ? string_arg(in, K_PATTERN) : "*";
    return n ? list : (const char **)(void *)(pattern_region.base + pattern_region.size);
}

/* Where register_tool / register_hook write the handle: NULL is allowed, but a registration
 * whose handle was not learnt is never withdrawn before the plugin stops, so NULL is asked
 * for a few times only (each takes one of the 256 tool or 64 hook places for good). */
static pincer_registration *registration_out(uint8_t fields, pincer_registration *id) {
    static int without_handle;
    if (fields & 64 && (fields & 0x80) && without_handle < 8) {
        without_handle++;
        return NULL;
    }
    return id;
}

/* After register_tool / register_hook: a handle when asked for; a refused definition's context
 * is still ours to free, a registered one is the host's until its release. */
static void registered(const call *c, pincer_result code, const pincer_registration *out_id, behaviour *b, int with_release) {
    check(c, code, OK_ | INVALID | LIMIT | UNSUPPORTED);
    if (code == PINCER_OK && out_id && *out_id == 0) violation("%s answered OK with registration 0", c->name);
    if (code == PINCER_OK && out_id) remember_registration(*out_id);
    if (code != PINCER_OK && with_release) free(b);
}

enum {
    OP_EXTENSION, OP_LAST_ERROR, OP_ALLOC, OP_LOG, OP_CONFIG, OP_SPAWN, OP_PROMPT, OP_CANCEL, OP_WAIT, OP_MESSAGES,
    OP_SESSION, OP_STREAMING, OP_GET_METADATA, OP_STEER, OP_DELETE, OP_SET_METADATA, OP_RL_CHECK, OP_RL_RESET,
    OP_STATUS, OP_MODELS, OP_GATEWAY, OP_REGISTER_TOOL, OP_REGISTER_HOOK, OP_UNREGISTER, OP_STOP_REQUESTED, OP_SCENARIO, OP_COUNT
};

/* A hook, a tool and a session whose model calls the tool, then a wait on its run: the
 * callbacks at work (random bytes rarely line the three up by themselves). Each piece is
 * well formed; what varies is where the hook sits, how the callbacks answer, the tool's
 * arguments and the rest of the message. */
static void scenario(input *in) {
    call c = {OP_SCENARIO, "scenario: register_hook", H_OWN, host, 0};
    pincer_hook_definition hd;
    memset(&hd, 0, sizeof hd);
    hd.struct_size = sizeof hd;
    hd.point = (pincer_hook_point)(u8(in) % 5);
    hd.deadline_ms = u8(in) % 40;
    hd.call = hook;
    behaviour *hb = new_behaviour(in, 1);
    hb->point = hd.point;
    hd.context = hb;
    hd.release = release;
    pincer_registration hook_id = 0, tool_id = 0;
    registered(&c, host->register_hook(host, &hd, &hook_id), &hook_id, hb, 1);

    char name[PINCER_TOOL_NAME_MAX_BYTES];
    snprintf(name, sizeof name, ID ".t%u", u8(in) % 8);
    pincer_tool_definition td;
    memset(&td, 0, sizeof td);
    td.struct_size = sizeof td;
    td.name = name;
    td.description = "A fuzzer's tool.";
    td.parameters_json = u8(in) & 1 ? schemas[u8(in) % COUNT(schemas)] : NULL;
    td.invoke = tool;
    behaviour *tb = new_behaviour(in, 1);
    td.context = tb;
    td.release = release;
    c.name = "scenario: register_tool";
    registered(&c, host->register_tool(host, &td, &tool_id), &tool_id, tb, 1);

    const char *arguments = u8(in) & 1 ? objects[u8(in) % COUNT(objects)] : bytes_string(in, 64);
    const char *rest = concat(in, message_words, COUNT(message_words), u8(in) % 4);
    size_t len = strlen(name) + strlen(arguments) + strlen(rest) + 4;
    char *message = keep(malloc(len));
    snprintf(message, len, "@%s%s %s", name, arguments, rest);
    pincer_spawn_request request;
    memset(&request, 0, sizeof request);
    request.struct_size = sizeof request;
    request.message = message;
    if (u8(in) & 1) request.metadata_json = metadata_json(in);
    pincer_spawn_result spawned = {.struct_size = sizeof spawned};
    c.name = "scenario: spawn";
    if (check(&c, host->spawn(host, &request, &spawned), OK_ | INVALID | DENIED | LIMIT | UNSUPPORTED) != PINCER_OK) return;
    remember_input_key(spawned.session_key);
    remember(&runs, spawned.run_id);
    pincer_run_info info = {.struct_size = sizeof info};
    c.name = "scenario: wait";
    if (check(&c, host->wait(host, spawned.run_id, 20 + u8(in) % 60, &info), OK_ | TIMEOUT | UNSUPPORTED) == PINCER_OK) {
        host->free(host, info.final_text);
        host->free(host, info.error);
    }
}

static void one_call(input *in) {
    pincer_result _result;
    char *out;
    bool flag;
    int op = u8(in) % OP_COUNT;
    string_slot = 0;
    guard_flip = 0;
    switch (op) {
    case OP_EXTENSION: {
        call c = pick_handle(in, op, "get_extension", 0);
        const char *id = string_arg(in, K_EXTENSION);
        damage(1);
        const void *table = host->get_extension(c.h, id);
        damage(0);
        feedback(op, c.handle_class, table ? 1 : 0);
        int served = 0;
        for (size_t i = 0; id && i < COUNT(served_extensions); i++) served |= strcmp(id, served_extensions[i]) == 0;
        if (table && !served) violation("get_extension(\"%s\") answered a table for an id nobody defines", id ? id : "(null)");
        break;
    }
    case OP_LAST_ERROR: {
        call c = pick_handle(in, op, "last_error", 0);
        damage(1);
        const char *m = host->last_error(c.h);
        damage(0);
        if (!m || !valid_utf8(m)) violation("last_error through the %s handle: %s", handle_names[c.handle_class], m ? "not UTF-8" : "NULL");
        break;
    }
    case OP_ALLOC: {
        call c = pick_handle(in, op, "alloc", 0);
        static const size_t sizes[] = {0, 1, 7, 4096, 65536, (size_t)1 << 30 | 1, SIZE_MAX, (size_t)1 << 63, SIZE_MAX - 4095};
        uint8_t how = u8(in);
        size_t size = how < 200 ? how : sizes[how % COUNT(sizes)];
        damage(1);
        char *p = host->alloc(c.h, size);
        damage(0);
        feedback(op, c.handle_class, p ? 0 : 1);
        int must_fail = size == 0 || size > ((size_t)1 << 30) || (c.handle_class != H_OWN && c.handle_class != H_BARE);
        if (p && must_fail) violation("alloc(%zu) through the %s handle answered memory", size, handle_names[c.handle_class]);
        if (!p && !must_fail) violation("alloc(%zu) answered NULL", size);
        if (p) {
            memset(p, 0x5a, size); /* ASan: the host gave at least `size` bytes */
            if (u8(in) & 1) {
                /* Freed through a handle that is not one: ignored, so the block stays ours. */
                host->free(heap_copy, p);
                memset(p, 0x5b, size);
            }
            host->free(c.handle_class == H_BARE ? bare_peer : host, p);
        }
        damage(1);
        host->free(c.h, NULL);
        damage(0);
        break;
    }
    case OP_LOG: {
        call c = pick_handle(in, op, "log", 0);
        uint8_t l = u8(in);
        static const pincer_log_level levels[] = {PINCER_LOG_INFO, PINCER_LOG_DEBUG, PINCER_LOG_WARN, PINCER_LOG_ERROR, -1, 4};
        pincer_log_level level = l < 200 ? levels[l % 6] : (pincer_log_level)u32(in);
        const char *m = string_arg(in, K_LOG);
        check(&c, CALL(c, host->log(c.h, level, m)), OK_ | INVALID);
        break;
    }
    case OP_CONFIG: {
        call c = pick_handle(in, op, "get_config", 0);
        char **o = maybe_out(in, &out);
        pincer_result code = check(&c, CALL(c, host->get_config(c.h, o)), OK_ | INVALID);
        if (o) check_out(&c, code, out, 1);
        break;
    }
    case OP_SPAWN: {
        call c = pick_handle(in, op, "spawn", 1);
        uint32_t claimed;
        pincer_spawn_request *r = request_struct(in, sizeof *r, offsetof(pincer_spawn_request, message) + sizeof(char *), &claimed);
        uint8_t fields = u8(in);
        r->message = u8(in) % 8 ? string_arg(in, K_TEXT) : "hello @echo";
        if (fields & 1) r->system_prompt = string_arg(in, K_SYSTEM);
        if (fields & 2) r->tools_allow = pattern_list(in, &r->tools_allow_count);
        if (fields & 4) r->tools_deny = pattern_list(in, &r->tools_deny_count);
        if (fields & 8) r->model = string_arg(in, K_MODEL);
        if (fields & 16) r->timeout_seconds = u8(in) < 128 ? u8(in) : u32(in);
        if (fields & 32) r->label = string_arg(in, K_LABEL);
        if (fields & 64) r->metadata_json = string_arg(in, K_METADATA);
        r->struct_size = claimed;
        size_t buffer;
        pincer_spawn_result *res = result_struct(in, sizeof *res, &buffer);
        uint32_t res_claimed = res->struct_size;
        if (u8(in) % 32 == 31) res = NULL;
        pincer_result code = check(&c, CALL(c, host->spawn(c.h, r, res)), OK_ | INVALID | DENIED | LIMIT | UNSUPPORTED);
        if (res) {
            uint32_t got = check_result(&c, code, res, buffer, res_claimed, sizeof *res, 0);
            if (code == PINCER_OK) {
                if (got < PINCER_SPAWN_RESULT_MIN_SIZE) violation("spawn answered OK into a result of %u bytes", got);
                if (!nul_within(res->session_key, sizeof res->session_key) || !nul_within(res->run_id, sizeof res->run_id))
                    violation("spawn: session key or run id not terminated");
                remember_input_key(res->session_key);
                remember(&runs, res->run_id);
            }
        } else if (code == PINCER_OK) {
            violation("spawn answered OK without a result struct");
        }
        break;
    }
    case OP_PROMPT: {
        call c = pick_handle(in, op, "prompt", 1);
        uint32_t claimed;
        pincer_prompt_request *r = request_struct(in, sizeof *r, sizeof *r, &claimed);
        r->session_key = string_arg(in, K_KEY);
        r->text = string_arg(in, K_TEXT);
        r->struct_size = claimed;
        size_t buffer;
        pincer_run_ref *res = result_struct(in, sizeof *res, &buffer);
        uint32_t res_claimed = res->struct_size;
        pincer_result code = check(&c, CALL(c, host->prompt(c.h, u8(in) % 32 != 31 ? r : NULL, res)), OK_ | INVALID | NOT_FOUND | DENIED | LIMIT | UNSUPPORTED);
        uint32_t got = check_result(&c, code, res, buffer, res_claimed, sizeof *res, 0);
        if (code == PINCER_OK) {
            if (got < PINCER_RUN_REF_MIN_SIZE || !nul_within(res->run_id, sizeof res->run_id)) violation("prompt: run id not terminated");
            remember(&runs, res->run_id);
        }
        break;
    }
    case OP_CANCEL: {
        call c = pick_handle(in, op, "cancel_run", 1);
        const char *id = string_arg(in, K_RUN);
        check(&c, CALL(c, host->cancel_run(c.h, id)), OK_ | INVALID | NOT_FOUND);
        break;
    }
    case OP_WAIT: {
        call c = pick_handle(in, op, "wait", 1);
        const char *id = string_arg(in, K_RUN);
        uint32_t timeout = u8(in) % 4 == 0 ? u8(in) % 50 : 0;
        size_t buffer;
        pincer_run_info *res = result_struct(in, sizeof *res, &buffer);
        uint32_t res_claimed = res->struct_size;
        if (u8(in) % 32 == 31) res = NULL;
        pincer_result code = check(&c, CALL(c, host->wait(c.h, id, timeout, res)), OK_ | INVALID | NOT_FOUND | TIMEOUT | UNSUPPORTED);
        if (!res) break;
        uint32_t got = check_result(&c, code, res, buffer, res_claimed, sizeof *res, 1);
        if (code == PINCER_OK || code == PINCER_ERR_TIMEOUT) {
            if (got < PINCER_RUN_INFO_MIN_SIZE) violation("wait filled a result of %u bytes", got);
            if (res->status < PINCER_RUN_QUEUED || res->status > PINCER_RUN_INTERRUPTED) violation("wait: run status %d", res->status);
            if (code == PINCER_ERR_TIMEOUT && (res->final_text || res->error)) violation("wait: TIMEOUT with texts");
            if (res->final_text && !valid_utf8(res->final_text)) violation("wait: final_text not UTF-8");
            if (res->error && !valid_utf8(res->error)) violation("wait: error not UTF-8");
            host->free(host, res->final_text);
            host->free(host, res->error);
        }
        break;
    }
    case OP_MESSAGES: case OP_SESSION: case OP_GET_METADATA: {
        static const char *const names[] = {"messages", "get_session", "get_metadata"};
        call c = pick_handle(in, op, names[op == OP_MESSAGES ? 0 : op == OP_SESSION ? 1 : 2], 1);
        const char *key = string_arg(in, K_KEY);
        uint32_t limit = u8(in) < 128 ? u8(in) % 4 : u32(in);
        char **o = maybe_out(in, &out);
        pincer_result code;
        if (op == OP_MESSAGES) code = CALL(c, host->messages(c.h, key, limit, o));
        else if (op == OP_SESSION) code = CALL(c, host->get_session(c.h, key, o));
        else code = CALL(c, host->get_metadata(c.h, key, o));
        check(&c, code, OK_ | INVALID | NOT_FOUND);
        if (o) check_out(&c, code, out, 1);
        break;
    }
    case OP_STREAMING: {
        call c = pick_handle(in, op, "is_streaming", 1);
        const char *key = string_arg(in, K_KEY);
        check(&c, CALL(c, host->is_streaming(c.h, key, u8(in) % 32 != 31 ? &flag : NULL)), OK_ | INVALID | NOT_FOUND);
        break;
    }
    case OP_STEER: {
        call c = pick_handle(in, op, "steer", 1);
        const char *key = string_arg(in, K_KEY), *text = string_arg(in, K_TEXT);
        pincer_steer_outcome outcome = -1;
        pincer_result code = check(&c, CALL(c, host->steer(c.h, key, text, u8(in) % 32 != 31 ? &outcome : NULL)), OK_ | INVALID);
        if (code == PINCER_OK && (outcome < PINCER_STEER_QUEUED || outcome > PINCER_STEER_BUSY)) violation("steer: outcome %d", outcome);
        break;
    }
    case OP_DELETE: {
        call c = pick_handle(in, op, "delete_session", 1);
        const char *key = string_arg(in, K_KEY);
        check(&c, CALL(c, host->delete_session(c.h, key)), OK_ | INVALID | NOT_FOUND);
        break;
    }
    case OP_SET_METADATA: {
        call c = pick_handle(in, op, "set_metadata", 1);
        const char *key = string_arg(in, K_KEY), *json = string_arg(in, K_OBJECT);
        check(&c, CALL(c, host->set_metadata(c.h, key, json)), OK_ | INVALID | NOT_FOUND | UNSUPPORTED);
        break;
    }
    case OP_RL_CHECK: {
        call c = pick_handle(in, op, "rate_limit_check", 1);
        const char *key = string_arg(in, K_RLKEY);
        uint8_t how = u8(in);
        uint32_t max = how < 160 ? 1 + how % 8 : how < 240 ? u32(in) : (how & 1 ? 0 : PINCER_RATE_LIMIT_MAX_REQUESTS + 1);
        uint8_t w = u8(in);
        uint64_t window = w < 160 ? 1 + w * 7u : w < 240 ? u64(in) : (w & 1 ? 0 : PINCER_RATE_LIMIT_MAX_WINDOW_MS + 1);
        size_t buffer;
        pincer_rate_limit_result *res = result_struct(in, sizeof *res, &buffer);
        uint32_t res_claimed = res->struct_size;
        if (u8(in) % 32 == 31) res = NULL;
        pincer_result code = check(&c, CALL(c, host->rate_limit_check(c.h, key, max, window, res)), OK_ | INVALID);
        if (res) {
            uint32_t got = check_result(&c, code, res, buffer, res_claimed, sizeof *res, 0);
            if (code == PINCER_OK) {
                if (got < PINCER_RATE_LIMIT_RESULT_MIN_SIZE) violation("rate_limit_check filled %u bytes", got);
                unsigned char allowed;
                memcpy(&allowed, &res->allowed, 1);
                if (allowed > 1) violation("rate_limit_check: allowed is %u, not a bool", allowed);
                if (res->remaining >= max) violation("rate_limit_check: remaining %u of max %u", res->remaining, max);
                if (res->allowed && res->retry_after_ms != 0) violation("rate_limit_check: allowed with retry_after_ms");
                /* Late by at most window / PINCER_RATE_LIMIT_BUCKETS once a key is bucketed (rate_limit.h). */
                if (!res->allowed && (res->retry_after_ms == 0 || res->retry_after_ms > window + window / PINCER_RATE_LIMIT_BUCKETS + 1))
                    violation("rate_limit_check: refused with retry_after_ms %llu, window %llu", (unsigned long long)res->retry_after_ms,
                              (unsigned long long)window);
            }
        }
        break;
    }
    case OP_RL_RESET: {
        call c = pick_handle(in, op, "rate_limit_reset", 1);
        const char *key = string_arg(in, K_RLKEY);
        check(&c, CALL(c, host->rate_limit_reset(c.h, key)), OK_ | INVALID);
        break;
    }
    case OP_STATUS: case OP_MODELS: {
        call c = pick_handle(in, op, op == OP_STATUS ? "status" : "models", 1);
        char **o = maybe_out(in, &out);
        pincer_result code = check(&c, CALL(c, op == OP_STATUS ? host->status(c.h, o) : host->models(c.h, o)), OK_ | INVALID);
        if (o) check_out(&c, code, out, 1);
        break;
    }
    case OP_GATEWAY: {
        call c = pick_handle(in, op, "gateway_request", 1);
        const char *method = string_arg(in, K_METHOD), *params = u8(in) & 1 ? string_arg(in, K_PARAMS) : NULL;
        char **o = maybe_out(in, &out);
        pincer_result code = check(&c, CALL(c, host->gateway_request(c.h, method, params, o)), OK_ | INVALID | DENIED | UNSUPPORTED);
        if (o) check_out(&c, code, out, 1);
        break;
    }
    case OP_REGISTER_TOOL: {
        call c = pick_handle(in, op, "register_tool", 1);
        uint32_t claimed;
        pincer_tool_definition *d = request_struct(in, sizeof *d, offsetof(pincer_tool_definition, invoke) + sizeof(pincer_tool_invoke), &claimed);
        uint8_t fields = u8(in);
        d->name = string_arg(in, K_TOOL);
        d->description = fields & 1 ? string_arg(in, K_DESCRIPTION) : "A fuzzer's tool.";
        if (fields & 2) d->parameters_json = string_arg(in, K_SCHEMA);
        if (fields & 4) d->group = string_arg(in, K_GROUP);
        d->invoke = fields & 8 && !(fields & 16) ? NULL : tool;
        /* A release past struct_size is no release (the host takes the default): the context is then static. */
        int with_release = !(fields & 32) && claimed >= offsetof(pincer_tool_definition, release) + sizeof(pincer_release_fn);
        behaviour *b = new_behaviour(in, with_release);
        d->context = b;
        d->release = with_release ? release : NULL;
        d->struct_size = claimed;
        pincer_registration id = 0, *out_id = registration_out(fields, &id);
        registered(&c, CALL(c, host->register_tool(c.h, d, out_id)), out_id, b, with_release);
        break;
    }
    case OP_REGISTER_HOOK: {
        call c = pick_handle(in, op, "register_hook", 2);
        uint32_t claimed;
        pincer_hook_definition *d = request_struct(in, sizeof *d, offsetof(pincer_hook_definition, call) + sizeof(pincer_hook_fn), &claimed);
        uint8_t p = u8(in);
        d->point = p < 240 ? (pincer_hook_point)(p % 5) : (pincer_hook_point)u32(in);
        d->priority = (int32_t)u32(in);
        uint8_t deadline = u8(in);
        d->deadline_ms = deadline < 200 ? deadline % 80 : deadline < 250 ? PINCER_HOOK_MAX_DEADLINE_MS + (deadline & 1) : u32(in);
        uint8_t fields = u8(in);
        d->call = fields % 16 == 15 ? NULL : hook;
        int with_release = !(fields & 32) && claimed >= offsetof(pincer_hook_definition, release) + sizeof(pincer_release_fn);
        behaviour *b = new_behaviour(in, with_release);
        b->point = d->point;
        d->context = b;
        d->release = with_release ? release : NULL;
        d->struct_size = claimed;
        pincer_registration id = 0, *out_id = registration_out(fields, &id);
        registered(&c, CALL(c, host->register_hook(c.h, d, out_id)), out_id, b, with_release);
        break;
    }
    case OP_UNREGISTER: {
        call c = pick_handle(in, op, "unregister", 0);
        uint8_t how = u8(in);
        pincer_registration id = how < 160 && registration_count ? registrations[how % registration_count] : how < 240 ? u64(in) : 0;
        check(&c, CALL(c, host->unregister(c.h, id)), OK_ | NOT_FOUND);
        break;
    }
    case OP_SCENARIO: scenario(in); break;
    case OP_STOP_REQUESTED: {
        call c = pick_handle(in, op, "run_stop_requested", 0);
        const char *id = string_arg(in, K_RUN);
        check(&c, CALL(c, host->run_stop_requested(c.h, id, u8(in) % 32 != 31 ? &flag : NULL)), OK_ | INVALID | NOT_FOUND);
        break;
    }
    default: break;
    }
}

/* One input: up to 48 calls, then what it made is withdrawn so the next input starts clean
 * (its keys, run ids and registration handles stay remembered: stale from then on). */
static int one_input(const uint8_t *data, size_t size) {
    input in = {data, size};
    for (int i = 0; i < 48 && in.n > 0; i++) one_call(&in);
    for (int i = 0; i < input_registration_count; i++) {
        pincer_result code = host->unregister(host, input_registrations[i]);
        if (code != PINCER_OK && code != PINCER_ERR_NOT_FOUND) violation("unregister of this input's registration answered %d", code);
    }
    for (int i = 0; i < input_key_count; i++) {
        pincer_result code = host->delete_session(host, input_keys[i]);
        if (code != PINCER_OK && code != PINCER_ERR_NOT_FOUND) violation("delete_session of this input's session answered %d", code);
    }
    input_registration_count = input_key_count = 0;
    drop_scratch();
    return 0;
}

/* ---- The plugin -------------------------------------------------------------------------------- */

typedef struct fuzz_v1 {
    /* Runs libFuzzer with argv (argv[0] first); returns only when libFuzzer does not exit. */
    int (*run)(int argc, char **argv, const pincer_host *bare, const pincer_host *dead, const char *const *foreign_values,
               size_t foreign_values_count);
} fuzz_v1;

static int run(int argc, char **argv, const pincer_host *bare, const pincer_host *dead, const char *const *values, size_t count) {
    bare_peer = bare;
    dead_peer = dead;
    for (size_t i = 0; i < count && i < FOREIGN_MAX; i++) foreign[foreign_count++] = values[i];
    page = (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < STRING_SLOTS; i++) string_slots[i] = map_guarded(PINCER_MAX_MESSAGE_BYTES + 2 * page);
    request_region = map_guarded(PINCER_MAX_STRUCT_SIZE);
    result_region = map_guarded(PINCER_MAX_STRUCT_SIZE);
    pattern_region = map_guarded((PINCER_MAX_POLICY_PATTERNS + 2) * sizeof(char *));
    const char *trace = getenv("FX_FUZZ_TRACE");
    tracing = trace && *trace && strcmp(trace, "0") != 0;
    heap_copy = malloc(sizeof *heap_copy);
    *heap_copy = *host;
    on_fuzz_thread = 1;
    return LLVMFuzzerRunDriver(&argc, &argv, one_input);
}

static const fuzz_v1 fuzz_table = {run};

static const void *get_extension(const pincer_host *h, const char *id) {
    (void)h;
    return strcmp(id, "pincer.fuzz/1") == 0 ? &fuzz_table : NULL;
}

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t capacity) {
    (void)path;
    (void)error;
    (void)capacity;
    host = h;
    return PINCER_OK;
}

static void shutdown(const pincer_host *h) {
    (void)h;
    long total = 0;
    char codes[256];
    size_t used = 0;
    for (int i = 0; i < 12; i++) {
        long n = atomic_load(&answered[i]);
        total += n;
        used += (size_t)snprintf(codes + used, sizeof codes - used, "%s%ld", i ? "/" : "", n);
    }
    fprintf(stderr, "fx-fuzz: %ld host calls checked; by code 0-11: %s\n", total, codes);
    fprintf(stderr, "fx-fuzz: callbacks: %ld tool calls, %ld gate calls, %ld observer calls, %ld releases\n", atomic_load(&tool_calls),
            atomic_load(&gate_calls), atomic_load(&observer_calls), atomic_load(&releases));
}

static const char *const capabilities[] = {
    PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT, PINCER_CAP_SESSIONS_STEER,
    PINCER_CAP_SESSIONS_DELETE, PINCER_CAP_SESSIONS_METADATA, PINCER_CAP_RATE_LIMIT, PINCER_CAP_HOST_READ,
    PINCER_CAP_TOOLS_REGISTER, PINCER_CAP_HOOKS_OBSERVE, PINCER_CAP_HOOKS_GATE, NULL};

static const pincer_plugin_descriptor descriptor = {
    .struct_size = sizeof(pincer_plugin_descriptor), .id = ID, .name = "Fuzzer", .version = "1.0.0",
    .description = "Drives the host table with libFuzzer's inputs.", .capabilities = capabilities, .language = PINCER_SOURCE_LANGUAGE};

PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {
    .abi_version = PINCER_ABI_VERSION_INIT, .struct_size = sizeof(pincer_plugin_entry), .descriptor = &descriptor,
    .init = init, .shutdown = shutdown, .get_extension = get_extension};
