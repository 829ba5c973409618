/*
 * pincer/gateway.h — a plugin's own JSON-RPC methods and HTTP routes on the
 * gateway of `pincer serve`.
 *
 * Extension id "pincer.gateway/1" (@since 1.1; see "Versions" below):
 *
 *     const pincer_gateway_v1 *gw = host->get_extension(host, PINCER_GATEWAY_EXTENSION_ID);
 *     if (gw == NULL) { ... no gateway here (an older host): degrade ... }
 *
 * The capability "gateway.serve" is needed to register (PINCER_ERR_DENIED
 * without it). A host that serves no network (`pincer run`) still hands out
 * the table: registrations succeed and simply receive no request.
 *
 * ---- Names and paths ---------------------------------------------------------
 *
 * A method is named like a tool (tools.h): "<plugin-id>.<name>", the name
 * 1 to 31 characters of [a-z][a-z0-9_-]*. Clients call it through the same
 * JSON-RPC 2.0 endpoint as the host's own methods (POST /rpc and the
 * WebSocket at /rpc), always with the operator's token when one is set.
 *
 * A route's path is given relative to the plugin's prefix: "/agent-card" is
 * served at "/plugins/<plugin-id>/agent-card". It starts with "/", holds only
 * [A-Za-z0-9._~-] segments separated by single "/", no "." or ".." segment,
 * at most PINCER_GATEWAY_PATH_MAX_BYTES. PINCER_GATEWAY_ROUTE_PREFIX makes it
 * match everything below it too. The operator may alias a well-known path to
 * a route (config gateway.aliases: {"/.well-known/agent-card.json":
 * "/plugins/a2a-bridge/agent-card"}); a plugin can never claim a path outside
 * its prefix itself.
 *
 * A route needs the operator's token (when one is set) unless it is
 * registered PINCER_GATEWAY_ROUTE_PUBLIC: then anyone who can reach the
 * server can call it, and the plugin does its own auth (an A2A endpoint is
 * called by other people's agents). request->principal says whether the
 * caller presented the operator's token.
 *
 * ---- Requests and replies ----------------------------------------------------
 *
 * Each request reaches the handler once, with a reply handle. The handler
 * should return quickly: answer at once, or keep the handle (copy whatever
 * else of the request it needs: its pointers live only during the call) and
 * answer later from any thread. Every request is answered exactly once:
 *  - a method by reply_result or reply_error;
 *  - a route by respond (the whole response), or by stream_start, any
 *    number of stream_write, then stream_end (chunked transfer: server-sent
 *    events, long downloads).
 * A handle that is not pending (answered already, timed out, its client
 * gone, or never handed out) gets PINCER_ERR_NOT_FOUND and changes nothing;
 * the wrong kind of answer (respond to a method) gets
 * PINCER_ERR_INVALID_ARGUMENT and leaves the request pending.
 *
 * A request not answered — for a route, not started — within the operator's
 * gateway.pluginReplyTimeoutMs (default 30000 ms) is answered by the host
 * (HTTP 504; a JSON-RPC error -32007, PINCER_ERR_TIMEOUT) and its handle is
 * forgotten. When the plugin stops, its pending requests are answered with
 * HTTP 503 / -32003 (PINCER_ERR_SHUT_DOWN). A streamed response has no
 * timeout once started; it ends when the plugin ends it, the client goes
 * away (stream_write then answers PINCER_ERR_SHUT_DOWN: call stream_end and
 * stop), or the plugin stops.
 *
 * Bounds: PINCER_GATEWAY_MAX_PENDING_REPLIES requests per plugin may wait for
 * an answer at once (past it the client gets HTTP 503 / -32006 and the
 * handler is not called); a streamed response holds at most
 * PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES written and not yet sent
 * (stream_write answers PINCER_ERR_WOULD_BLOCK past it: write again later).
 *
 * ---- Lifetime ------------------------------------------------------------------
 *
 * Registrations follow tools.h's rules: host->unregister withdraws one, and
 * the definition's release callback runs once after its last handler call
 * has returned. Withdrawing does not cancel requests already handed to the
 * plugin: their handles stay valid until answered.
 *
 * ---- Versions ------------------------------------------------------------------
 *
 * This table is the first part of ABI 1.1. Minor 1.1 is numbered once 1.0
 * is final; until then a 1.0-rc host serves it for review, and the table
 * may still change with a note in CHANGES. A plugin finds it through
 * get_extension only — never by the host's version — so it degrades the same
 * on every host without it.
 *
 * @since 1.1
 */
#ifndef PINCER_GATEWAY_H
#define PINCER_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "platform.h"
#include "result.h"
#include "tools.h"

PINCER_EXTERN_C_BEGIN

#define PINCER_GATEWAY_EXTENSION_ID "pincer.gateway/1"

/* The capability register_method and register_route need (entry.h's list). */
#define PINCER_CAP_GATEWAY_SERVE "gateway.serve"

/* Bounds on a plugin's gateway registrations and requests. */
#define PINCER_GATEWAY_MAX_METHODS_PER_PLUGIN 64u
#define PINCER_GATEWAY_MAX_ROUTES_PER_PLUGIN 64u
#define PINCER_GATEWAY_NAME_MAX_BYTES 64u
#define PINCER_GATEWAY_DESCRIPTION_MAX_BYTES (4u << 10)
#define PINCER_GATEWAY_PATH_MAX_BYTES 256u
#define PINCER_GATEWAY_MAX_PENDING_REPLIES 256u
/* A method's result, an error message, a whole response body (bytes). */
#define PINCER_GATEWAY_REPLY_MAX_BYTES (16u << 20)
#define PINCER_GATEWAY_MAX_RESPONSE_HEADERS 64u
#define PINCER_GATEWAY_HEADER_MAX_BYTES (8u << 10)
#define PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES (1u << 20)

/* One pending request; 0 is never one. A plain number: a stale or forged one
 * is refused (PINCER_ERR_NOT_FOUND), never dereferenced. */
typedef uint64_t pincer_gateway_reply;

/* pincer_gateway_request.kind (int32_t). */
typedef enum pincer_gateway_request_kind {
    /* A JSON-RPC call of one of the plugin's methods. */
    PINCER_GATEWAY_METHOD = 0,
    /* An HTTP request on one of the plugin's routes. */
    PINCER_GATEWAY_ROUTE = 1
} pincer_gateway_request_kind;

/* One HTTP header. Not sized: it never grows. */
typedef struct pincer_gateway_header {
    const char *name;
    const char *value;
} pincer_gateway_header;

/* A request handed to a handler. Host-written (extension.h): read a field only
 * when struct_size covers it. Every pointer is owned by the host and valid only
 * during the handler call; `reply` stays valid until answered. */
typedef struct pincer_gateway_request {
    /* sizeof(pincer_gateway_request) as the host was compiled. */
    uint32_t struct_size;
    /* A pincer_gateway_request_kind. */
    int32_t kind;
    /* Answer it through the table below, once, from any thread. */
    pincer_gateway_reply reply;
    /* METHOD: the full method name, "<plugin-id>.<name>". ROUTE: the HTTP
     * method, upper-case ("GET", "POST", …). */
    const char *method;
    /* ROUTE: the path the client asked for, without the query
     * ("/plugins/<plugin-id>/…", or the alias the operator configured).
     * METHOD: NULL. */
    const char *path;
    /* ROUTE: the query string without its "?" ("" when none). METHOD: NULL. */
    const char *query;
    /* ROUTE: the request's headers, names lower-case, in order (a name may
     * repeat). METHOD: NULL and 0. */
    const pincer_gateway_header *headers;
    size_t header_count;
    /* METHOD: the params as JSON text ("null" when the call had none).
     * ROUTE: the request body (any bytes; body_len 0 when none). Either way a
     * NUL follows the last byte (not counted in body_len), so JSON text can be
     * read as a C string; a body may hold NULs of its own. */
    const uint8_t *body;
    size_t body_len;
    /* "operator" when the caller presented the operator's token (or the
     * server has none), NULL otherwise: only a PUBLIC route sees NULL. */
    const char *principal;
    /* The client's address as "ip:port". */
    const char *client_address;
} pincer_gateway_request;

/*
 * Handles one request. [gateway-thread] Called on a host thread kept for
 * gateway requests, never on a server's event loop: calls may overlap, for
 * one registration too. `context` is the definition's, unchanged. Answer
 * through request->reply before returning, or keep it and answer later.
 */
typedef void (PINCER_ABI *pincer_gateway_handler)(void *context, const pincer_gateway_request *request);

/* What register_method copies. A request struct (extension.h); struct_size
 * must reach `handler`. Owned by the plugin; needed only during the call. */
typedef struct pincer_gateway_method_definition {
    /* sizeof(pincer_gateway_method_definition) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. "<plugin-id>.<name>" (see "Names and paths" above). */
    const char *name;
    /* Optional (NULL). What it does, listed by the host's rpc.methods. */
    const char *description;
    /* Required. */
    pincer_gateway_handler handler;
    /* Optional. Handed back to handler and release as is. */
    void *context;
    /* Optional (NULL). As in tools.h: once, after the registration is
     * withdrawn and its last handler call has returned. */
    pincer_release_fn release;
} pincer_gateway_method_definition;

/* pincer_gateway_route_definition.flags */
/* The route matches its path and every path below it ("/a2a" → "/a2a/x/y"). */
#define PINCER_GATEWAY_ROUTE_PREFIX 1u
/* Served without the operator's token: the plugin does its own auth. */
#define PINCER_GATEWAY_ROUTE_PUBLIC 2u

/* What register_route copies. A request struct; struct_size must reach
 * `handler`. Owned by the plugin; needed only during the call. */
typedef struct pincer_gateway_route_definition {
    /* sizeof(pincer_gateway_route_definition) as the plugin was compiled. */
    uint32_t struct_size;
    /* PINCER_GATEWAY_ROUTE_* bits; any other bit is PINCER_ERR_INVALID_ARGUMENT. */
    uint32_t flags;
    /* Optional (NULL = every method). "GET", "POST", … upper-case. */
    const char *method;
    /* Required. Relative to "/plugins/<plugin-id>", starting with "/". */
    const char *path;
    /* Required. */
    pincer_gateway_handler handler;
    /* Optional. Handed back to handler and release as is. */
    void *context;
    /* Optional (NULL). As in tools.h. */
    pincer_release_fn release;
} pincer_gateway_route_definition;

/* An HTTP response (or, for stream_start, its head). A request struct
 * (extension.h); struct_size must reach `header_count`. Owned by the plugin;
 * the host copies it during the call. */
typedef struct pincer_gateway_response {
    /* sizeof(pincer_gateway_response) as the plugin was compiled. */
    uint32_t struct_size;
    /* 200 to 599. */
    uint32_t status;
    /* Optional (NULL, 0). At most PINCER_GATEWAY_MAX_RESPONSE_HEADERS, each
     * name a token and value without CR or LF, together at most
     * PINCER_GATEWAY_HEADER_MAX_BYTES. The host sets content-length (or
     * chunked transfer) itself and ignores those two names. */
    const pincer_gateway_header *headers;
    size_t header_count;
    /* respond: the whole body (NULL and 0 for none), at most
     * PINCER_GATEWAY_REPLY_MAX_BYTES. stream_start: must be NULL and 0. */
    const uint8_t *body;
    size_t body_len;
} pincer_gateway_response;

/* The table get_extension(host, PINCER_GATEWAY_EXTENSION_ID) returns. Owned by
 * the host, valid until the plugin is dead. Every function is [any-thread]
 * and takes the plugin's own host handle first. */
typedef struct pincer_gateway_v1 {
    /* sizeof(pincer_gateway_v1) as the host was compiled. */
    uint32_t struct_size;

    /* Registers a method; *out receives its handle for host->unregister.
     * PINCER_ERR_INVALID_ARGUMENT for a bad name or a name it already
     * registered; PINCER_ERR_LIMIT past PINCER_GATEWAY_MAX_METHODS_PER_PLUGIN;
     * PINCER_ERR_DENIED without "gateway.serve". */
    pincer_result (PINCER_ABI *register_method)(const pincer_host *host, const pincer_gateway_method_definition *definition,
                                                pincer_registration *out);

    /* Registers a route; as register_method, and INVALID_ARGUMENT for a bad
     * path, unknown flags, or a method and path it already registered. */
    pincer_result (PINCER_ABI *register_route)(const pincer_host *host, const pincer_gateway_route_definition *definition,
                                               pincer_registration *out);

    /* Answers a METHOD with its result, JSON text of any type. Answers it
     * with an error instead (-32603, "the plugin's result is not JSON") when
     * the text is not JSON, and returns PINCER_ERR_INVALID_ARGUMENT. */
    pincer_result (PINCER_ABI *reply_result)(const pincer_host *host, pincer_gateway_reply reply, const char *result_json);

    /* Answers a METHOD with a JSON-RPC error: `code` as the plugin chooses
     * (-32000 to -32099 are the server's range; see the gateway's error codes in
     * the README), `message` required. */
    pincer_result (PINCER_ABI *reply_error)(const pincer_host *host, pincer_gateway_reply reply, int32_t code,
                                            const char *message);

    /* Answers a ROUTE with a whole response. */
    pincer_result (PINCER_ABI *respond)(const pincer_host *host, pincer_gateway_reply reply,
                                        const pincer_gateway_response *response);

    /* Starts a streamed answer to a ROUTE: status and headers now, the body
     * in stream_write calls. */
    pincer_result (PINCER_ABI *stream_start)(const pincer_host *host, pincer_gateway_reply reply,
                                             const pincer_gateway_response *head);

    /* Sends the next bytes of a started stream (len 0 is allowed and sends
     * nothing). PINCER_ERR_WOULD_BLOCK: the client has
     * PINCER_GATEWAY_STREAM_MAX_QUEUED_BYTES not yet sent (nothing of these
     * was taken; write again later). PINCER_ERR_SHUT_DOWN: the client went
     * away or the plugin is stopping: call stream_end. */
    pincer_result (PINCER_ABI *stream_write)(const pincer_host *host, pincer_gateway_reply reply, const uint8_t *data,
                                             size_t len);

    /* Ends a started stream; the handle is answered. */
    pincer_result (PINCER_ABI *stream_end)(const pincer_host *host, pincer_gateway_reply reply);
} pincer_gateway_v1;

PINCER_EXTERN_C_END

#endif /* PINCER_GATEWAY_H */
