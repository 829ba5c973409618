/*
 * floors: what three of pincer-bench's measured paths cost when their core
 * steps are written in plain C, without the host's language around them.
 * pincer-bench compiles and runs this in the same run and prints each floor
 * beside the figure it bounds. A floor leaves out work the host must also do
 * (noted below), so it sits under the cheapest the real path could be: the
 * distance to it is at most what Swift and the host's structure add, and a
 * goal below a floor cannot be met on this machine by rewriting those steps.
 *
 *   floors is_streaming   ns per call: check the handle against an index of
 *                         tables, check phase and capability, strnlen the key as
 *                         far as the length of the entry the plugin's last lookup
 *                         found and compare it with that entry under a sequence
 *                         counter, check the owner, write out; on a wrong guess
 *                         strnlen the key, hash its tail and probe a lock-free
 *                         table; and a plain function-pointer call, timed alike
 *   floors rate_limit     ns per check, 10,000 keys, 30 allowed each then refused:
 *                         CLOCK_MONOTONIC per call, a mutex, an open-addressed
 *                         table of malloc'd entries (key, ring of timestamps);
 *                         and the clock read alone. Left out: the handle check,
 *                         argument and UTF-8 checks, the result struct, ring
 *                         growth, eviction
 *   floors store DIR [N]  CPU microseconds per run to write the rows one one-turn
 *                         run leaves (a session, two messages, a run, two events)
 *                         into the store's schema with prepared statements of
 *                         32, 8 and 1 rows, table by table, as the writer does,
 *                         time-ordered keys, WAL, N runs a transaction (1 to
 *                         1024; 128 when not given, about what the writer commits
 *                         when pincer-bench replays 200 runs' writes at once;
 *                         pincer-bench also passes the runs a commit its engine
 *                         averaged). Left out: serialising the JSON columns
 *                         (literals here), gathering the rows, and reading where
 *                         new runs go (positions are counted here)
 *
 * Each prints "name value" lines on stdout. With --quick first (pincer-bench
 * --quick passes it), the loops run 1/100 of their iterations.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 100 with --quick: the loops' iterations are divided by it. */
static unsigned scale = 1;

static uint64_t ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t fold(uint64_t a, uint64_t b) {
    __uint128_t p = (__uint128_t)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
}

/* ---- is_streaming ---------------------------------------------------------------------- */

typedef struct entry entry;
typedef struct { _Atomic uint8_t phase; uint32_t capabilities, caller; struct state_index *index; entry *_Atomic guess; } context;
typedef struct { uintptr_t address, token; context *context; } index_slot;
typedef struct { void *host_data; } table;
/* [key length | streaming << 8 | owner << 32]; words: [a hash word, unread here][16 key words, zero padded], as the host's */
struct entry { _Atomic uint64_t state; _Atomic uint64_t words[17]; };
struct state_index { _Atomic uint64_t sequence; _Atomic(_Atomic uint64_t *) slots; uint64_t mask, seed; };

#define INDEX_SLOTS 8192
static index_slot tables[INDEX_SLOTS];

static uint32_t table_slot(uintptr_t address) { return (uint32_t)(((address >> 12) * 0x9E3779B97F4A7C15ull) >> 51) & (INDEX_SLOTS - 1); }
static uint64_t key_hash(const char *key, size_t n, uint64_t seed) {
    uint64_t tail;
    memcpy(&tail, key + n - 8, 8);
    return fold(tail ^ seed, n ^ 0x9E3779B97F4A7C15ull ^ (seed >> 7));
}

/* Whether entry e holds the n-byte key (n >= 8): its whole words, then its last ones, as the host's Probe compares. */
static bool key_matches(entry *e, const char *key, size_t n) {
    uint64_t w;
    size_t k = 0;
    for (; k < n / 8; k++)
        if (memcpy(&w, key + 8 * k, 8), atomic_load_explicit(&e->words[1 + k], memory_order_relaxed) != w) return false;
    uint64_t last = 0;
    if (n % 8) memcpy(&last, key + n - 8, 8), last >>= 8 * (8 - n % 8);
    return atomic_load_explicit(&e->words[1 + k], memory_order_relaxed) == last;
}

static int probe_is_streaming(context *c, const char *key, bool *out);

__attribute__((noinline)) static int floor_is_streaming(const table *host, const char *key, bool *out) {
    uintptr_t address = (uintptr_t)host;
    if (!address || (address & 4095) || !key || !out) return -1;
    uint32_t i = table_slot(address);
    while (tables[i].address != address) {
        if (!tables[i].address) return -2;
        i = (i + 1) & (INDEX_SLOTS - 1);
    }
    if ((uintptr_t)host->host_data != tables[i].token) return -3;
    context *c = tables[i].context;
    if (atomic_load_explicit(&c->phase, memory_order_acquire) == 3 || !(c->capabilities & 1)) return -4;
    struct state_index *x = c->index;
    entry *guess = atomic_load_explicit(&c->guess, memory_order_relaxed);
    if (guess) {
        uint64_t before = atomic_load_explicit(&x->sequence, memory_order_acquire);
        uint64_t word = atomic_load_explicit(&guess->state, memory_order_relaxed);
        size_t n = word & 255;
        /* The key measured only as far as the guess's length, then compared with it. */
        if (!(before & 1) && n >= 8 && strnlen(key, n + 1) == n && key_matches(guess, key, n)) {
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&x->sequence, memory_order_relaxed) == before) {
                if ((uint32_t)(word >> 32) != c->caller) return -7;
                *out = (word >> 8) & 1;
                return 0;
            }
        }
    }
    return probe_is_streaming(c, key, out);
}

/* floor_is_streaming past a wrong guess, out of line as the host has it. */
__attribute__((noinline)) static int probe_is_streaming(context *c, const char *key, bool *out) {
    struct state_index *x = c->index;
    size_t n = strnlen(key, 128);
    if (n > 127 || n < 8) return -5;
    uint64_t hash = key_hash(key, n, x->seed);
    for (int attempt = 0; attempt < 4; attempt++) {
        uint64_t before = atomic_load_explicit(&x->sequence, memory_order_acquire);
        if (before & 1) continue;
        _Atomic uint64_t *slots = atomic_load_explicit(&x->slots, memory_order_acquire);
        uint64_t state = 0, j = hash & x->mask;
        entry *found = NULL;
        for (uint64_t probes = 0; probes <= x->mask; probes++, j = (j + 1) & x->mask) {
            uint64_t value = atomic_load_explicit(&slots[j], memory_order_relaxed);
            if (!value) break;
            if ((value >> 48) != (hash >> 48)) continue;
            entry *e = (entry *)(uintptr_t)(value & ((1ull << 48) - 1));
            uint64_t word = atomic_load_explicit(&e->state, memory_order_relaxed);
            if ((word & 255) == n && key_matches(e, key, n)) { state = word, found = e; break; }
        }
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&x->sequence, memory_order_relaxed) != before) continue;
        if (!state) return -6;
        atomic_store_explicit(&c->guess, found, memory_order_relaxed);
        if ((uint32_t)(state >> 32) != c->caller) return -7;
        *out = (state >> 8) & 1;
        return 0;
    }
    return -8;
}

__attribute__((noinline)) static int plain_call(const table *host, const char *key, bool *out) {
    (void)host;
    *out = key != NULL;
    return 0;
}

typedef int (*is_streaming_fn)(const table *, const char *, bool *);
static is_streaming_fn volatile functions[2] = {plain_call, floor_is_streaming};

static double time_calls(int which, const table *host, const char *key, uint64_t iterations) {
    bool out = false;
    uint64_t failures = 0, start = ns(CLOCK_MONOTONIC);
    is_streaming_fn fn = functions[which];
    for (uint64_t i = 0; i < iterations; i++) failures += fn(host, key, &out) != 0;
    double per = (double)(ns(CLOCK_MONOTONIC) - start) / (double)iterations;
    return failures ? -1 : per;
}

static int run_is_streaming(void) {
    table *host = aligned_alloc(4096, 4096);
    if (!host) return fputs("floors: out of memory\n", stderr), 1;
    host->host_data = (void *)0x5eed;
    context *c = calloc(1, sizeof *c);
    c->capabilities = 1;
    c->caller = 7;
    tables[table_slot((uintptr_t)host)] = (index_slot){(uintptr_t)host, 0x5eed, c};
    struct state_index *x = calloc(1, sizeof *x);
    x->mask = 63;
    x->seed = 0x243F6A8885A308D3ull;
    _Atomic uint64_t *slots = calloc(64, sizeof *slots);
    x->slots = slots;
    c->index = x;
    const char *key = "plugin:bench:0196a3f0c2e1d2c4b7e9a05"; /* a key's shape: prefix, time, random */
    size_t n = strlen(key);
    entry *e = aligned_alloc(64, (sizeof(entry) + 63) & ~(size_t)63); /* C11: a multiple of the alignment */
    if (!e) return fputs("floors: out of memory\n", stderr), 1;
    memset(e, 0, sizeof *e);
    for (size_t k = 0; 8 * k < n; k++) {
        uint64_t w = 0;
        memcpy(&w, key + 8 * k, n - 8 * k >= 8 ? 8 : n - 8 * k);
        e->words[1 + k] = w;
    }
    e->state = n | (1u << 8) | (7ull << 32);
    uint64_t hash = key_hash(key, n, x->seed);
    slots[hash & 63] = (hash >> 48) << 48 | (uintptr_t)e;
    double best[2] = {1e9, 1e9};
    for (int round = 0; round < 3; round++)
        for (int which = 0; which < 2; which++) {
            double per = time_calls(which, host, key, 20000000 / scale);
            if (per < 0) return fputs("floors: the is_streaming floor failed its own lookup\n", stderr), 1;
            if (per < best[which]) best[which] = per;
        }
    printf("is_streaming_ns %.2f\nplain_call_ns %.2f\n", best[1], best[0]);
    free(e), free(slots), free(x), free(c), free(host);
    return 0;
}

/* ---- rate_limit ------------------------------------------------------------------------ */

typedef struct { uint32_t length; char key[20]; uint16_t count, head; uint64_t stamps[32]; } window;
static window **windows;
static const uint32_t window_mask = 16383;
static pthread_mutex_t windows_lock = PTHREAD_MUTEX_INITIALIZER;

static bool check(const char *key, uint64_t now, uint64_t window_ns, uint32_t limit) {
    size_t n = strlen(key);
    uint64_t hash = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) hash = (hash ^ (unsigned char)key[i]) * 0x100000001B3ull;
    hash ^= hash >> 29;
    pthread_mutex_lock(&windows_lock);
    uint32_t i = hash & window_mask;
    window *w;
    while ((w = windows[i]) && !(w->length == n && !memcmp(w->key, key, n))) i = (i + 1) & window_mask;
    if (!w) {
        w = calloc(1, sizeof *w);
        w->length = (uint32_t)n;
        memcpy(w->key, key, n);
        windows[i] = w;
    }
    while (w->count && now - w->stamps[w->head] >= window_ns) w->head = (w->head + 1) & 31, w->count--;
    bool allowed = w->count < limit;
    if (allowed) w->stamps[(w->head + w->count++) & 31] = now;
    pthread_mutex_unlock(&windows_lock);
    return allowed;
}

static int run_rate_limit(void) {
    windows = calloc(window_mask + 1, sizeof *windows);
    static char keys[10000][16];
    for (int k = 0; k < 10000; k++) snprintf(keys[k], sizeof keys[k], "198.51.%u.%u", k / 256, k % 256);
    uint64_t window_ns = 600000ull * 1000000, allowed = 0, start = ns(CLOCK_MONOTONIC);
    for (int i = 0; i < 300000; i++) allowed += check(keys[i % 10000], ns(CLOCK_MONOTONIC), window_ns, 30);
    double allowed_ns = (double)(ns(CLOCK_MONOTONIC) - start) / 300000;
    /* The allowed pass fills every key to its limit and cannot shrink; the refused one can. */
    const int refused = 3000000 / (int)scale;
    start = ns(CLOCK_MONOTONIC);
    for (int i = 0; i < refused; i++) allowed += check(keys[i % 10000], ns(CLOCK_MONOTONIC), window_ns, 30);
    double refused_ns = (double)(ns(CLOCK_MONOTONIC) - start) / refused;
    if (allowed != 300000) return fprintf(stderr, "floors: the rate_limit floor allowed %llu, not 300000\n", (unsigned long long)allowed), 1;
    volatile uint64_t sink = 0;
    start = ns(CLOCK_MONOTONIC);
    for (int i = 0; i < refused; i++) sink += ns(CLOCK_MONOTONIC);
    printf("rate_limit_allowed_ns %.1f\nrate_limit_refused_ns %.1f\nclock_ns %.1f\n", allowed_ns, refused_ns,
           (double)(ns(CLOCK_MONOTONIC) - start) / refused);
    for (uint32_t i = 0; i <= window_mask; i++) free(windows[i]);
    free(windows);
    return 0;
}

/* ---- store ----------------------------------------------------------------------------- */

static sqlite3 *db;
static int fail(const char *what) { return fprintf(stderr, "floors: store: %s: %s\n", what, sqlite3_errmsg(db)), 1; }
#define SQL(statement) if (sqlite3_exec(db, statement, NULL, NULL, NULL) != SQLITE_OK) return fail(statement)
#define TEXT(s, i, v) sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT)

/* A commit's runs: their keys, and the first run's number. */
#define MAX_COMMIT_RUNS 1024
static int commit_runs = 128;
static char keys[MAX_COMMIT_RUNS][64], run_ids[MAX_COMMIT_RUNS][64];
static uint64_t first_run, at = 1764000000000ull;

/* Each binds row `row` of its table (a commit has one session and run, two messages and
 * events, per run) at parameter `p` on. */
static void bind_session(sqlite3_stmt *s, int p, int row) {
    TEXT(s, p, keys[row]), TEXT(s, p + 1, keys[row] + 9), TEXT(s, p + 2, "operator"), TEXT(s, p + 3, "local/instant");
    sqlite3_bind_null(s, p + 4), sqlite3_bind_null(s, p + 5), TEXT(s, p + 6, "{\"allow\":[],\"deny\":[]}");
    sqlite3_bind_int(s, p + 7, 600), sqlite3_bind_int64(s, p + 8, (int64_t)(at + first_run + row)), sqlite3_bind_null(s, p + 9);
}
static void bind_message(sqlite3_stmt *s, int p, int row) {
    int seq = row % 2;
    TEXT(s, p, keys[row / 2]), sqlite3_bind_int(s, p + 1, seq), TEXT(s, p + 2, seq ? "assistant" : "user");
    TEXT(s, p + 3, seq ? "You said: hello" : "hello"), sqlite3_bind_null(s, p + 4), sqlite3_bind_null(s, p + 5);
    sqlite3_bind_null(s, p + 6), sqlite3_bind_int(s, p + 7, 0), TEXT(s, p + 8, run_ids[row / 2]);
    sqlite3_bind_int64(s, p + 9, (int64_t)(at + first_run + row / 2));
}
static void bind_run(sqlite3_stmt *s, int p, int row) {
    TEXT(s, p, run_ids[row]), TEXT(s, p + 1, keys[row]), TEXT(s, p + 2, "hello"), TEXT(s, p + 3, "operator");
    TEXT(s, p + 4, "completed"), TEXT(s, p + 5, "You said: hello"), sqlite3_bind_null(s, p + 6), sqlite3_bind_int(s, p + 7, 1);
    sqlite3_bind_int64(s, p + 8, (int64_t)(first_run + row + 1));
}
static void bind_event(sqlite3_stmt *s, int p, int row) {
    int seq = row % 2;
    TEXT(s, p, run_ids[row / 2]), sqlite3_bind_int(s, p + 1, seq), TEXT(s, p + 2, seq ? "finished" : "turn");
    TEXT(s, p + 3, seq ? "{\"status\":\"completed\",\"duration_ms\":1}" : "{\"text\":\"You said: hello\"}");
    sqlite3_bind_int64(s, p + 4, (int64_t)(at + first_run + row / 2));
}

/* A table's INSERT as the writer makes it (PincerStore/CommitRows.swift): statements of
 * 32, 8 and 1 rows. */
static const int chunks[] = {32, 8, 1};
typedef struct { int columns; void (*bind)(sqlite3_stmt *, int, int); sqlite3_stmt *statements[3]; } table_insert;

static int prepare_table(table_insert *t, const char *insert, int columns, const char *upsert, void (*bind)(sqlite3_stmt *, int, int)) {
    t->columns = columns, t->bind = bind;
    for (int c = 0; c < 3; c++) {
        char sql[8192];
        int n = snprintf(sql, sizeof sql, "%s VALUES ", insert);
        for (int row = 0; row < chunks[c]; row++) {
            n += snprintf(sql + n, sizeof sql - (size_t)n, row ? ", (" : "(");
            for (int column = 0; column < columns; column++) n += snprintf(sql + n, sizeof sql - (size_t)n, column ? ", ?" : "?");
            n += snprintf(sql + n, sizeof sql - (size_t)n, ")");
        }
        snprintf(sql + n, sizeof sql - (size_t)n, "%s", upsert);
        if (sqlite3_prepare_v2(db, sql, -1, &t->statements[c], NULL) != SQLITE_OK) return fail(insert);
    }
    return 0;
}

static int insert_rows(const table_insert *t, int rows) {
    for (int start = 0, c = 0; start < rows; start += chunks[c]) {
        while (chunks[c] > rows - start) c++;
        sqlite3_stmt *s = t->statements[c];
        for (int row = 0; row < chunks[c]; row++) t->bind(s, 1 + row * t->columns, start + row);
        if (sqlite3_step(s) != SQLITE_DONE || sqlite3_reset(s) != SQLITE_OK) return fail("step");
        sqlite3_clear_bindings(s);
    }
    return 0;
}

static int run_store(const char *directory) {
    char path[4096];
    snprintf(path, sizeof path, "%s/floor.sqlite", directory);
    if (sqlite3_open(path, &db) != SQLITE_OK) return fail(path);
    SQL("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
    /* The store's schema (PincerStore/SQLiteStore.swift, migrations v1 to v4). */
    SQL("CREATE TABLE sessions (key TEXT PRIMARY KEY NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL, model TEXT NOT NULL,"
        " label TEXT, system_prompt TEXT, tool_policy TEXT NOT NULL, timeout_seconds INTEGER NOT NULL, created_at INTEGER NOT NULL,"
        " parent_key TEXT);"
        "CREATE TABLE messages (session_key TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE, seq INTEGER NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, tool_calls TEXT, tool_call_id TEXT, tool_name TEXT, is_error INTEGER NOT NULL,"
        " run_id TEXT, at INTEGER NOT NULL, PRIMARY KEY (session_key, seq));"
        "CREATE TABLE runs (id TEXT PRIMARY KEY NOT NULL, session_key TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE,"
        " message TEXT NOT NULL, owner TEXT NOT NULL, status TEXT NOT NULL, final_text TEXT, error TEXT, duration_ms INTEGER NOT NULL,"
        " position INTEGER NOT NULL);"
        "CREATE INDEX runs_by_position ON runs(position);"
        "CREATE INDEX runs_by_session ON runs(session_key);"
        "CREATE TABLE run_events (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL, kind TEXT NOT NULL,"
        " detail TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (run_id, seq))");
    table_insert sessions, messages, runs_table, events;
    if (prepare_table(&sessions, "INSERT INTO sessions (key, id, owner, model, label, system_prompt, tool_policy, timeout_seconds,"
                                 " created_at, parent_key)", 10, "", bind_session)
        || prepare_table(&messages, "INSERT OR REPLACE INTO messages (session_key, seq, role, content, tool_calls, tool_call_id,"
                                    " tool_name, is_error, run_id, at)", 10, "", bind_message)
        || prepare_table(&runs_table, "INSERT INTO runs (id, session_key, message, owner, status, final_text, error, duration_ms,"
                                      " position)", 9, " ON CONFLICT(id) DO UPDATE SET status = excluded.status, final_text ="
                                      " excluded.final_text, error = excluded.error, duration_ms = excluded.duration_ms", bind_run)
        || prepare_table(&events, "INSERT OR REPLACE INTO run_events (run_id, seq, kind, detail, at)", 5, "", bind_event))
        return 1;
    const int runs = 10000 / (int)scale;
    uint64_t cpu = ns(CLOCK_PROCESS_CPUTIME_ID);
    for (first_run = 0; first_run < (uint64_t)runs; first_run += (uint64_t)commit_runs) {
        int count = runs - (int)first_run < commit_runs ? runs - (int)first_run : commit_runs;
        for (int row = 0; row < count; row++) {
            uint64_t i = first_run + (uint64_t)row, random = i * 0x9E3779B97F4A7C15ull >> 16;
            snprintf(keys[row], sizeof keys[row], "operator:%011llx%012llx", (unsigned long long)(at + i), (unsigned long long)random);
            snprintf(run_ids[row], sizeof run_ids[row], "run-%011llx%012llx", (unsigned long long)(at + i),
                     (unsigned long long)(random ^ 0xABCDEF));
        }
        SQL("BEGIN");
        if (insert_rows(&sessions, count) || insert_rows(&messages, 2 * count) || insert_rows(&runs_table, count)
            || insert_rows(&events, 2 * count))
            return 1;
        SQL("COMMIT");
    }
    printf("store_cpu_us_per_run %.1f\n", (double)(ns(CLOCK_PROCESS_CPUTIME_ID) - cpu) / 1e3 / runs);
    table_insert *tables[] = {&sessions, &messages, &runs_table, &events};
    for (int t = 0; t < 4; t++)
        for (int c = 0; c < 3; c++) sqlite3_finalize(tables[t]->statements[c]);
    return sqlite3_close(db) == SQLITE_OK ? 0 : fail("close");
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "--quick")) scale = 100, argc--, argv++;
    if (argc >= 2 && !strcmp(argv[1], "is_streaming")) return run_is_streaming();
    if (argc >= 2 && !strcmp(argv[1], "rate_limit")) return run_rate_limit();
    if (argc >= 3 && !strcmp(argv[1], "store")) {
        if (argc >= 4) {
            char *end;
            long n = strtol(argv[3], &end, 10);
            if (*end || n < 1 || n > MAX_COMMIT_RUNS) return fprintf(stderr, "floors: store: runs a commit must be 1 to %d, not '%s'\n", MAX_COMMIT_RUNS, argv[3]), 64;
            commit_runs = (int)n;
        }
        return run_store(argv[2]);
    }
    fputs("usage: floors [--quick] is_streaming | rate_limit | store DIRECTORY [RUNS_PER_COMMIT]\n", stderr);
    return 64;
}
