/* exec.h: calls. A message describes one call of a function (by name, or
 * by function pointer inside the same module); an executor runs calls on
 * Faaslets with a pool of worker threads. Each call runs on its own fiber,
 * multiplexed over the workers: a call blocked awaiting another gives its
 * worker back, so chains deeper or wider than the pool never deadlock. */
#ifndef FL_EXEC_EXEC_H
#define FL_EXEC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faaslet/faaslet.h"
#include "util/error.h"

enum exec_status {
    EXEC_QUEUED = 0,
    EXEC_RUNNING,
    EXEC_DONE,     /* finished; return_value says how (0 = success) */
    EXEC_FAILED,   /* trapped, timed out, missing function...: output holds the error */
};

/* One call. Strings and buffers are owned by the message (exec_msg_fini). */
struct exec_msg {
    uint32_t id;
    uint32_t app_id;
    uint32_t parent_id;          /* the call that chained this one, 0 if none */
    uint32_t depth;              /* chain depth, 0 for a submitted call */
    char user[FAASLET_MAX_NAME + 1];
    char function[FAASLET_MAX_NAME + 1];
    uint8_t *input;
    size_t input_len;
    uint8_t *output;
    size_t output_len;
    int32_t return_value;
    int32_t func_ptr;            /* -1: main (_start); else _faasm_call_ptr(func_ptr) */
    char *cmdline;               /* may be NULL */
    uint64_t submit_ns, start_ns, finish_ns; /* CLOCK_REALTIME nanoseconds */
    char executing_host[64];
    enum exec_status status;
};

/* Frees what msg owns and zeroes it. */
void exec_msg_fini(struct exec_msg *msg);

/* What to run: exec_submit copies everything. */
struct exec_request {
    const char *user;
    const char *function;
    const uint8_t *input;
    size_t input_len;
    const char *cmdline;         /* NULL: no arguments */
    int32_t func_ptr;            /* -1: main */
    uint32_t app_id;
    /* Optional: called once when this submitted call finishes (its result
     * is then ready for exec_await(id, 0)), on a worker thread without the
     * executor's lock; must not block. Not called for calls abandoned by
     * exec_destroy. Ignored for chained calls. */
    void (*on_finish)(void *data, uint32_t id);
    void *on_finish_data;
};

struct exec_config {
    const char *store_dir;       /* function store (faaslet_store_dir resolves NULL) */
    const char *files_dir;       /* per-user WASI roots <files_dir>/<user>; NULL: no files */
    uint32_t workers;            /* worker threads; 0 = 4 */
    size_t fiber_stack;          /* bytes of native stack per call; 0 = 256 KiB */
    struct faaslet_config faaslet; /* max memory, bounds checks, state store */
    uint32_t timeout_ms;         /* wall-clock limit per call; 0 = none */
    uint32_t max_chain_depth;    /* 0 = 64 */
    uint32_t max_chained_calls;  /* per call; 0 = 100000 */
    uint32_t idle_faaslets;      /* kept warm per function; 0 = 64 */
    const char *const *conf_flags; /* NULL-terminated names of flags that are on */
};

struct exec;

/* Starts an executor and its workers. Destroy with exec_destroy. */
struct exec *exec_create(const struct exec_config *config, struct fl_error *err);

/* Stops the workers (calls still queued are abandoned) and frees everything. */
void exec_destroy(struct exec *exec);

/* Queues a call; returns its id (> 0), or 0 with err set. */
uint32_t exec_submit(struct exec *exec, const struct exec_request *req, struct fl_error *err);

/* Like exec_submit, but starts the call on the calling thread: it runs
 * there until it finishes or blocks (awaiting a chained call, sleeping),
 * then a worker carries on with it. If it finished, on_finish has run on
 * this thread before this returns. For short calls from a thread that would
 * only wait for them (the HTTP server): no worker wakeup, no handoff. The
 * caller must hold no lock the call's callbacks take. */
uint32_t exec_submit_inline(struct exec *exec, const struct exec_request *req,
                            struct fl_error *err);

/* Waits up to timeout_ms (< 0: forever) for call id and copies its message
 * into *out (caller frees with exec_msg_fini). FL_ERR_NOT_FOUND for an unknown
 * id, FL_ERR_LIMIT if it has not finished in time. */
int exec_await(struct exec *exec, uint32_t id, int timeout_ms, struct exec_msg *out,
               struct fl_error *err);

/* Forgets a finished submitted call (its chained calls go with it). */
void exec_release(struct exec *exec, uint32_t id);

/* Drops every cached proto-faaslet and idle Faaslet of (user, function), so
 * the next call loads the store's current module (after an upload). */
void exec_forget_function(struct exec *exec, const char *user, const char *function);

/* Counters for tests and benchmarks. */
struct exec_stats {
    uint64_t calls_started, calls_finished;
    uint64_t faaslets_created, faaslets_reused;
    uint64_t fibers_created;
    uint32_t calls_blocked;      /* right now, waiting in await or sleep */
    uint32_t faaslets_idle;      /* right now, warm and waiting for a call */
};
void exec_stats_get(struct exec *exec, struct exec_stats *out);

#endif
