/* http.h: the HTTP API server (Faasm-compatible). Two listeners: the invoke
 * server (POST / with a message JSON: sync, async, status polls, planner-style
 * EXECUTE_BATCH / EXECUTE_BATCH_STATUS; GET /ping, /healthz, /metrics) and
 * the upload server (PUT /f/<user>/<func> functions, PUT|GET /s/<user>/<key>
 * state, GET /ping). Calls go to an executor (src/exec); the server never
 * blocks a thread per waiting client: a sync call's connection is suspended
 * until the executor's on_finish callback resumes it. */
#ifndef FL_HTTP_HTTP_H
#define FL_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/error.h"

struct exec;
struct state_store;
struct http_server;

#define HTTP_DEFAULT_PORT 8080
#define HTTP_DEFAULT_UPLOAD_PORT 8002
#define HTTP_DEFAULT_MAX_BODY (64u << 20)  /* bytes of one request body */
#define HTTP_DEFAULT_MAX_RESULTS 100000u   /* async results kept for polling */
#define HTTP_DEFAULT_INLINE_US 1000u       /* see http_config.inline_us */

enum http_log_level { HTTP_LOG_ERROR = 0, HTTP_LOG_WARN, HTTP_LOG_INFO, HTTP_LOG_DEBUG };

struct http_config {
    const char *bind_address;   /* IPv4 address to listen on; NULL: 127.0.0.1 */
    uint16_t port;              /* invoke server; 0 = any free port */
    uint16_t upload_port;       /* upload server; 0 = any free port */
    uint32_t threads;           /* invoke server's event threads; 0 = 2 */
    size_t max_body;            /* 0 = HTTP_DEFAULT_MAX_BODY */
    uint32_t max_results;       /* 0 = HTTP_DEFAULT_MAX_RESULTS */
    uint32_t call_timeout_ms;   /* the executor's per-call limit (for messages only) */
    /* A sync call runs right on the HTTP event thread (no handoff to a
     * worker, no suspend/resume) when the same function's last call ran for
     * at most this many microseconds; 0 = HTTP_DEFAULT_INLINE_US; with
     * no_inline, never. A first call, or one after a slow call, goes to the
     * executor's workers, so a long call never stalls the event loop twice. */
    uint32_t inline_us;
    bool no_inline;
    const char *store_dir;      /* function store (resolved path, required) */
    struct exec *exec;          /* runs the calls (not owned, required) */
    struct state_store *state;  /* state for /s/ (not owned; NULL: /s/ answers 501) */
    enum http_log_level log_level;
    FILE *log;                  /* NULL: stderr */
};

/* Starts both listeners. Owned by the caller: http_server_destroy. */
struct http_server *http_server_create(const struct http_config *config, struct fl_error *err);

/* The port a listener is bound to (useful with port 0). */
uint16_t http_server_port(const struct http_server *server, bool upload);

/* Stops accepting connections, answers new requests on open connections
 * with 503, and waits up to timeout_ms (< 0: forever) for every request and
 * call in flight (sync and async) to finish. Returns the number still in
 * flight when it gave up (0: drained). */
uint32_t http_server_drain(struct http_server *server, int timeout_ms);

/* Stops the listeners and frees the server (after http_server_drain, so no
 * call is still suspended). Does not destroy the executor or state. */
void http_server_destroy(struct http_server *server);

#endif
