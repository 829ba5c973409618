/*
 * workspace-tools: two tools that take a path and a command, the kind a
 * policy plugin (SamplePlugins/swift/session-envelope) restricts.
 *
 *   workspace-tools.read_file    {"path": "notes/todo.txt"}  reads a file inside
 *                                the workspace directory: config "workspace" (an
 *                                absolute path) when set, else the session's,
 *                                which the call carries (engine.workspaceDir) and
 *                                a policy plugin's hook event carries alike
 *   workspace-tools.run_command  {"command": "date"|"uname"|"echo", "text": "…"}
 *                                runs one of a fixed, harmless set; echo prints text
 *
 * The tools keep their own floor whatever a policy says: read_file refuses an
 * absolute path, any ".." component, and a symlink that leads outside the
 * workspace; run_command runs nothing outside its set, and never a shell.
 */
#define _XOPEN_SOURCE 700 /* realpath, posix_spawn */
#include <pincer/pincer.h>

#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RESULT_MAX_BYTES (64u << 10)

static const pincer_host *host;
static char configured_workspace[PATH_MAX]; /* config "workspace", resolved at init; "" when unset */

/* Hands `text` to the host as a tool's *out_text (host->alloc'd, the host frees it). */
static char *host_text(const char *text) {
    size_t n = strlen(text) + 1;
    char *copy = host->alloc(host, n);
    if (copy) memcpy(copy, text, n);
    return copy;
}

static pincer_result fail(char **out_text, const char *message) {
    *out_text = host_text(message);
    return PINCER_ERR_PLUGIN;
}

/* ---- A little JSON: the string value of one top-level member ------------- */

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Reads the JSON string at p (at its quote) into out (NULL: just skip it);
 * returns the position after it, NULL when malformed or over capacity. */
static const char *read_string(const char *p, char *out, size_t capacity) {
    size_t n = 0;
    if (*p++ != '"') return NULL;
    while (*p != '"') {
        unsigned c = (unsigned char)*p++;
        if (c == 0) return NULL;
        if (c == '\\') {
            switch (*p++) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            default: return NULL; /* \u escapes: not needed by any argument these tools take */
            }
        }
        if (out) {
            if (n + 1 >= capacity) return NULL;
            out[n++] = (char)c;
        }
    }
    if (out) out[n] = 0;
    return p + 1;
}

/* Skips one JSON value of any kind; NULL when malformed. */
static const char *skip_value(const char *p) {
    p = skip_space(p);
    if (*p == '"') return read_string(p, NULL, 0);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_space(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                p = read_string(skip_space(p), NULL, 0);
                if (!p || *(p = skip_space(p)) != ':') return NULL;
                p++;
            }
            if (!(p = skip_value(p))) return NULL;
            p = skip_space(p);
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    while (*p && strchr(",}] \t\r\n", *p) == NULL) p++; /* number, true, false, null */
    return p;
}

/* The string member `key` of the JSON object `json` into out; 1 when found, 0 otherwise. */
static int string_member(const char *json, const char *key, char *out, size_t capacity) {
    char name[64];
    const char *p = skip_space(json);
    if (*p++ != '{') return 0;
    p = skip_space(p);
    if (*p == '}') return 0;
    for (;;) {
        if (!(p = read_string(skip_space(p), name, sizeof name))) return 0;
        if (*(p = skip_space(p)) != ':') return 0;
        p = skip_space(p + 1);
        if (strcmp(name, key) == 0) return *p == '"' && read_string(p, out, capacity) != NULL;
        if (!(p = skip_value(p))) return 0;
        p = skip_space(p);
        if (*p++ != ',') return 0;
    }
}

/* ---- read_file ------------------------------------------------------------ */

static pincer_result read_file(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    char path[PATH_MAX], joined[PATH_MAX * 2], resolved[PATH_MAX], workspace[PATH_MAX];
    const char *root_dir = configured_workspace[0] ? configured_workspace
                           : PINCER_STRUCT_HAS(call, pincer_tool_call, workspace_dir) ? call->workspace_dir : NULL;
    if (!root_dir || !realpath(root_dir, workspace)) return fail(out_text, "read_file: the workspace directory is unknown or gone");
    if (!string_member(call->arguments_json, "path", path, sizeof path))
        return fail(out_text, "read_file needs a string argument 'path'");
    if (path[0] == '/') return fail(out_text, "read_file takes a path relative to the workspace, not an absolute one");
    for (const char *part = path; part; part = strchr(part, '/') ? strchr(part, '/') + 1 : NULL) {
        if (strncmp(part, "..", 2) == 0 && (part[2] == '/' || part[2] == 0))
            return fail(out_text, "read_file refuses '..': the path must stay inside the workspace");
    }
    snprintf(joined, sizeof joined, "%s/%s", workspace, path);
    if (!realpath(joined, resolved)) return fail(out_text, "read_file: no such file in the workspace");
    size_t root = strlen(workspace);
    if (strncmp(resolved, workspace, root) != 0 || resolved[root] != '/')
        return fail(out_text, "read_file refuses a link that leads outside the workspace");
    FILE *file = fopen(resolved, "r");
    if (!file) return fail(out_text, "read_file: the file cannot be opened");
    char *text = host->alloc(host, RESULT_MAX_BYTES + 1);
    if (!text) {
        fclose(file);
        return fail(out_text, "read_file: out of memory");
    }
    size_t n = fread(text, 1, RESULT_MAX_BYTES, file);
    fclose(file);
    text[n] = 0;
    *out_text = text;
    return PINCER_OK;
}

/* ---- run_command ---------------------------------------------------------- */

static pincer_result run_command(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    char command[16], text[1024] = "";
    if (!string_member(call->arguments_json, "command", command, sizeof command))
        return fail(out_text, "run_command needs a string argument 'command'");
    char *argv[3] = {command, NULL, NULL};
    if (strcmp(command, "echo") == 0) {
        string_member(call->arguments_json, "text", text, sizeof text);
        argv[1] = text;
    } else if (strcmp(command, "date") != 0 && strcmp(command, "uname") != 0) {
        return fail(out_text, "run_command runs only date, uname and echo");
    }
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return fail(out_text, "run_command: no pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    pid_t pid;
    extern char **environ;
    int spawned = posix_spawnp(&pid, command, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (spawned != 0) {
        close(pipe_fds[0]);
        return fail(out_text, "run_command: the command could not start");
    }
    char *output = host->alloc(host, RESULT_MAX_BYTES + 1);
    size_t n = 0;
    ssize_t got;
    while (output && n < RESULT_MAX_BYTES && (got = read(pipe_fds[0], output + n, RESULT_MAX_BYTES - n)) > 0) n += (size_t)got;
    close(pipe_fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) == -1) {}
    if (!output) return fail(out_text, "run_command: out of memory");
    while (n > 0 && output[n - 1] == '\n') n--;
    output[n] = 0;
    *out_text = output;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        host->free(host, output);
        return fail(out_text, "run_command: the command failed");
    }
    return PINCER_OK;
}

/* ---- the plugin ----------------------------------------------------------- */

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t capacity) {
    (void)path;
    host = h;
    char *config = NULL, configured[PATH_MAX] = "";
    if (h->get_config(h, &config) != PINCER_OK) {
        snprintf(error, capacity, "cannot read my config: %s", h->last_error(h));
        return PINCER_ERR_PLUGIN;
    }
    int has_workspace = string_member(config, "workspace", configured, sizeof configured);
    h->free(h, config);
    if (has_workspace && (configured[0] != '/' || !realpath(configured, configured_workspace))) {
        snprintf(error, capacity, "config \"workspace\" must be an existing absolute directory, not '%s'", configured);
        return PINCER_ERR_PLUGIN;
    }
    pincer_tool_definition tools[] = {
        {.struct_size = sizeof(pincer_tool_definition), .name = "workspace-tools.read_file",
         .description = "Reads a text file inside the workspace directory; 'path' is relative to it.",
         .parameters_json = "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":[\"path\"]}",
         .group = "workspace-tools.files", .invoke = read_file},
        {.struct_size = sizeof(pincer_tool_definition), .name = "workspace-tools.run_command",
         .description = "Runs date, uname, or echo with 'text'; nothing else.",
         .parameters_json = "{\"type\":\"object\",\"properties\":{\"command\":{\"enum\":[\"date\",\"uname\",\"echo\"]},"
                            "\"text\":{\"type\":\"string\"}},\"required\":[\"command\"]}",
         .group = "workspace-tools.commands", .invoke = run_command},
    };
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        if (h->register_tool(h, &tools[i], NULL) != PINCER_OK) {
            snprintf(error, capacity, "cannot register %s: %s", tools[i].name, h->last_error(h));
            return PINCER_ERR_PLUGIN;
        }
    }
    return PINCER_OK;
}

static void shutdown(const pincer_host *h) { (void)h; }

static const char *const capabilities[] = {PINCER_CAP_TOOLS_REGISTER, NULL};
static const pincer_plugin_descriptor descriptor = {
    sizeof(pincer_plugin_descriptor), "workspace-tools", "Workspace tools", "0.1.0",
    "Reads files inside the workspace and runs date, uname or echo: tools for a policy to restrict.",
    capabilities, PINCER_SOURCE_LANGUAGE, NULL};

PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor,
                                                        init, NULL, shutdown, NULL};
