/*
 * The hostile neighbour: a plugin that attacks every function of its host table
 * from 8 threads at once, so AdversaryTests can prove the host's side of the
 * trust model (pincer.h): bad input of every kind gets a code, never a crash;
 * every bound holds under load; another plugin's sessions, metadata, windows and
 * registrations stay out of reach.
 *
 * Cases (through fixture.h's "pincer.test/1"):
 *   "storm[:percent]"  the attack; percent scales rounds and rate-limit keys (100
 *                      by default; valgrind runs use a few). Leaves 4 threads
 *                      calling the table while the host shuts the plugin down.
 *   "after_shutdown"   joins those threads and calls every function once more on
 *                      the dead handle.
 * Each answers a JSON report: calls made per result code, and the calls whose
 * code was not one the headers allow ("misses", grouped by call site, with the
 * host's message). A miss is a finding; a crash is the real failure.
 *
 * What "expected" means here is the headers' word: e.g. a wrapped
 * tools_allow_count must be PINCER_ERR_INVALID_ARGUMENT (sessions.h), whatever
 * a gate or guard further on would have said.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, process_vm_readv */
#define FIXTURE_ID "fx-adversary"
#define FIXTURE_CAPABILITIES PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT, \
                             PINCER_CAP_SESSIONS_STEER, PINCER_CAP_SESSIONS_DELETE, PINCER_CAP_SESSIONS_METADATA, \
                             PINCER_CAP_RATE_LIMIT, PINCER_CAP_HOST_READ, PINCER_CAP_TOOLS_REGISTER, \
                             PINCER_CAP_HOOKS_OBSERVE, PINCER_CAP_HOOKS_GATE
#include "fixture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

enum { THREADS = 8, LINGERERS = 4, BURST = PINCER_HOOK_MAX_PENDING_GATES + 8, BUSY = 3, MAX_MISSES = 48, CODES = 12 };

/* ---- Bookkeeping: every call's code is counted; one outside its allowed set is a miss ---- */

#define BIT(code) (1u << (code))
#define OK_ BIT(PINCER_OK)
#define INVALID BIT(PINCER_ERR_INVALID_ARGUMENT)
#define BAD_HANDLE BIT(PINCER_ERR_BAD_HANDLE)
#define SHUT_DOWN BIT(PINCER_ERR_SHUT_DOWN)
#define NOT_FOUND BIT(PINCER_ERR_NOT_FOUND)
#define DENIED BIT(PINCER_ERR_DENIED)
#define LIMIT BIT(PINCER_ERR_LIMIT)
#define TIMEOUT BIT(PINCER_ERR_TIMEOUT)
#define UNSUPPORTED BIT(PINCER_ERR_UNSUPPORTED)
#define WOULD_BLOCK BIT(PINCER_ERR_WOULD_BLOCK)

typedef struct miss {
    const char *what;
    long count;
    int code;
    char message[240];
} miss;

static atomic_long code_counts[CODES + 1]; /* the last one counts codes result.h does not name */
static atomic_long unexpected;
static pthread_mutex_t miss_lock = PTHREAD_MUTEX_INITIALIZER;
static miss misses[MAX_MISSES];
static int miss_count;

/* Records a miss: grouped by call site, so a storm of one finding is one line with a count. */
static void record_miss(const char *what, int code, const char *message) {
    atomic_fetch_add(&unexpected, 1);
    pthread_mutex_lock(&miss_lock);
    int i = 0;
    while (i < miss_count && strcmp(misses[i].what, what) != 0) i++;
    if (i < miss_count || miss_count < MAX_MISSES) {
        if (i == miss_count) {
            misses[i].what = what;
            miss_count++;
        }
        misses[i].count++;
        misses[i].code = code;
        snprintf(misses[i].message, sizeof misses[i].message, "%s", message ? message : "");
    }
    pthread_mutex_unlock(&miss_lock);
}

/* Counts a call's code; a code outside `allowed` is a miss carrying the host's message
 * (read through the handle the call used, as a plugin would). */
static pincer_result noted(const pincer_host *h, const char *what, pincer_result got, unsigned allowed) {
    atomic_fetch_add(&code_counts[got >= 0 && got < CODES ? got : CODES], 1);
    if (got < 0 || got >= CODES || !(allowed & BIT(got))) record_miss(what, got, host->last_error(h));
    return got;
}

#define TRY_H(h, allowed, call) noted((h), #call, (call), (allowed))
#define TRY(allowed, call) TRY_H(host, allowed, call)
/* A named check: for findings the report should spell out. */
#define TRYL(label, allowed, call) noted(host, (label), (call), (allowed))
#define FAIL(label, ...)                                        \
    do {                                                        \
        char why_[240];                                         \
        snprintf(why_, sizeof why_, __VA_ARGS__);               \
        record_miss((label), -1, why_);                         \
    } while (0)

/* A `char **out` must be NULL after any call that did not return PINCER_OK (pincer.h). */
#define TRY_OUT(h, allowed, out, call)                                                   \
    do {                                                                                 \
        (out) = (char *)(uintptr_t)1;                                                    \
        pincer_result code_ = TRY_H(h, allowed, call);                                   \
        if (code_ == PINCER_OK) host->free(host, (out));                                 \
        else if ((out) != NULL) FAIL(#call " left *out set", "code %d, out %p", code_, (void *)(out)); \
    } while (0)

/* A prompt request for one call, its struct_size set (prompt takes a request struct). */
#define PROMPT(key, text) (&(pincer_prompt_request){sizeof(pincer_prompt_request), (key), (text)})

/* ---- Memory the attacks need ------------------------------------------------------------ */

static size_t page;

/* `len` bytes of `fill` that end where a PROT_NONE page begins: a string with no NUL
 * the host may read up to its limit plus one and not a byte further. */
static char *guarded(size_t len, char fill) {
    size_t pages = (len + page - 1) / page + 1;
    char *base = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    mprotect(base + (pages - 1) * page, page, PROT_NONE);
    char *p = base + (pages - 1) * page - len;
    memset(p, fill, len);
    return p;
}

/* `len` bytes of `s` ending at a guard page (with its NUL only when len counts it). */
static char *guarded_copy(const char *s, size_t len) {
    char *p = guarded(len, 0);
    if (p) memcpy(p, s, len);
    return p;
}

/* Extension ids that match an offered one up to their last byte, unterminated at a guard
 * page, one whose NUL is the page's last byte, and an empty one: the host must stop reading
 * at the first difference or at the NUL, as strcmp would. */
static char *near_ids[4];

/* Strings one byte over each limit, unterminated, ending at a guard page. */
static struct {
    char *key, *run_id, *message, *metadata, *rl_key, *tool_name, *description, *schema, *group, *log, *method,
        *system_prompt, *label, *model, *pattern;
} over;

/* Valid inputs at their limits: a 1 MiB message, a 64 KiB schema, a 64 KiB steer text. */
static char *big_message, *big_schema, *medium_text, *deep_json;

static const char *const bad_utf8[] = {
    "caf\xc3\x28",         /* a lead byte with no continuation */
    "\xff\xfe",            /* bytes UTF-8 never uses */
    "\xc0\xaf",            /* an overlong '/' */
    "\xed\xa0\x80",        /* a UTF-16 surrogate */
    "\xf4\x90\x80\x80",    /* past U+10FFFF */
    "ok then \xe2\x82",    /* cut short at the end */
};
enum { BAD_UTF8_COUNT = sizeof bad_utf8 / sizeof bad_utf8[0] };

static int prepare_memory(void) {
    page = (size_t)sysconf(_SC_PAGESIZE);
    near_ids[0] = guarded_copy("pincer.runs/X", 13);
    near_ids[1] = guarded_copy("pincer.gatewaz", 14);
    near_ids[2] = guarded_copy("pincer.acp", 11);
    near_ids[3] = guarded_copy("", 1);
    over.key = guarded(PINCER_SESSION_KEY_CAPACITY, 'k');
    over.run_id = guarded(PINCER_RUN_ID_CAPACITY, 'r');
    over.message = guarded(PINCER_MAX_MESSAGE_BYTES + 1, 'm');
    over.metadata = guarded(PINCER_MAX_METADATA_BYTES + 1, '{');
    over.rl_key = guarded(PINCER_RATE_LIMIT_MAX_KEY_BYTES + 1, 'q');
    over.tool_name = guarded(PINCER_TOOL_NAME_MAX_BYTES + 1, 't');
    over.description = guarded(PINCER_TOOL_DESCRIPTION_MAX_BYTES + 1, 'd');
    over.schema = guarded(PINCER_TOOL_SCHEMA_MAX_BYTES + 1, '[');
    over.group = guarded(PINCER_TOOL_GROUP_MAX_BYTES + 1, 'g');
    over.log = guarded(PINCER_LOG_MAX_BYTES + 1, 'l');
    over.method = guarded(PINCER_GATEWAY_METHOD_MAX_BYTES + 1, 'x');
    over.system_prompt = guarded(PINCER_MAX_SYSTEM_PROMPT_BYTES + 1, 's');
    over.label = guarded(PINCER_MAX_LABEL_BYTES + 1, 'b');
    over.model = guarded(PINCER_MAX_MODEL_BYTES + 1, 'o');
    over.pattern = guarded(PINCER_MAX_PATTERN_BYTES + 1, 'p');
    /* A tool name must start with the plugin's id: the over-long one does too. */
    if (over.tool_name) memcpy(over.tool_name, FIXTURE_ID ".", strlen(FIXTURE_ID "."));

    big_message = malloc(PINCER_MAX_MESSAGE_BYTES + 1);
    big_schema = malloc(PINCER_TOOL_SCHEMA_MAX_BYTES + 1);
    medium_text = malloc((64u << 10) + 1);
    deep_json = malloc(2 * 400 + 1);
    if (!over.key || !over.run_id || !over.message || !over.metadata || !over.rl_key || !over.tool_name || !over.description ||
        !over.schema || !over.group || !over.log || !over.method || !over.system_prompt || !over.label || !over.model ||
        !over.pattern || !big_message || !big_schema || !medium_text || !deep_json)
        return 0;
    memset(big_message, 'a', PINCER_MAX_MESSAGE_BYTES);
    big_message[PINCER_MAX_MESSAGE_BYTES] = 0;
    /* {"type":"object","description":"zzzz…"}, exactly PINCER_TOOL_SCHEMA_MAX_BYTES long. */
    const char *head = "{\"type\":\"object\",\"description\":\"", *tail = "\"}";
    size_t fill = PINCER_TOOL_SCHEMA_MAX_BYTES - strlen(head) - strlen(tail);
    strcpy(big_schema, head);
    memset(big_schema + strlen(head), 'z', fill);
    strcpy(big_schema + strlen(head) + fill, tail);
    memset(medium_text, 'w', 64u << 10);
    medium_text[64u << 10] = 0;
    /* 400 levels of nesting, past any sane parser's depth limit. */
    for (int i = 0; i < 400; i++) deep_json[i] = '[';
    for (int i = 0; i < 400; i++) deep_json[400 + i] = ']';
    deep_json[800] = 0;
    return 1;
}

/* A result struct of `size` bytes that ends at a guard page: the host may write what
 * struct_size allows and not a byte past it. */
static void *page_end(size_t size) {
    char *p = guarded(size, 0);
    if (p) memset(p, 0, size);
    return p;
}

/* ---- Looking for the neighbour's handle ------------------------------------------------- */

/* Reads another address of this process without faulting: EFAULT instead of SIGSEGV
 * for memory that is not mapped (or was unmapped since /proc/self/maps was read). */
static int safe_read(void *to, uintptr_t from, size_t n) {
    struct iovec local = {to, n}, remote = {(void *)from, n};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n;
}

/* Whether `bytes` look like a host table: our own table's version, size and functions. */
static int looks_like_table(const unsigned char *bytes) {
    const pincer_host *candidate = (const pincer_host *)bytes;
    return memcmp(&candidate->abi_version, &host->abi_version, sizeof host->abi_version) == 0 &&
           candidate->struct_size == host->struct_size && candidate->get_extension == host->get_extension &&
           candidate->spawn == host->spawn && candidate->run_stop_requested == host->run_stop_requested;
}

typedef struct hunt {
    const pincer_host *near;   /* a table within ±64 KiB of ours (host.h says there is none to find) */
    int near_pages;             /* readable pages scanned there */
    int anywhere;               /* tables found in every one-page anonymous mapping (the trust model's caveat) */
} hunt;

static hunt hunt_neighbour(void) {
    hunt result = {NULL, 0, 0};
    uintptr_t own = (uintptr_t)host, low = own > (64u << 10) ? own - (64u << 10) : 0, high = own + (64u << 10) + page;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return result;
    char line[512];
    static unsigned char buffer[1 << 16];
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end, inode;
        char perms[5] = {0}, path[256] = {0};
        if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %255s", &start, &end, perms, &inode, path) < 4) continue;
        if (perms[0] != 'r') continue;
        /* Near: every 8-byte offset of every readable page within ±64 KiB. */
        uintptr_t from = start > low ? start : low, to = end < high ? end : high;
        for (uintptr_t p = from; p < to; p += page) {
            if (!safe_read(buffer, p, page)) continue;
            result.near_pages++;
            for (size_t off = 0; off + sizeof(pincer_host) <= page; off += 8) {
                if (p + off != own && looks_like_table(buffer + off)) result.near = (const pincer_host *)(p + off);
            }
        }
        /* Anywhere: the start of each lone anonymous read-write page (how this host maps a table). */
        if (end - start == page && inode == 0 && path[0] == 0 && perms[1] == 'w' && start != own &&
            safe_read(buffer, start, sizeof(pincer_host)) && looks_like_table(buffer))
            result.anywhere++;
    }
    fclose(maps);
    return result;
}

/* ---- Forged handles ------------------------------------------------------------------------ */

enum { FORGED = 14 };
static const pincer_host *forged[FORGED];
static pincer_host *heap_copy, *page_copy;

static void forge_handles(const pincer_host *neighbour) {
    uintptr_t h = (uintptr_t)host;
    heap_copy = malloc(sizeof *heap_copy);
    *heap_copy = *host;
    /* A page-aligned copy, token and all: the host must know its own pages, not trust contents. */
    page_copy = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *page_copy = *host;
    const uintptr_t values[FORGED] = {
        0, 1, 16, 4096, h - 8, h + 8, h + page - 8, h + page, h + page / 2, h - page, (uintptr_t)heap_copy,
        (uintptr_t)page_copy, UINTPTR_MAX - 63, (uintptr_t)0x100000000000ull};
    for (int i = 0; i < FORGED; i++) {
        /* The page after ours is forged only while no table lives there. */
        forged[i] = neighbour && values[i] == (uintptr_t)neighbour ? (const pincer_host *)(uintptr_t)16 : (const pincer_host *)values[i];
    }
}

/* ---- State shared by the phases ------------------------------------------------------------ */

static char own_key[PINCER_SESSION_KEY_CAPACITY], own_run[PINCER_RUN_ID_CAPACITY];
/* own_run ended before the storm; once enough 1 MiB runs end after it (a slow storm, under
 * valgrind, lets the busy sessions' prompts run) the host may forget it (host.h, wait()). */
#define ENDED (OK_ | NOT_FOUND)
static char busy_keys[BUSY][PINCER_SESSION_KEY_CAPACITY];
static pincer_registration first_own_id, stuck_id;
static atomic_int storm_over, stuck_inside, recursion_armed;
static atomic_long released;
static atomic_long spawn_denied, spawn_limit, lane_refused, prompt_ok, prompt_limit, steer_queued, steer_busy;
static atomic_long tools_held, tool_limit_hits, hook_limit_hits, rl_keys_filled, rl_keys_exact;
static int recursion_depth, recursion_max_depth;
static pincer_result recursion_code = -1, gate_wait_code = -1, tool_gate_wait_code = -1;
static char recursion_message[512];
static int rounds = 40, keys_per_thread = 2; /* at 100 percent; storm() scales them */

/* The session key of a victim's session this plugin guesses at (host.h: keys are not secret,
 * ownership is the guard), and a run id of the same shape. */
static const char *const guessed_keys[] = {"plugin:fx-victim:000000000000", "plugin:fx-victim:ffffffffffff", "operator:000000000000"};
static const char *const guessed_run = "run-0000000000000000";

static void release_counter(void *context) {
    (void)context;
    atomic_fetch_add(&released, 1);
}

static char *host_text(const char *text) {
    size_t n = strlen(text) + 1;
    char *p = host->alloc(host, n);
    if (p) memcpy(p, text, n);
    return p;
}

/* ---- Tools that hand back what they must not --------------------------------------------- */

static char not_from_alloc[256];

static pincer_result tool_unterminated(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    char *p = host->alloc(host, 4096);
    if (p) memset(p, 'x', 4096); /* no NUL anywhere in the allocation */
    *out_text = p;
    return PINCER_OK;
}

static pincer_result tool_bad_utf8(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = host_text("\xff\xfe not text");
    return PINCER_OK;
}

static pincer_result tool_not_mine(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = not_from_alloc + 64; /* the host must see it is not host->alloc memory, and not free it */
    return PINCER_OK;
}

static pincer_result tool_huge(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    size_t n = PINCER_TOOL_RESULT_MAX_BYTES + 2;
    char *p = host->alloc(host, n);
    if (p) {
        memset(p, 'y', n - 1);
        p[n - 1] = 0;
    }
    *out_text = p;
    return PINCER_OK;
}

static pincer_result tool_null(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = NULL;
    return PINCER_OK;
}

static pincer_result tool_bad_code(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = host_text("a code no header names");
    return 999;
}

static pincer_result tool_must_not_run(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    FAIL("a tool its gate blocked ran anyway", "%s", call->tool_name);
    *out_text = NULL;
    return PINCER_OK;
}

/* Waits on the run it serves and on a run queued behind it: both would deadlock, so both
 * must be PINCER_ERR_WOULD_BLOCK at once; a zero timeout only reports. */
static pincer_result tool_wait_self(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    TRYL("tool: wait() on the run it serves", WOULD_BLOCK, host->wait(host, call->run_id, 1000, &info));
    TRYL("tool: wait(0) on the run it serves", TIMEOUT, host->wait(host, call->run_id, 0, &info));
    pincer_run_ref queued = {.struct_size = sizeof(pincer_run_ref)};
    if (TRYL("tool: prompt its own session", OK_ | LIMIT, host->prompt(host, PROMPT(call->session_key, "again"), &queued)) == PINCER_OK)
        TRYL("tool: wait() on a run queued behind it", WOULD_BLOCK, host->wait(host, queued.run_id, 1000, &info));
    bool stop = true;
    TRYL("tool: run_stop_requested on its run", OK_, host->run_stop_requested(host, call->run_id, &stop));
    if (stop) FAIL("tool: run_stop_requested", "a running, uncancelled run reads as asked to stop");
    *out_text = host_text("waitself ok");
    return PINCER_OK;
}

/* Deletes the session it serves: the run ends CANCELLED once the tool returns. */
static pincer_result tool_delete_self(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    TRYL("tool: delete_session of its own session", OK_, host->delete_session(host, call->session_key));
    *out_text = host_text("deleted");
    return PINCER_OK;
}

typedef struct tool_spec {
    const char *name;
    pincer_tool_invoke invoke;
} tool_spec;

static const tool_spec attack_tools[] = {
    {FIXTURE_ID ".unterminated", tool_unterminated}, {FIXTURE_ID ".badutf8", tool_bad_utf8},
    {FIXTURE_ID ".notmine", tool_not_mine},          {FIXTURE_ID ".huge", tool_huge},
    {FIXTURE_ID ".nullout", tool_null},              {FIXTURE_ID ".badcode", tool_bad_code},
    {FIXTURE_ID ".waitself", tool_wait_self},        {FIXTURE_ID ".gateblock", tool_must_not_run},
    {FIXTURE_ID ".gatepatch", tool_must_not_run},    {FIXTURE_ID ".selfdelete", tool_delete_self},
};
enum { ATTACK_TOOLS = sizeof attack_tools / sizeof attack_tools[0] };
static pincer_registration attack_tool_ids[ATTACK_TOOLS];

/* ---- Gates and observers -------------------------------------------------------------------- */

static void set_decision(pincer_hook_decision *decision, pincer_hook_verdict verdict, char *reason, char *patch) {
    decision->verdict = verdict;
    decision->reason = reason;
    decision->patch_json = patch;
}

/* before_session_create: spawns from inside itself, so each spawn meets this gate again,
 * nested on the lane's thread, until PINCER_HOOK_MAX_NESTING refuses one. Blocks every
 * spawn it sees, so the probe creates no session. */
static pincer_result gate_recurse(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    if (atomic_load(&recursion_armed)) {
        recursion_depth++;
        if (recursion_depth > recursion_max_depth) recursion_max_depth = recursion_depth;
        if (recursion_depth == 1) {
            /* The run it gates does not exist yet: waiting on it must not block. */
            pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
            gate_wait_code = TRYL("gate: wait() on the run it gates", WOULD_BLOCK | NOT_FOUND, host->wait(host, event->run_id, 1000, &info));
        }
        pincer_spawn_request request;
        memset(&request, 0, sizeof request);
        request.struct_size = sizeof request;
        request.message = "recursion probe";
        pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
        pincer_result code = TRYL("gate: spawn from inside before_session_create", DENIED | LIMIT, host->spawn(host, &request, &spawned));
        if (code == PINCER_ERR_LIMIT && recursion_code < 0) {
            recursion_code = code;
            snprintf(recursion_message, sizeof recursion_message, "%s", host->last_error(host));
        }
        recursion_depth--;
    }
    set_decision(decision, PINCER_HOOK_BLOCK, host_text("recursion probe: no session wanted"), NULL);
    return PINCER_OK;
}

/* before_session_create: never answers while the storm lasts (at most a minute). */
static pincer_result gate_stuck(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)event;
    atomic_store(&stuck_inside, 1);
    for (int i = 0; i < 12000 && !atomic_load(&storm_over); i++) fixture_sleep_ms(5);
    atomic_store(&stuck_inside, 0);
    set_decision(decision, PINCER_HOOK_BLOCK, NULL, NULL);
    return PINCER_OK;
}

/* before_tool_call: waits on the run it gates (must be WOULD_BLOCK), hands back an
 * unterminated reason for one tool and a patch that is not JSON for another. */
static pincer_result gate_tool(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    if (tool_gate_wait_code < 0) {
        pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
        tool_gate_wait_code = TRYL("gate: wait() on the run whose tool call it gates", WOULD_BLOCK, host->wait(host, event->run_id, 1000, &info));
    }
    if (event->tool_name && strcmp(event->tool_name, FIXTURE_ID ".gateblock") == 0) {
        char *reason = host->alloc(host, 64);
        if (reason) memset(reason, 'r', 64);
        set_decision(decision, PINCER_HOOK_BLOCK, reason, NULL);
    } else if (event->tool_name && strcmp(event->tool_name, FIXTURE_ID ".gatepatch") == 0) {
        set_decision(decision, PINCER_HOOK_CONTINUE, NULL, host_text("{\"arguments\": nope"));
    }
    return PINCER_OK;
}

/* Observers call back into the host from their lane; the session may be gone by then. */
static pincer_result observe(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)decision;
    bool streaming;
    TRYL("observer: is_streaming", OK_ | NOT_FOUND, host->is_streaming(host, event->session_key, &streaming));
    return PINCER_OK;
}

static pincer_result register_hook_at(pincer_hook_point point, int32_t priority, uint32_t deadline, pincer_hook_fn call,
                                      pincer_registration *id) {
    pincer_hook_definition hook;
    memset(&hook, 0, sizeof hook);
    hook.struct_size = sizeof hook;
    hook.point = point;
    hook.priority = priority;
    hook.deadline_ms = deadline;
    hook.call = call;
    hook.release = release_counter;
    return host->register_hook(host, &hook, id);
}

static pincer_result register_tool_named(const char *name, const char *schema, pincer_tool_invoke invoke, pincer_registration *id) {
    pincer_tool_definition tool;
    memset(&tool, 0, sizeof tool);
    tool.struct_size = sizeof tool;
    tool.name = name;
    tool.description = "An adversary's tool.";
    tool.parameters_json = schema;
    tool.invoke = invoke;
    tool.release = release_counter;
    return host->register_tool(host, &tool, id);
}

/* ---- Sweeps -------------------------------------------------------------------------------- */

static void small_request(pincer_spawn_request *r, const char *message) {
    memset(r, 0, sizeof *r);
    r->struct_size = sizeof *r;
    r->message = message;
}

/* Every function once, with well-formed arguments, through handle `h` (never read: it may
 * point anywhere). Each code must be in `allowed`: BAD_HANDLE for a forged handle,
 * SHUT_DOWN for this plugin's own handle once it is dead. */
static void sweep_handle(const pincer_host *h, unsigned allowed) {
    pincer_spawn_request request;
    small_request(&request, "through a handle");
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_run_ref ref = {.struct_size = sizeof(pincer_run_ref)};
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    pincer_rate_limit_result rl = {.struct_size = sizeof(pincer_rate_limit_result)};
    pincer_steer_outcome outcome;
    bool flag;
    char *out;
    if (host->get_extension(h, "pincer.test/1") != NULL) FAIL("get_extension through a bad or dead handle", "answered a table");
    if (host->last_error(h) == NULL) FAIL("last_error through a bad or dead handle", "answered NULL");
    void *block = host->alloc(h, 16);
    if (block != NULL) {
        FAIL("alloc through a bad or dead handle", "answered memory");
        host->free(host, block);
    }
    host->free(h, NULL);
    /* A bad handle's free must be ignored: the block stays ours to use and free. */
    char *mine = allowed == BAD_HANDLE ? host->alloc(host, 32) : NULL;
    if (mine) {
        host->free(h, mine);
        memset(mine, 'k', 32);
        host->free(host, mine);
    }
    TRY_H(h, allowed, host->log(h, PINCER_LOG_INFO, "through a handle"));
    TRY_OUT(h, allowed, out, host->get_config(h, &out));
    TRY_H(h, allowed, host->spawn(h, &request, &spawned));
    TRY_H(h, allowed, host->prompt(h, PROMPT(own_key, "x"), &ref));
    TRY_H(h, allowed, host->cancel_run(h, guessed_run));
    TRY_H(h, allowed, host->wait(h, own_run, 0, &info));
    TRY_OUT(h, allowed, out, host->messages(h, own_key, 0, &out));
    TRY_OUT(h, allowed, out, host->get_session(h, own_key, &out));
    TRY_H(h, allowed, host->is_streaming(h, own_key, &flag));
    TRY_OUT(h, allowed, out, host->get_metadata(h, own_key, &out));
    TRY_H(h, allowed, host->steer(h, own_key, "x", &outcome));
    TRY_H(h, allowed, host->delete_session(h, guessed_keys[0]));
    TRY_H(h, allowed, host->set_metadata(h, own_key, "{}"));
    TRY_H(h, allowed, host->rate_limit_check(h, "through a handle", 5, 1000, &rl));
    TRY_H(h, allowed, host->rate_limit_reset(h, "through a handle"));
    TRY_OUT(h, allowed, out, host->status(h, &out));
    TRY_OUT(h, allowed, out, host->models(h, &out));
    TRY_OUT(h, allowed, out, host->gateway_request(h, "status", NULL, &out));
    pincer_tool_definition tool;
    memset(&tool, 0, sizeof tool);
    tool.struct_size = sizeof tool;
    tool.name = FIXTURE_ID ".through";
    tool.description = "never registered";
    tool.invoke = tool_null;
    pincer_registration id = 0;
    if (TRY_H(h, allowed, host->register_tool(h, &tool, &id)) == PINCER_OK) host->unregister(host, id);
    pincer_hook_definition hook;
    memset(&hook, 0, sizeof hook);
    hook.struct_size = sizeof hook;
    hook.point = PINCER_HOOK_SESSION_CREATED;
    hook.call = observe;
    if (TRY_H(h, allowed, host->register_hook(h, &hook, &id)) == PINCER_OK) host->unregister(host, id);
    TRY_H(h, allowed, host->unregister(h, first_own_id));
    TRY_H(h, allowed, host->run_stop_requested(h, own_run, &flag));
}

/* Bad input to every function through the plugin's own live handle. */
static void attack_inputs(void) {
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_run_ref ref = {.struct_size = sizeof(pincer_run_ref)};
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    pincer_rate_limit_result rl = {.struct_size = sizeof(pincer_rate_limit_result)};
    pincer_steer_outcome outcome;
    bool flag;
    char *out;
    const char *bad = bad_utf8[rand() % BAD_UTF8_COUNT];

    /* Host services. */
    if (host->get_extension(host, NULL) != NULL || host->get_extension(host, bad) != NULL || host->get_extension(host, over.key) != NULL)
        FAIL("get_extension of a bad id", "answered a table");
    for (size_t i = 0; i < sizeof near_ids / sizeof near_ids[0]; i++)
        if (near_ids[i] && host->get_extension(host, near_ids[i]) != NULL) FAIL("get_extension of a near-miss id", "answered a table");
    const size_t sizes[] = {0, SIZE_MAX, (size_t)1 << 63, (1u << 30) + 1, SIZE_MAX - 4095};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = host->alloc(host, sizes[i]);
        if (p) {
            FAIL("alloc of an absurd size", "alloc(%zu) answered memory", sizes[i]);
            host->free(host, p);
        }
    }
    /* A pointer into a host block, not its start: the host must not free it (it cannot be freed). */
    char *block = host->alloc(host, 64);
    if (block) {
        memset(block, 0, 64);
        host->free(host, block + 32);
        block[0] = 'z';
        host->free(host, block);
    }
    TRY(INVALID, host->log(host, -1, "level -1"));
    TRY(INVALID, host->log(host, 4, "level 4"));
    TRY(INVALID, host->log(host, INT32_MAX, "level max"));
    TRY(INVALID, host->log(host, PINCER_LOG_INFO, NULL));
    TRY(INVALID, host->log(host, PINCER_LOG_INFO, bad));
    TRY(OK_, host->log(host, PINCER_LOG_WARN, "\x1b[31m\n[fx-victim] a forged line\r\xc2\x85\xe2\x80\xa8"));
    /* Unterminated past the limit: cut at the limit, never read beyond it. */
    TRY(OK_, host->log(host, PINCER_LOG_DEBUG, over.log));
    TRY(INVALID, host->get_config(host, NULL));

    /* spawn: the request struct itself. */
    TRY(INVALID, host->spawn(host, NULL, &spawned));
    pincer_spawn_request r;
    small_request(&r, "x");
    TRY(INVALID, host->spawn(host, &r, NULL));
    static _Thread_local union {
        pincer_spawn_request request;
        unsigned char bytes[PINCER_MAX_STRUCT_SIZE + 8];
    } wide;
    memset(&wide, 0, sizeof wide);
    wide.request = r;
    const uint32_t struct_sizes[] = {0, 4, 8, PINCER_MAX_STRUCT_SIZE + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof struct_sizes / sizeof struct_sizes[0]; i++) {
        wide.request.struct_size = struct_sizes[i];
        TRYL("spawn with struct_size 0, 4, 8, 4097 or 4 G", INVALID, host->spawn(host, &wide.request, &spawned));
    }
    /* Larger than the host's, with a non-zero byte in the tail: a newer option it cannot honour. */
    wide.request.struct_size = PINCER_MAX_STRUCT_SIZE;
    wide.bytes[PINCER_MAX_STRUCT_SIZE - 1] = 1;
    TRYL("spawn with a non-zero byte past the host's struct", UNSUPPORTED, host->spawn(host, &wide.request, &spawned));
    wide.bytes[PINCER_MAX_STRUCT_SIZE - 1] = 0;
    wide.bytes[sizeof(pincer_spawn_request)] = 0x80;
    TRYL("spawn with a non-zero byte just past the host's struct", UNSUPPORTED, host->spawn(host, &wide.request, &spawned));
    /* The result struct: too small for 1.0's fields. */
    pincer_spawn_result small_result = {.struct_size = 4};
    TRY(INVALID, host->spawn(host, &r, &small_result));

    /* spawn: its fields. */
    small_request(&r, NULL);
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, bad);
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, over.message);
    TRYL("spawn with an unterminated message past 1 MiB", INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.system_prompt = over.system_prompt;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.label = over.label;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.model = over.model;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.model = bad;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.model = "no/such-model";
    TRY(DENIED | UNSUPPORTED, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.timeout_seconds = UINT32_MAX;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    const char *one[] = {"echo"};
    const char *bad_pattern[] = {"echo", bad};
    const char *long_pattern[] = {over.pattern};
    const char *null_pattern[] = {NULL};
    const char *victims_tool[] = {"fx-victim.ping"};
    small_request(&r, "x");
    r.tools_allow = one;
    r.tools_allow_count = PINCER_MAX_POLICY_PATTERNS + 1;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.tools_deny = one;
    r.tools_deny_count = PINCER_MAX_POLICY_PATTERNS + 1;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.tools_allow_count = 1; /* and no array */
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.tools_allow = null_pattern;
    r.tools_allow_count = 1;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.tools_deny = bad_pattern;
    r.tools_deny_count = 2;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.tools_allow = long_pattern;
    r.tools_allow_count = 1;
    TRY(INVALID, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.tools_allow = victims_tool;
    r.tools_allow_count = 1;
    TRYL("spawn whose tools_allow names the victim's tool", DENIED, host->spawn(host, &r, &spawned));
    small_request(&r, "x");
    r.metadata_json = over.message; /* past 16 namespaces of 64 KiB, unterminated */
    TRY(INVALID, host->spawn(host, &r, &spawned));
    const char *bad_metadata[] = {"{", "[1,2]", "{\"fx-adversary\": 5}", "\"text\"", "{\"fx-adversary\":{}} trailing", bad};
    for (size_t i = 0; i < sizeof bad_metadata / sizeof bad_metadata[0]; i++) {
        small_request(&r, "x");
        r.metadata_json = bad_metadata[i];
        TRYL("spawn with metadata_json that is not {namespace: object}", INVALID, host->spawn(host, &r, &spawned));
    }
    small_request(&r, "x");
    r.metadata_json = deep_json;
    TRY(INVALID, host->spawn(host, &r, &spawned));

    /* prompt, cancel_run, wait. */
    TRY(INVALID, host->prompt(host, NULL, &ref));
    static _Thread_local union {
        pincer_prompt_request request;
        unsigned char bytes[PINCER_MAX_STRUCT_SIZE + 8];
    } wide_prompt;
    memset(&wide_prompt, 0, sizeof wide_prompt);
    wide_prompt.request = *PROMPT(own_key, "x");
    for (size_t i = 0; i < sizeof struct_sizes / sizeof struct_sizes[0]; i++) {
        wide_prompt.request.struct_size = struct_sizes[i];
        TRYL("prompt with struct_size 0, 4, 8, 4097 or 4 G", INVALID, host->prompt(host, &wide_prompt.request, &ref));
    }
    wide_prompt.request.struct_size = PINCER_MAX_STRUCT_SIZE;
    wide_prompt.bytes[sizeof(pincer_prompt_request) + 3] = 9;
    TRYL("prompt with a non-zero byte past the host's struct", UNSUPPORTED, host->prompt(host, &wide_prompt.request, &ref));
    TRY(INVALID, host->prompt(host, PROMPT(NULL, "x"), &ref));
    TRY(INVALID, host->prompt(host, PROMPT(own_key, NULL), &ref));
    TRY(INVALID, host->prompt(host, PROMPT(bad, "x"), &ref));
    TRY(INVALID, host->prompt(host, PROMPT(own_key, bad), &ref));
    TRY(INVALID, host->prompt(host, PROMPT(over.key, "x"), &ref));
    TRY(INVALID, host->prompt(host, PROMPT(own_key, over.message), &ref));
    TRY(INVALID, host->prompt(host, PROMPT(own_key, "x"), NULL));
    pincer_run_ref small_ref = {.struct_size = 0};
    TRY(INVALID, host->prompt(host, PROMPT(own_key, "x"), &small_ref));
    for (int i = 0; i < 3; i++) TRYL("prompt a session of another plugin (guessed key)", NOT_FOUND, host->prompt(host, PROMPT(guessed_keys[i], "x"), &ref));
    TRY(INVALID, host->cancel_run(host, NULL));
    TRY(INVALID, host->cancel_run(host, over.run_id));
    TRY(INVALID, host->cancel_run(host, bad));
    TRYL("cancel a run of another plugin (guessed id)", NOT_FOUND, host->cancel_run(host, guessed_run));
    TRY(INVALID, host->wait(host, NULL, 0, &info));
    TRY(INVALID, host->wait(host, over.run_id, 0, &info));
    TRY(INVALID, host->wait(host, own_run, 0, NULL));
    pincer_run_info small_info = {.struct_size = 8};
    TRY(INVALID, host->wait(host, own_run, 0, &small_info));
    TRY(NOT_FOUND, host->wait(host, guessed_run, 0, &info));
    if (TRY(ENDED, host->wait(host, own_run, 0, &info)) == PINCER_OK) {
        host->free(host, info.final_text);
        host->free(host, info.error);
    }

    /* Reading. */
    TRY(INVALID, host->messages(host, NULL, 0, &out));
    TRY(INVALID, host->messages(host, own_key, 0, NULL));
    TRY_OUT(host, INVALID, out, host->messages(host, over.key, 0, &out));
    TRY_OUT(host, NOT_FOUND, out, host->messages(host, guessed_keys[0], 0, &out));
    TRY_OUT(host, OK_, out, host->messages(host, own_key, UINT32_MAX, &out));
    TRY_OUT(host, INVALID, out, host->get_session(host, bad, &out));
    TRY_OUT(host, INVALID, out, host->get_session(host, over.key, &out));
    TRY_OUT(host, NOT_FOUND, out, host->get_session(host, guessed_keys[1], &out));
    TRY(INVALID, host->is_streaming(host, NULL, &flag));
    TRY(INVALID, host->is_streaming(host, own_key, NULL));
    TRY(INVALID, host->is_streaming(host, over.key, &flag));
    TRY(INVALID, host->is_streaming(host, bad, &flag));
    for (int i = 0; i < 3; i++) TRYL("is_streaming on another plugin's session (guessed key)", NOT_FOUND, host->is_streaming(host, guessed_keys[i], &flag));
    TRY_OUT(host, INVALID, out, host->get_metadata(host, over.key, &out));
    TRY_OUT(host, NOT_FOUND, out, host->get_metadata(host, guessed_keys[0], &out));

    /* Steering and deleting. */
    TRY(INVALID, host->steer(host, NULL, "x", &outcome));
    TRY(INVALID, host->steer(host, own_key, NULL, &outcome));
    TRY(INVALID, host->steer(host, own_key, "x", NULL));
    TRY(INVALID, host->steer(host, own_key, over.message, &outcome));
    TRY(INVALID, host->steer(host, over.key, "x", &outcome));
    outcome = -1;
    if (TRY(OK_, host->steer(host, guessed_keys[0], "x", &outcome)) == PINCER_OK && outcome != PINCER_STEER_NO_SESSION)
        FAIL("steer another plugin's session (guessed key)", "outcome %d, not PINCER_STEER_NO_SESSION", outcome);
    TRY(INVALID, host->delete_session(host, NULL));
    TRY(INVALID, host->delete_session(host, over.key));
    TRY(INVALID, host->delete_session(host, bad));
    for (int i = 0; i < 3; i++) TRYL("delete another plugin's session (guessed key)", NOT_FOUND, host->delete_session(host, guessed_keys[i]));

    /* Metadata. */
    TRY(INVALID, host->set_metadata(host, own_key, NULL));
    TRY(INVALID, host->set_metadata(host, NULL, "{}"));
    TRY(INVALID, host->set_metadata(host, own_key, over.metadata));
    TRY(INVALID, host->set_metadata(host, own_key, deep_json));
    const char *not_objects[] = {"{", "[1]", "42", "null", "{\"a\":1}}", bad};
    for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++)
        TRYL("set_metadata with text that is not one JSON object", INVALID, host->set_metadata(host, own_key, not_objects[i]));
    TRYL("set_metadata on another plugin's session (guessed key)", NOT_FOUND, host->set_metadata(host, guessed_keys[0], "{\"owned\":true}"));
    TRY(OK_ | INVALID, host->set_metadata(host, own_key, "{\"nul\":\"\\u0000\",\"lone\":\"\\ud800\"}"));
    TRY(OK_, host->set_metadata(host, own_key, "{\"adversary\":true}"));

    /* Rate limits. */
    TRY(INVALID, host->rate_limit_check(host, NULL, 1, 1000, &rl));
    TRY(INVALID, host->rate_limit_check(host, over.rl_key, 1, 1000, &rl));
    TRY(INVALID, host->rate_limit_check(host, bad, 1, 1000, &rl));
    TRY(INVALID, host->rate_limit_check(host, "k", 1, 1000, NULL));
    pincer_rate_limit_result small_rl = {.struct_size = 4};
    TRY(INVALID, host->rate_limit_check(host, "k", 1, 1000, &small_rl));
    const uint32_t bad_max[] = {0, PINCER_RATE_LIMIT_MAX_REQUESTS + 1, UINT32_MAX};
    for (int i = 0; i < 3; i++) TRYL("rate_limit_check with max_requests 0 or past 65535", INVALID, host->rate_limit_check(host, "k", bad_max[i], 1000, &rl));
    const uint64_t bad_window[] = {0, PINCER_RATE_LIMIT_MAX_WINDOW_MS + 1, UINT64_MAX};
    for (int i = 0; i < 3; i++) TRYL("rate_limit_check with window_ms 0 or past 30 days", INVALID, host->rate_limit_check(host, "k", 5, bad_window[i], &rl));
    TRY(INVALID, host->rate_limit_reset(host, NULL));
    TRY(INVALID, host->rate_limit_reset(host, over.rl_key));
    /* The victim's key name, in this plugin's own namespace: touches only ours. */
    TRY(OK_, host->rate_limit_reset(host, "victim-window"));
    TRY(OK_, host->rate_limit_check(host, "victim-window", 1, 600000, &rl));

    /* Host state. */
    TRY(INVALID, host->status(host, NULL));
    TRY(INVALID, host->models(host, NULL));
    TRY_OUT(host, INVALID, out, host->gateway_request(host, NULL, NULL, &out));
    TRY_OUT(host, INVALID, out, host->gateway_request(host, over.method, NULL, &out));
    TRY_OUT(host, INVALID, out, host->gateway_request(host, bad, NULL, &out));
    TRY_OUT(host, INVALID, out, host->gateway_request(host, "status", over.message, &out));
    TRY_OUT(host, INVALID, out, host->gateway_request(host, "status", "{", &out));
    TRY_OUT(host, INVALID, out, host->gateway_request(host, "status", deep_json, &out));
    TRY_OUT(host, DENIED, out, host->gateway_request(host, "sessions.delete", "{\"sessionKey\":\"plugin:fx-victim:000000000000\"}", &out));
    TRY_OUT(host, DENIED, out, host->gateway_request(host, "sessions.list", NULL, &out));
    TRY_OUT(host, UNSUPPORTED, out, host->gateway_request(host, "no.such.method", NULL, &out));
    TRY(INVALID, host->gateway_request(host, "status", NULL, NULL));

    /* Registrations: every one of these is refused before it could take effect. */
    TRY(INVALID, host->register_tool(host, NULL, NULL));
    pincer_tool_definition tool;
    const char *bad_names[] = {"fx-victim.steal", "steal", FIXTURE_ID ".", FIXTURE_ID ".UPPER", FIXTURE_ID ".a.b",
                               FIXTURE_ID ".0digit", FIXTURE_ID ".this-name-is-far-longer-than-31-bytes", over.tool_name, bad, NULL};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        memset(&tool, 0, sizeof tool);
        tool.struct_size = sizeof tool;
        tool.name = bad_names[i];
        tool.description = "d";
        tool.invoke = tool_null;
        TRYL("register_tool with a name that is not '<own id>.<word>'", INVALID, host->register_tool(host, &tool, NULL));
    }
    memset(&tool, 0, sizeof tool);
    tool.struct_size = sizeof tool;
    tool.name = FIXTURE_ID ".refused";
    tool.invoke = tool_null;
    const char *descriptions[] = {NULL, over.description, bad};
    for (int i = 0; i < 3; i++) {
        tool.description = descriptions[i];
        TRY(INVALID, host->register_tool(host, &tool, NULL));
    }
    tool.description = "d";
    const char *schemas[] = {over.schema, "{", deep_json, bad};
    for (int i = 0; i < 4; i++) {
        tool.parameters_json = schemas[i];
        TRYL("register_tool with a schema over 64 KiB, unterminated, not JSON or too deep", INVALID, host->register_tool(host, &tool, NULL));
    }
    tool.parameters_json = NULL;
    const char *groups[] = {"Bad", "has space", over.group, bad};
    for (int i = 0; i < 4; i++) {
        tool.group = groups[i];
        TRY(INVALID, host->register_tool(host, &tool, NULL));
    }
    tool.group = NULL;
    tool.invoke = NULL;
    TRY(INVALID, host->register_tool(host, &tool, NULL));
    tool.invoke = tool_null;
    tool.name = attack_tools[0].name; /* already registered: at the tool bound LIMIT applies too, and host.h orders neither */
    TRYL("register_tool with a name already registered", INVALID | LIMIT, host->register_tool(host, &tool, NULL));
    tool.name = "fx-victim.ping"; /* the victim's own tool's name */
    TRYL("register_tool under the victim's tool name", INVALID, host->register_tool(host, &tool, NULL));
    static _Thread_local union {
        pincer_tool_definition tool;
        unsigned char bytes[PINCER_MAX_STRUCT_SIZE];
    } wide_tool;
    memset(&wide_tool, 0, sizeof wide_tool);
    wide_tool.tool = tool;
    wide_tool.tool.name = FIXTURE_ID ".refused";
    wide_tool.tool.struct_size = PINCER_MAX_STRUCT_SIZE;
    wide_tool.bytes[PINCER_MAX_STRUCT_SIZE - 8] = 7;
    TRY(UNSUPPORTED, host->register_tool(host, &wide_tool.tool, NULL));
    wide_tool.tool.struct_size = 0;
    TRY(INVALID, host->register_tool(host, &wide_tool.tool, NULL));

    TRY(INVALID, host->register_hook(host, NULL, NULL));
    pincer_hook_definition hook;
    const int32_t points[] = {-1, 5, INT32_MAX, INT32_MIN};
    for (int i = 0; i < 4; i++) {
        memset(&hook, 0, sizeof hook);
        hook.struct_size = sizeof hook;
        hook.point = points[i];
        hook.call = observe;
        TRYL("register_hook at a point that does not exist", INVALID, host->register_hook(host, &hook, NULL));
    }
    memset(&hook, 0, sizeof hook);
    hook.struct_size = sizeof hook;
    hook.point = PINCER_HOOK_RUN_EVENT;
    hook.call = NULL;
    TRY(INVALID, host->register_hook(host, &hook, NULL));
    hook.call = observe;
    hook.deadline_ms = PINCER_HOOK_MAX_DEADLINE_MS + 1;
    TRY(INVALID, host->register_hook(host, &hook, NULL));
    hook.deadline_ms = UINT32_MAX;
    TRY(INVALID, host->register_hook(host, &hook, NULL));
    hook.struct_size = 0;
    hook.deadline_ms = 0;
    TRY(INVALID, host->register_hook(host, &hook, NULL));
    static _Thread_local union {
        pincer_hook_definition hook;
        unsigned char bytes[PINCER_MAX_STRUCT_SIZE + 8];
    } wide_hook;
    memset(&wide_hook, 0, sizeof wide_hook);
    wide_hook.hook = hook;
    wide_hook.hook.struct_size = sizeof(pincer_hook_definition) + 8;
    wide_hook.bytes[sizeof(pincer_hook_definition) + 7] = 1;
    TRY(UNSUPPORTED, host->register_hook(host, &wide_hook.hook, NULL));
    wide_hook.hook.struct_size = UINT32_MAX;
    TRY(INVALID, host->register_hook(host, &wide_hook.hook, NULL));

    /* Unregister: ids that were never this plugin's (the victim's came first) and nonsense. */
    TRY(NOT_FOUND, host->unregister(host, 0));
    TRY(NOT_FOUND, host->unregister(host, UINT64_MAX));
    for (int i = 0; i < 16; i++) {
        pincer_registration id = first_own_id > 1 ? 1 + (pincer_registration)rand() % (first_own_id - 1) : 0;
        TRYL("unregister an id below this plugin's first registration (the victim's, or none)", NOT_FOUND, host->unregister(host, id));
        TRYL("unregister a random 64-bit id", NOT_FOUND, host->unregister(host, ((pincer_registration)rand() << 33) | (1ull << 62)));
    }

    TRY(INVALID, host->run_stop_requested(host, NULL, &flag));
    TRY(INVALID, host->run_stop_requested(host, over.run_id, &flag));
    TRY(INVALID, host->run_stop_requested(host, own_run, NULL));
    TRYL("run_stop_requested on another plugin's run (guessed id)", NOT_FOUND, host->run_stop_requested(host, guessed_run, &flag));
    TRY(ENDED, host->run_stop_requested(host, own_run, &flag));

    /* Result structs that end at a guard page: the host writes min(struct_size, its own). */
    static _Thread_local pincer_rate_limit_result *edge_rl;
    static _Thread_local pincer_run_info *edge_info;
    if (!edge_rl) edge_rl = page_end(sizeof *edge_rl);
    if (!edge_info) edge_info = page_end(sizeof *edge_info);
    if (edge_rl) {
        edge_rl->struct_size = sizeof *edge_rl;
        TRY(OK_, host->rate_limit_check(host, "edge", 1000, 1000, edge_rl));
    }
    if (edge_info) {
        edge_info->struct_size = sizeof *edge_info;
        if (TRY(ENDED, host->wait(host, own_run, 0, edge_info)) == PINCER_OK) {
            host->free(host, edge_info->final_text);
            host->free(host, edge_info->error);
        }
    }
}

/* Wrapped pattern counts, once: a host that read them as "no policy" would go on to the
 * gates, so this runs while the stuck gate holds them (no session comes of it). */
static void attack_counts(void) {
    const char *one[] = {"echo"};
    const size_t wrapped[] = {SIZE_MAX, (size_t)1 << 63};
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_spawn_request r;
    for (int i = 0; i < 2; i++) {
        small_request(&r, "x");
        r.tools_allow = one;
        r.tools_allow_count = wrapped[i];
        TRYL("spawn with tools_allow_count SIZE_MAX or 1<<63 (sessions.h: refused, never read as no policy)", INVALID,
             host->spawn(host, &r, &spawned));
        small_request(&r, "x");
        r.tools_deny = one;
        r.tools_deny_count = wrapped[i];
        TRYL("spawn with tools_deny_count SIZE_MAX or 1<<63 (sessions.h: refused, never read as no policy)", INVALID,
             host->spawn(host, &r, &spawned));
    }
}

/* ---- The storm ------------------------------------------------------------------------------ */

typedef struct worker {
    int index;
    pincer_registration tools[8], hooks[8];
    int tool_count, hook_count;
} worker;

/* Fills one key of max_requests 65535 to the brim: exactly 65535 allowed, then refused. */
static void fill_key(int thread, int n) {
    char key[64];
    snprintf(key, sizeof key, "full-%d-%d", thread, n);
    pincer_rate_limit_result rl = {.struct_size = sizeof(pincer_rate_limit_result)};
    long allowed = 0;
    for (uint32_t i = 0; i <= PINCER_RATE_LIMIT_MAX_REQUESTS; i++) {
        if (host->rate_limit_check(host, key, PINCER_RATE_LIMIT_MAX_REQUESTS, 600000, &rl) != PINCER_OK) {
            TRYL("rate_limit_check while filling a key", OK_, host->rate_limit_check(host, key, PINCER_RATE_LIMIT_MAX_REQUESTS, 600000, &rl));
            return;
        }
        allowed += rl.allowed;
    }
    atomic_fetch_add(&code_counts[PINCER_OK], PINCER_RATE_LIMIT_MAX_REQUESTS + 1);
    atomic_fetch_add(&rl_keys_filled, 1);
    /* rate_limit.h: never more than max_requests; early refusal is allowed but not expected here,
     * where every request falls in the window's first bucket. */
    if (allowed > PINCER_RATE_LIMIT_MAX_REQUESTS) FAIL("a full key allowed more than max_requests", "%ld of 65535", allowed);
    if (allowed == PINCER_RATE_LIMIT_MAX_REQUESTS) atomic_fetch_add(&rl_keys_exact, 1);
}

static void churn_registrations(worker *w, int round) {
    char name[PINCER_TOOL_NAME_MAX_BYTES];
    snprintf(name, sizeof name, FIXTURE_ID ".c%dn%d", w->index, round);
    pincer_registration id = 0;
    pincer_result code = TRYL("register_tool (64 KiB schema) in the storm", OK_ | LIMIT, register_tool_named(name, big_schema, tool_null, &id));
    if (code == PINCER_ERR_LIMIT) atomic_fetch_add(&tool_limit_hits, 1);
    if (code == PINCER_OK) {
        atomic_fetch_add(&tools_held, 1);
        if (w->tool_count == 8) {
            int victim = rand() % 8;
            if (TRYL("unregister an own tool in the storm", OK_, host->unregister(host, w->tools[victim])) == PINCER_OK)
                atomic_fetch_sub(&tools_held, 1);
            w->tools[victim] = id;
        } else {
            w->tools[w->tool_count++] = id;
        }
    }
    code = TRYL("register_hook (observer) in the storm", OK_ | LIMIT,
                register_hook_at(PINCER_HOOK_SESSION_CREATED + 2 * (round % 2), round, 0, observe, &id));
    if (code == PINCER_ERR_LIMIT) atomic_fetch_add(&hook_limit_hits, 1);
    if (code == PINCER_OK) {
        if (w->hook_count == 8) {
            int victim = rand() % 8;
            TRYL("unregister an own hook in the storm", OK_, host->unregister(host, w->hooks[victim]));
            w->hooks[victim] = id;
        } else {
            w->hooks[w->hook_count++] = id;
        }
    }
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double storm_deadline;

static void *storm_worker(void *arg) {
    worker *w = arg;
    srand((unsigned)w->index * 7919u + 1);
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_run_ref ref = {.struct_size = sizeof(pincer_run_ref)};
    pincer_steer_outcome outcome;
    char *out;
    for (int round = 0; round < rounds && now_seconds() < storm_deadline; round++) {
        /* Staggered, so about one thread fills at a time: eight at once contend on the plugin's
         * one limiter lock and run 30x slower (not a fault, but it would eat the test's minute). */
        if (round % THREADS == w->index && round / THREADS < keys_per_thread) fill_key(w->index, round / THREADS);
        attack_inputs();
        for (int i = 0; i < FORGED; i++) sweep_handle(forged[i], BAD_HANDLE);

        /* A 1 MiB spawn: the stuck gate holds it to its deadline, then it is refused. */
        pincer_spawn_request request;
        small_request(&request, big_message);
        request.metadata_json = "{\"fx-victim\":{\"planted\":true}}";
        pincer_result code = TRYL("spawn (1 MiB) against a stuck gate", DENIED | LIMIT, host->spawn(host, &request, &spawned));
        if (code == PINCER_ERR_DENIED) atomic_fetch_add(&spawn_denied, 1);
        if (code == PINCER_ERR_LIMIT) atomic_fetch_add(&spawn_limit, 1);

        /* A 1 MiB prompt into a busy session: queued until the queue bounds say no. */
        code = TRYL("prompt (1 MiB) into a busy own session", OK_ | LIMIT, host->prompt(host, PROMPT(busy_keys[w->index % BUSY], big_message), &ref));
        if (code == PINCER_OK) atomic_fetch_add(&prompt_ok, 1);
        if (code == PINCER_ERR_LIMIT) atomic_fetch_add(&prompt_limit, 1);

        outcome = -1;
        if (TRYL("steer (64 KiB) a busy own session", OK_, host->steer(host, busy_keys[(w->index + round) % BUSY], medium_text, &outcome)) == PINCER_OK) {
            if (outcome == PINCER_STEER_QUEUED) atomic_fetch_add(&steer_queued, 1);
            else if (outcome == PINCER_STEER_BUSY) atomic_fetch_add(&steer_busy, 1);
        }

        churn_registrations(w, round);
        TRY_OUT(host, OK_, out, host->status(host, &out));
        TRY_OUT(host, OK_, out, host->gateway_request(host, "models.list", "{}", &out));
    }
    return NULL;
}

/* Spawns from many threads at once, so more gate calls wait than the lane may hold: each
 * is refused at once, because the lane is full or because the stuck gate is already overdue
 * (hooks.h: the plugin's gates then block at once), never held past the lane's bound. */
static pthread_barrier_t burst_start;

static void *burst_spawn(void *arg) {
    (void)arg;
    pincer_spawn_request request;
    small_request(&request, "one of a burst");
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    pthread_barrier_wait(&burst_start);
    if (TRYL("spawn in a burst against a stuck gate", DENIED | LIMIT, host->spawn(host, &request, &spawned)) == PINCER_ERR_DENIED &&
        (strstr(host->last_error(host), "gate lane already holds") != NULL ||
         strstr(host->last_error(host), "the plugin's gates block at once") != NULL))
        atomic_fetch_add(&lane_refused, 1);
    return NULL;
}

static pthread_t start_thread(void *(*body)(void *), void *arg, size_t stack) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    if (stack) pthread_attr_setstacksize(&attributes, stack);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, body, arg) != 0) thread = 0;
    pthread_attr_destroy(&attributes);
    return thread;
}

static int spawn_own(const char *message, char *key, char *run) {
    pincer_spawn_request request;
    small_request(&request, message);
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    if (TRYL("spawn an own session before the storm", OK_, host->spawn(host, &request, &spawned)) != PINCER_OK) return 0;
    snprintf(key, PINCER_SESSION_KEY_CAPACITY, "%s", spawned.session_key);
    if (run) snprintf(run, PINCER_RUN_ID_CAPACITY, "%s", spawned.run_id);
    return 1;
}

/* Waits for an own run; its final text (host memory) or NULL. */
static char *finish(const char *run, pincer_run_status *status) {
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    *status = -1;
    if (TRYL("wait for an own run", OK_, host->wait(host, run, 20000, &info)) != PINCER_OK) return NULL;
    *status = info.status;
    host->free(host, info.error);
    return info.final_text;
}

/* ---- Calls during and after shutdown -------------------------------------------------------- */

static pthread_t lingerers[LINGERERS];
static atomic_int linger_stop, linger_gate_entered, linger_gate_saw_stopping;

/* before_session_create, during the linger: stays in the plugin until half a second after
 * its blocking calls start answering SHUT_DOWN, so the host has a callback to drain and the
 * lingering threads get a stopping phase to call into. */
static pincer_result gate_linger(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)event;
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    atomic_store(&linger_gate_entered, 1);
    double until = now_seconds() + 60;
    while (now_seconds() < until) {
        pincer_result code = TRYL("gate: wait() while its plugin stops", ENDED | SHUT_DOWN, host->wait(host, own_run, 5, &info));
        if (code == PINCER_OK) {
            host->free(host, info.final_text);
            host->free(host, info.error);
        }
        if (code == PINCER_ERR_SHUT_DOWN && !atomic_exchange(&linger_gate_saw_stopping, 1)) until = now_seconds() + 0.5;
        fixture_sleep_ms(5);
    }
    set_decision(decision, PINCER_HOOK_BLOCK, NULL, NULL);
    return PINCER_OK;
}
static atomic_long calls_while_stopping, calls_after_dead, linger_registered, linger_released, linger_unregistered, linger_names;

/* Registrations made while the plugin stops must each be released exactly once (tools.h):
 * by unregister, or by the host withdrawing them before shutdown() (host.h). */
static void linger_release(void *context) {
    (void)context;
    atomic_fetch_add(&linger_released, 1);
}

/* Calls the table while the host stops the plugin: answers stay codes (blocking calls
 * SHUT_DOWN once stopping, every call once dead). Ends 200 rounds after it sees death. */
static void *linger(void *arg) {
    (void)arg;
    pincer_spawn_request request;
    small_request(&request, "during shutdown");
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    pincer_rate_limit_result rl = {.struct_size = sizeof(pincer_rate_limit_result)};
    bool flag;
    char *out;
    int after = 0;
    double give_up = now_seconds() + 120;
    while (!atomic_load(&linger_stop) && after < 200 && now_seconds() < give_up) {
        pincer_result blocking = TRYL("wait during shutdown", ENDED | SHUT_DOWN, host->wait(host, own_run, 5, &info));
        if (blocking == PINCER_OK) {
            host->free(host, info.final_text);
            host->free(host, info.error);
        }
        /* First, so some registrations come while the plugin is still live: the blocked spawn below
         * may last until the host has begun stopping it. */
        pincer_registration id = 0;
        char name[PINCER_TOOL_NAME_MAX_BYTES];
        snprintf(name, sizeof name, FIXTURE_ID ".linger%ld", atomic_fetch_add(&linger_names, 1));
        pincer_tool_definition tool;
        memset(&tool, 0, sizeof tool);
        tool.struct_size = sizeof tool;
        tool.name = name;
        tool.description = "registered while the plugin stops";
        tool.invoke = tool_null;
        tool.release = linger_release;
        if (TRYL("register_tool during shutdown", OK_ | LIMIT | SHUT_DOWN, host->register_tool(host, &tool, &id)) == PINCER_OK) {
            atomic_fetch_add(&linger_registered, 1);
            if (TRYL("unregister during shutdown", OK_ | NOT_FOUND | SHUT_DOWN, host->unregister(host, id)) == PINCER_OK)
                atomic_fetch_add(&linger_unregistered, 1);
        }
        /* The lingering gate holds the first; the rest wait out its 200 ms deadline (or the lane's close). */
        TRYL("spawn during shutdown", DENIED | LIMIT | SHUT_DOWN, host->spawn(host, &request, &spawned));
        pincer_result plain = TRYL("log during shutdown", OK_ | SHUT_DOWN, host->log(host, PINCER_LOG_DEBUG, "still here"));
        TRYL("rate_limit_check during shutdown", OK_ | SHUT_DOWN, host->rate_limit_check(host, "linger", 1000, 1000, &rl));
        TRYL("is_streaming during shutdown", OK_ | SHUT_DOWN, host->is_streaming(host, own_key, &flag));
        TRY_OUT(host, OK_ | SHUT_DOWN, out, host->get_session(host, own_key, &out));
        TRY_OUT(host, OK_ | SHUT_DOWN, out, host->status(host, &out));
        if (plain == PINCER_ERR_SHUT_DOWN) {
            after++;
            atomic_fetch_add(&calls_after_dead, 8);
        } else if (blocking == PINCER_ERR_SHUT_DOWN) {
            atomic_fetch_add(&calls_while_stopping, 8);
        }
        fixture_sleep_ms(1);
    }
    return NULL;
}

/* ---- Reports -------------------------------------------------------------------------------- */

typedef struct writer {
    char *at;
    size_t left;
} writer;

static void put(writer *w, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(w->at, w->left, format, args);
    va_end(args);
    size_t used = n < 0 ? 0 : (size_t)n < w->left ? (size_t)n : w->left - 1;
    w->at += used;
    w->left -= used;
}

static void put_string(writer *w, const char *s) {
    put(w, "\"");
    for (; s && *s && w->left > 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') put(w, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f) put(w, "\\u%04x", c); /* keeps the report ASCII, whatever the host said */
        else put(w, "%c", c);
    }
    put(w, "\"");
}

static void put_codes(writer *w) {
    put(w, "\"codes\":[");
    long total = 0;
    for (int i = 0; i <= CODES; i++) {
        long n = atomic_load(&code_counts[i]);
        total += n;
        put(w, "%s%ld", i ? "," : "", n);
    }
    put(w, "],\"calls\":%ld,\"unexpected\":%ld,\"misses\":[", total, atomic_load(&unexpected));
    pthread_mutex_lock(&miss_lock);
    for (int i = 0; i < miss_count; i++) {
        put(w, "%s{\"call\":", i ? "," : "");
        put_string(w, misses[i].what);
        put(w, ",\"code\":%d,\"count\":%ld,\"message\":", misses[i].code, misses[i].count);
        put_string(w, misses[i].message);
        put(w, "}");
    }
    pthread_mutex_unlock(&miss_lock);
    put(w, "]");
}

static void reset_counts(void) {
    for (int i = 0; i <= CODES; i++) atomic_store(&code_counts[i], 0);
    atomic_store(&unexpected, 0);
    pthread_mutex_lock(&miss_lock);
    memset(misses, 0, sizeof misses);
    miss_count = 0;
    pthread_mutex_unlock(&miss_lock);
}

/* ---- The cases ------------------------------------------------------------------------------ */

static const char *const tool_markers[] = {
    "no NUL within the 4096 bytes",  /* unterminated */
    "is not valid UTF-8",            /* badutf8 */
    "is not memory from host->alloc", /* notmine */
    "longer than 16777216 bytes",    /* huge */
    "waitself ok",                   /* waitself */
    "unknown result code 999",       /* badcode */
    "no NUL within the 64 bytes",    /* gateblock's reason */
    "patch is not valid JSON",       /* gatepatch */
};

static int storm(int percent, char *report, size_t capacity) {
    double started = now_seconds();
    rounds = 40 * percent / 100 > 0 ? 40 * percent / 100 : 1;
    keys_per_thread = 2 * percent / 100 > 0 ? 2 * percent / 100 : 1;
    if (!prepare_memory()) {
        snprintf(report, capacity, "cannot map the attack buffers");
        return 1;
    }
    reset_counts();
    hunt found = hunt_neighbour();
    forge_handles(found.near);

    /* Single-threaded first: a damaged table is refused, and works again once repaired. */
    pincer_host *writable = (pincer_host *)host;
    void *token = writable->host_data;
    writable->host_data = (void *)((uintptr_t)token ^ 1);
    char *out;
    TRY_OUT(host, BAD_HANDLE, out, host->status(host, &out));
    writable->host_data = token;
    TRY_OUT(host, OK_, out, host->status(host, &out));

    /* The attack tools, a before_tool_call gate, and sessions that call them. */
    for (int i = 0; i < ATTACK_TOOLS; i++) {
        TRYL("register an attack tool", OK_, register_tool_named(attack_tools[i].name, NULL, attack_tools[i].invoke, &attack_tool_ids[i]));
        if (i == 0) first_own_id = attack_tool_ids[0];
    }
    pincer_registration tool_gate_id = 0, recurse_id = 0;
    TRYL("register the before_tool_call gate", OK_, register_hook_at(PINCER_HOOK_BEFORE_TOOL_CALL, 0, 2000, gate_tool, &tool_gate_id));
    char delete_key[PINCER_SESSION_KEY_CAPACITY], delete_run[PINCER_RUN_ID_CAPACITY];
    int tools_ran = spawn_own("@" FIXTURE_ID ".unterminated @" FIXTURE_ID ".badutf8 @" FIXTURE_ID ".notmine @" FIXTURE_ID ".huge @" FIXTURE_ID
                              ".nullout @" FIXTURE_ID ".badcode @" FIXTURE_ID ".waitself @" FIXTURE_ID ".gateblock @" FIXTURE_ID ".gatepatch",
                              own_key, own_run);
    int deleted = spawn_own("@" FIXTURE_ID ".selfdelete", delete_key, delete_run);
    pincer_run_status status, delete_status = -1;
    if (tools_ran) {
        char *text = finish(own_run, &status);
        if (status != PINCER_RUN_COMPLETED) FAIL("the attack tools' run", "ended with status %d", status);
        for (size_t i = 0; text && i < sizeof tool_markers / sizeof tool_markers[0]; i++)
            if (!strstr(text, tool_markers[i])) FAIL("an attack tool's result, as the model saw it", "no '%s' in: %.150s", tool_markers[i], text);
        host->free(host, text);
    }
    if (deleted) host->free(host, finish(delete_run, &delete_status));
    if (deleted && delete_status != PINCER_RUN_CANCELLED) FAIL("a tool deleting its own session", "its run ended with status %d, not CANCELLED", delete_status);
    TRY(OK_, host->unregister(host, tool_gate_id));

    /* Recursion through a gate, until the nesting bound refuses it. */
    TRYL("register the recursive gate", OK_, register_hook_at(PINCER_HOOK_BEFORE_SESSION_CREATE, 1000, 5000, gate_recurse, &recurse_id));
    atomic_store(&recursion_armed, 1);
    pincer_spawn_request request;
    small_request(&request, "start the recursion");
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    TRYL("spawn that starts the recursion", DENIED, host->spawn(host, &request, &spawned));
    atomic_store(&recursion_armed, 0);
    TRY(OK_, host->unregister(host, recurse_id));

    /* Sessions kept busy (two minutes of sleeping, longer than any storm) for prompts and steers to pile onto. */
    static char busy_message[512];
    for (int i = 0; i < 12; i++) strcat(busy_message, "@sleep{\"ms\":10000} ");
    for (int i = 0; i < BUSY; i++) spawn_own(busy_message, busy_keys[i], NULL);
    for (int i = 0; i < 200; i++) { /* steering needs them streaming */
        bool streaming = false;
        host->is_streaming(host, busy_keys[BUSY - 1], &streaming);
        if (streaming) break;
        fixture_sleep_ms(5);
    }
    /* Most of the tool bound taken before the storm, so the threads meet PINCER_ERR_LIMIT. */
    static pincer_registration filled[PINCER_MAX_TOOLS_PER_PLUGIN];
    int filled_count = 0;
    for (int i = 0; i < (int)PINCER_MAX_TOOLS_PER_PLUGIN - ATTACK_TOOLS - 16; i++) {
        char name[PINCER_TOOL_NAME_MAX_BYTES];
        snprintf(name, sizeof name, FIXTURE_ID ".fill%d", i);
        if (TRYL("register_tool (64 KiB schema) up to the bound", OK_, register_tool_named(name, big_schema, tool_null, &filled[filled_count])) == PINCER_OK)
            filled_count++;
    }
    atomic_store(&tools_held, ATTACK_TOOLS + filled_count);

    /* The storm: a stuck gate, 8 threads, and a burst wider than the gate lane. */
    TRYL("register the stuck gate", OK_, register_hook_at(PINCER_HOOK_BEFORE_SESSION_CREATE, 0, 100, gate_stuck, &stuck_id));
    /* Rounds end the storm (about 7 s alone on 2 cores); time only caps it, well past what a loaded
     * machine needs, as the caller's bounds count rounds (scaled-down runs are the valgrind ones). */
    storm_deadline = now_seconds() + (percent >= 100 ? 60.0 : 120.0);
    static worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof workers[t]);
        workers[t].index = t;
        threads[t] = start_thread(storm_worker, &workers[t], 0);
    }
    attack_counts();
    pthread_barrier_init(&burst_start, NULL, BURST);
    pthread_t burst[BURST];
    for (int i = 0; i < BURST; i++) burst[i] = start_thread(burst_spawn, NULL, 256u << 10);
    for (int i = 0; i < BURST; i++)
        if (burst[i]) pthread_join(burst[i], NULL);
    pthread_barrier_destroy(&burst_start);
    for (int t = 0; t < THREADS; t++)
        if (threads[t]) pthread_join(threads[t], NULL);
    atomic_store(&storm_over, 1);
    for (int i = 0; i < 400 && atomic_load(&stuck_inside); i++) fixture_sleep_ms(5);
    TRYL("unregister the stuck gate", OK_, host->unregister(host, stuck_id));

    /* After the storm: the tool bound is exact, and every withdrawn registration is released. */
    long before_fill = atomic_load(&tools_held);
    long more = 0;
    for (int i = 0; i < (int)PINCER_MAX_TOOLS_PER_PLUGIN + 8; i++) {
        char name[PINCER_TOOL_NAME_MAX_BYTES];
        snprintf(name, sizeof name, FIXTURE_ID ".top%d", i);
        pincer_registration id;
        pincer_result code = TRYL("register_tool (64 KiB schema) past the bound", OK_ | LIMIT, register_tool_named(name, big_schema, tool_null, &id));
        if (code == PINCER_ERR_LIMIT) break;
        if (code == PINCER_OK && filled_count < (int)PINCER_MAX_TOOLS_PER_PLUGIN) filled[filled_count++] = id;
        more++;
    }
    if (before_fill + more != PINCER_MAX_TOOLS_PER_PLUGIN)
        FAIL("the tool bound", "%ld held + %ld more before PINCER_ERR_LIMIT, not %u", before_fill, more, PINCER_MAX_TOOLS_PER_PLUGIN);
    for (int i = 0; i < filled_count; i++) TRYL("unregister a filling tool", OK_, host->unregister(host, filled[i]));
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < workers[t].tool_count; i++) TRYL("unregister a storm tool", OK_, host->unregister(host, workers[t].tools[i]));
        for (int i = 0; i < workers[t].hook_count; i++) TRYL("unregister a storm hook", OK_, host->unregister(host, workers[t].hooks[i]));
    }
    for (int i = 0; i < BUSY; i++) TRYL("delete a busy session", OK_, host->delete_session(host, busy_keys[i]));

    /* What the near scan found, it uses: the test then sees the victim's window change. */
    const char *used = "nothing found";
    if (found.near) {
        found.near->rate_limit_reset(found.near, "victim-window");
        used = "reset the victim's window through it";
    }

    writer w = {report, capacity};
    put(&w, "{\"case\":\"storm\",\"percent\":%d,\"threads\":%d,\"rounds\":%d,\"seconds\":%.1f,", percent, THREADS, rounds, now_seconds() - started);
    put_codes(&w);
    put(&w, ",\"recursion\":{\"code\":%d,\"depth\":%d,\"message\":", recursion_code, recursion_max_depth);
    put_string(&w, recursion_message);
    put(&w, "},\"gateWaitCode\":%d,\"toolGateWaitCode\":%d,\"selfDeleteStatus\":%d,", gate_wait_code, tool_gate_wait_code, delete_status);
    put(&w, "\"neighbour\":{\"nearFound\":%s,\"nearPagesScanned\":%d,\"used\":\"%s\",\"tablesAnywhere\":%d},", found.near ? "true" : "false",
        found.near_pages, used, found.anywhere);
    put(&w, "\"spawns\":{\"denied\":%ld,\"limit\":%ld,\"laneRefused\":%ld,\"burst\":%d},", atomic_load(&spawn_denied), atomic_load(&spawn_limit),
        atomic_load(&lane_refused), BURST);
    put(&w, "\"prompts\":{\"ok\":%ld,\"limit\":%ld},\"steers\":{\"queued\":%ld,\"busy\":%ld},", atomic_load(&prompt_ok), atomic_load(&prompt_limit),
        atomic_load(&steer_queued), atomic_load(&steer_busy));
    put(&w, "\"tools\":{\"toolLimitHits\":%ld,\"hookLimitHits\":%ld,\"heldBeforeTopUp\":%ld,\"toppedUp\":%ld,\"released\":%ld},",
        atomic_load(&tool_limit_hits), atomic_load(&hook_limit_hits), before_fill, more, atomic_load(&released));
    put(&w, "\"rateLimit\":{\"keysFilled\":%ld,\"keysExact\":%ld,\"maxRequests\":%u}}", atomic_load(&rl_keys_filled), atomic_load(&rl_keys_exact),
        PINCER_RATE_LIMIT_MAX_REQUESTS);

    /* Then threads that keep calling while the host stops the plugin ("after_shutdown" joins them
     * and reports their calls with its own). */
    reset_counts();
    pincer_registration linger_gate = 0;
    TRYL("register the lingering gate", OK_, register_hook_at(PINCER_HOOK_BEFORE_SESSION_CREATE, 0, 200, gate_linger, &linger_gate));
    for (int i = 0; i < LINGERERS; i++) lingerers[i] = start_thread(linger, NULL, 0);
    /* The host must find the gate running when it stops the plugin: return only once it is. */
    for (int i = 0; i < 1000 && !atomic_load(&linger_gate_entered); i++) fixture_sleep_ms(2);
    return 0;
}

static int after_shutdown(char *report, size_t capacity) {
    for (int i = 0; i < LINGERERS; i++)
        if (lingerers[i]) pthread_join(lingerers[i], NULL);
    long lingering = atomic_load(&linger_registered), unregistered = atomic_load(&linger_unregistered);
    /* The dead handle: every call answers SHUT_DOWN; forged ones still BAD_HANDLE. */
    sweep_handle(host, SHUT_DOWN);
    for (int i = 0; i < FORGED; i++) sweep_handle(forged[i], BAD_HANDLE);
    writer w = {report, capacity};
    put(&w, "{\"case\":\"after_shutdown\",");
    put_codes(&w);
    put(&w, ",\"callsWhileStopping\":%ld,\"callsAfterDead\":%ld,", atomic_load(&calls_while_stopping), atomic_load(&calls_after_dead));
    put(&w, "\"lingerGateSawStopping\":%s,", atomic_load(&linger_gate_saw_stopping) ? "true" : "false");
    put(&w, "\"lingerRegistered\":%ld,\"lingerUnregistered\":%ld,\"lingerReleased\":%ld}", lingering, unregistered,
        atomic_load(&linger_released));
    return 0;
}

static int run_case(const char *name, char *report, size_t capacity) {
    if (strncmp(name, "storm", 5) == 0) {
        int percent = name[5] == ':' ? atoi(name + 6) : 100;
        return storm(percent > 0 ? percent : 100, report, capacity);
    }
    if (strcmp(name, "after_shutdown") == 0) return after_shutdown(report, capacity);
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
