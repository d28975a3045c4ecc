/* state_redis.h: the Redis backend of the global state tier (hiredis), for
 * several faaslet processes or hosts sharing state. It implements struct
 * state_global_ops of state.h; the key layout is documented in docs/STATE.md. */
#ifndef FL_STATE_STATE_REDIS_H
#define FL_STATE_STATE_REDIS_H

#include "state/state.h"

#define STATE_REDIS_CONNECT_TIMEOUT_MS 2000u
#define STATE_REDIS_COMMAND_TIMEOUT_MS 30000u
#define STATE_REDIS_MAX_VALUE_BYTES (512ull << 20) /* Redis's string limit */

struct state_redis_config {
    const char *host;            /* name or address; required */
    int port;                    /* 1..65535 */
    uint32_t connect_timeout_ms; /* 0 = STATE_REDIS_CONNECT_TIMEOUT_MS */
    uint32_t command_timeout_ms; /* per socket read/write; 0 = STATE_REDIS_COMMAND_TIMEOUT_MS */
    uint32_t max_idle_connections; /* pooled between calls; 0 = 8 */
};

/* Creates the Redis backend; connects once so that a wrong address or a
 * Redis that is down fails here (FL_ERR_IO, "redis HOST:PORT: connection
 * refused"). Later failures are per operation; it reconnects by itself.
 * Caller owns the result (ops->destroy, or hand it to a state store). */
struct state_global *state_global_redis_create(const char *host, int port, struct fl_error *err);

/* Same with every setting (cfg is copied). */
struct state_global *state_global_redis_create_with(const struct state_redis_config *cfg,
                                                    struct fl_error *err);

/* Same from "HOST:PORT" (as the CLI's --redis takes it; "[v6addr]:PORT" too). */
struct state_global *state_global_redis_create_addr(const char *addr, struct fl_error *err);

/* Writes the Redis key of (user, key) plus suffix ("", ":append", ":lock")
 * into out (cap bytes, NUL-terminated); returns its length, or 0 if it does
 * not fit. Exposed for tests and tools that read the tier with redis-cli. */
size_t state_redis_key(const char *user, const char *key, const char *suffix, char *out,
                       size_t cap);

#endif
